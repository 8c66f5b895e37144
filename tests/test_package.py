"""The package as installed: one version number, the typing files, the
public names of ``spikegrad.surrogate`` (braintools' own, plus the base class
of the native surrogates), and the documented class -> native name table."""

import importlib.metadata
import inspect
import re
from pathlib import Path

import braintools.surrogate as bt
from helpers.isolated import run_python

import spikegrad
import spikegrad.surrogate as sg
from spikegrad import _native


def test_version_is_the_installed_distributions():
    """Cargo.toml holds the number; the wheel's metadata and the extension both take it."""
    assert spikegrad.__version__ == importlib.metadata.version("spikegrad")
    assert spikegrad.__version__ == _native.__version__


def test_typing_files_are_installed():
    files = {f.name for f in importlib.metadata.files("spikegrad") if f.parts[0] == "spikegrad"}
    assert {"py.typed", "_native.pyi"} <= files


def test_surrogate_names_are_braintools_names():
    assert len(sg.__all__) == len(set(sg.__all__))
    assert set(sg.__all__) == set(bt.__all__) | {"NativeSurrogate"}
    for name in sg.__all__:
        ours, theirs = getattr(sg, name), getattr(bt, name, None)
        assert isinstance(ours, type) == isinstance(theirs, type) or name == "NativeSurrogate", name


def test_every_public_surrogate_is_listed():
    """Nothing public is left out of ``__all__``: each surrogate class and functional form is in it."""
    public = {
        name
        for name, value in vars(sg).items()
        if not name.startswith("_")
        and (
            (inspect.isclass(value) and issubclass(value, sg.Surrogate))
            or (inspect.isfunction(value) and value.__module__ == "spikegrad.surrogate")
        )
    }
    assert public == set(sg.__all__)


def test_documented_native_names():
    """docs/family.md's "Class and native name" table is the code's: every native
    surrogate once, with its native name and the file that defines it."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "family.md").read_text()
    section = text.split("## Class and native name", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| `python/spikegrad/surrogate/(\w+)\.py` \| `(\w+)` \|", section, re.M)
    native = {
        n: getattr(sg, n)
        for n in sg.__all__
        if inspect.isclass(getattr(sg, n)) and n not in ("Surrogate", "NativeSurrogate")
    }
    assert sorted(r[0] for r in rows) == sorted(native)
    for cls_name, module, native_name in rows:
        cls = native[cls_name]
        assert cls._native_name == native_name, cls_name
        assert cls.__module__ == f"spikegrad.surrogate.{module}", cls_name
    assert set(_native.surrogates()) == {r[2] for r in rows}


def test_import_needs_only_the_dependencies_and_keeps_float64():
    """``import spikegrad`` works without the optional brainstate (only
    ``spikegrad.neuron.LIF`` needs it, with a clear error) and leaves jax's
    float64 setting as the user set it (importing brainstate turns it off)."""
    code = """
import sys
sys.modules["brainstate"] = None  # not installed
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import spikegrad
from spikegrad.neuron import lif
assert jax.config.jax_enable_x64, "import spikegrad turned float64 off"
x = jnp.ones((3, 2), jnp.float64)
assert lif(x, dt=0.5).dtype == jnp.float64
assert float(jax.grad(lambda v: spikegrad.MultiGaussianGrad()(v))(0.0)) > 0
try:
    spikegrad.neuron.LIF
except ImportError as e:
    assert "brainstate" in str(e) and "pip install brainstate" in str(e), e
else:
    raise AssertionError("LIF without brainstate")
print("ok")
"""
    result = run_python(code)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]


def test_lif_module_is_importable_by_name():
    from spikegrad.neuron import LIF

    assert LIF is spikegrad.neuron.LIF and LIF.__module__ == "spikegrad.neuron._module"
    assert "LIF" in spikegrad.neuron.__all__
