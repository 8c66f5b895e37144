"""The package as installed: one version number, the typing files, the
public names of ``spikegrad.surrogate`` (braintools' own, plus the base class
of the native surrogates), and the documented class -> native name table."""

import importlib.metadata
import inspect
import re
from pathlib import Path

import braintools.surrogate as bt

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
