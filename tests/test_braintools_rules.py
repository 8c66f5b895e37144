"""The braintools rules setting: detection from package metadata, the override
and its context manager, bad values, jit re-tracing when it changes, and the
two rules that are not about derivatives (integer inputs, equality of a
user's subclass), checked against braintools itself where the installed
release has that rule."""

from __future__ import annotations

import importlib.metadata

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.isolated import run_python

import spikegrad
import spikegrad.surrogate as sg
from spikegrad import _rules

pytestmark = pytest.mark.braintools_rules

INSTALLED = importlib.metadata.version("braintools")


@pytest.fixture
def fake_braintools(monkeypatch):
    """Pretend the installed braintools is ``version`` (None: not installed)."""

    def install(version):
        real = importlib.metadata.version

        def version_of(name):
            if name != "braintools":
                return real(name)
            if version is None:
                raise importlib.metadata.PackageNotFoundError(name)
            return version

        monkeypatch.setattr(importlib.metadata, "version", version_of)
        _rules.detected_rules.cache_clear()

    yield install
    monkeypatch.undo()
    _rules.detected_rules.cache_clear()


@pytest.mark.parametrize(
    "version, want",
    [("0.3.0", "0.3"), ("0.3.7", "0.3"), ("0.2.1", "0.3"), ("0.4.0", "0.4"), ("0.4.2rc1", "0.4"), ("0.12.0", "0.4"),
     ("1.0", "0.4"), (None, "0.4"), ("garbage", "0.4")],
)  # fmt: skip
def test_detection_follows_the_installed_release(fake_braintools, version, want):
    fake_braintools(version)
    assert _rules.detected_rules() == want
    assert spikegrad.braintools_rules_in_force() == want  # "auto" is the default
    for forced in ("0.3", "0.4"):
        with spikegrad.braintools_rules(forced):
            assert spikegrad.braintools_rules_in_force() == forced
    assert spikegrad.braintools_rules_in_force() == want


def test_detection_in_a_fresh_process_reads_metadata_without_importing_braintools():
    major_minor = tuple(int(p) for p in INSTALLED.split(".")[:2])
    want = "0.4" if major_minor >= (0, 4) else "0.3"
    r = run_python(
        """
        import sys
        import jax.numpy as jnp
        import spikegrad, spikegrad.surrogate as sg
        sg.Sigmoid()(jnp.ones(3))
        print(spikegrad.braintools_rules_in_force(), "braintools" in sys.modules)
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [want, "False"]


def test_set_and_context_manager_override_and_restore():
    try:
        spikegrad.set_braintools_rules("0.3")
        assert spikegrad.braintools_rules_in_force() == "0.3"
        with spikegrad.braintools_rules("0.4"):
            assert spikegrad.braintools_rules_in_force() == "0.4"
        assert spikegrad.braintools_rules_in_force() == "0.3"
        spikegrad.set_braintools_rules("0.4")
        assert spikegrad.braintools_rules_in_force() == "0.4"
    finally:
        spikegrad.set_braintools_rules("auto")
    assert spikegrad.braintools_rules_in_force() == _rules.detected_rules()


@pytest.mark.parametrize("bad", ["0.5", "0.3.0", "", "AUTO", None, 0.4, 3])
def test_bad_values_raise_where_they_are_set(bad):
    before = spikegrad.braintools_rules_in_force()
    with pytest.raises(ValueError, match="braintools_rules"):
        spikegrad.set_braintools_rules(bad)
    with pytest.raises(ValueError, match="braintools_rules"):
        spikegrad.braintools_rules(bad)
    assert spikegrad.braintools_rules_in_force() == before


def test_changing_the_rules_retraces_under_jit():
    traces = []
    f = sg.Sigmoid(alpha=3.0)

    @jax.jit
    def second(x):
        traces.append(spikegrad.braintools_rules_in_force())
        return jax.grad(jax.grad(f))(x)

    x = jnp.float32(0.3)
    with spikegrad.braintools_rules("0.3"):
        a = second(x)
    with spikegrad.braintools_rules("0.4"):
        b = second(x)
    with spikegrad.braintools_rules("0.3"):
        c = second(x)
    assert traces == ["0.3", "0.4"]
    assert float(a) == 0.0 == float(c)
    # g''(x) of alpha * s(1 - s), s = logistic(alpha x), in float64
    s = 1.0 / (1.0 + np.exp(-3.0 * 0.3))
    assert float(b) == pytest.approx(3.0 * 3.0 * s * (1 - s) * (1 - 2 * s), rel=1e-5)


# ---- integer, bool and Python-number inputs -------------------------------


INPUTS = {
    "int32": lambda: jnp.array([-2, 0, 3], dtype=jnp.int32),
    "bool": lambda: jnp.array([True, False]),
    "python_int": lambda: -1,
    "python_true": lambda: True,
    "python_float": lambda: 0.5,
    "uint8": lambda: np.array([0, 7], dtype=np.uint8),
}


@pytest.mark.parametrize("kind", sorted(INPUTS))
@pytest.mark.parametrize("cls", ["Sigmoid", "ReluGrad", "MultiGaussianGrad"])
def test_non_float_inputs_under_04_rules_become_the_default_float(kind, cls):
    x = INPUTS[kind]()
    with spikegrad.braintools_rules("0.4"):
        y = getattr(sg, cls)()(x)
        g = jax.grad(lambda v: getattr(sg, cls)()(v).sum())(jnp.asarray(x).astype(float))
    assert y.dtype == jnp.result_type(float)
    np.testing.assert_array_equal(np.asarray(y), (np.asarray(x, dtype=np.float64) >= 0).astype(np.float64))
    assert g.dtype == jnp.result_type(float)


@pytest.mark.parametrize("kind", ["int32", "uint8"])
def test_integer_inputs_under_03_rules_keep_their_dtype(kind):
    x = INPUTS[kind]()
    with spikegrad.braintools_rules("0.3"):
        y = sg.Sigmoid()(x)
    assert y.dtype == np.asarray(x).dtype
    np.testing.assert_array_equal(np.asarray(y), (np.asarray(x) >= 0).astype(np.asarray(x).dtype))


@pytest.mark.parametrize("kind", sorted(INPUTS))
@pytest.mark.parametrize("cls", ["Sigmoid", "PiecewiseQuadratic", "SlayerGrad"])
def test_non_float_inputs_match_the_installed_braintools(kind, cls):
    """Same dtype and values as the installed braintools. Where braintools
    fails (0.3 raises AttributeError for a Python bool), the step in the
    input's jnp dtype."""
    import braintools.surrogate as bt

    x = INPUTS[kind]()
    got = getattr(sg, cls)()(x)
    try:
        want = getattr(bt, cls)()(x)
    except AttributeError:
        assert spikegrad.braintools_rules_in_force() == "0.3"
        want = jnp.asarray(np.asarray(x) >= 0, dtype=jnp.asarray(x).dtype)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


# ---- equality of a user's subclass ------------------------------------------


class Tanh(sg.Surrogate):
    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def surrogate_grad(self, x):
        return self.alpha * 0.5 * (1 - jnp.tanh(self.alpha * x) ** 2)


def test_user_subclass_equality_under_04_rules():
    with spikegrad.braintools_rules("0.4"):
        assert Tanh(2.0) == Tanh(2.0) and hash(Tanh(2.0)) == hash(Tanh(2.0))
        assert Tanh(2.0) != Tanh(3.0)
        a = np.array([1.0, 2.0])
        assert Tanh(a) == Tanh(a)  # the same array object
        assert Tanh(a) != Tanh(a.copy())  # arrays compare by identity
        assert hash(Tanh(a)) == hash(Tanh(a.copy()))  # hashable all the same
        assert Tanh(2.0) != sg.Sigmoid(alpha=2.0)


def test_user_subclass_identity_under_03_rules():
    with spikegrad.braintools_rules("0.3"):
        a = Tanh(2.0)
        assert a == a and a != Tanh(2.0)
        assert hash(a) == object.__hash__(a)


def test_equal_user_surrogates_as_static_jit_arguments_compile_once():
    traces = []

    def step(f, x):
        traces.append(1)
        return f(x)

    jitted = jax.jit(step, static_argnums=0)
    x = jnp.linspace(-1, 1, 5)
    with spikegrad.braintools_rules("0.4"):
        jitted(Tanh(2.0), x)
        jitted(Tanh(2.0), x)
        assert len(traces) == 1
        jitted(Tanh(3.0), x)
        assert len(traces) == 2
    with spikegrad.braintools_rules("0.3"):
        jitted(Tanh(2.0), x)
        jitted(Tanh(2.0), x)
    assert len(traces) == 4


def test_user_subclass_equality_matches_the_installed_braintools():
    import braintools.surrogate as bt

    class BtTanh(bt.Surrogate):
        def __init__(self, alpha=1.0):
            super().__init__()
            self.alpha = alpha

    assert (Tanh(2.0) == Tanh(2.0)) == (BtTanh(2.0) == BtTanh(2.0))
