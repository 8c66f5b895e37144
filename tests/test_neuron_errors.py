"""Bad input to the fused LIF gets a clear Python error before any kernel runs."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.lif_reference import PARAMS

from spikegrad import _native
from spikegrad.neuron import LIF, lif

X = jnp.ones((4, 3), jnp.float32)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(spk_reset="none"), ValueError, "spk_reset"),
        (dict(dt=0.0), ValueError, "dt must be > 0"),
        (dict(dt=-1.0), ValueError, "dt must be > 0"),
        (dict(tau=0.0), ValueError, "tau must be > 0"),
        (dict(tau=np.array([1.0, -1.0, 2.0])), ValueError, "tau must be > 0"),
        (dict(V_th=0.5, V_reset=0.5), ValueError, "V_th must differ"),
        (dict(V_th=np.array([1.0, 0.0, 1.0]), V_reset=0.0), ValueError, "V_th must differ"),
        (dict(tau=np.ones(4)), ValueError, "does not broadcast"),
        (dict(R=1 + 2j), TypeError, "real"),
        (dict(R="a"), TypeError, "real"),
        (dict(V_rest=np.nan), ValueError, "finite"),
        (dict(spk_fun=3), TypeError, "spk_fun"),
    ],
)
def test_bad_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        lif(X, **(PARAMS | kwargs))


@pytest.mark.parametrize(
    "x, error, match",
    [
        (jnp.ones((4, 3), jnp.int32), TypeError, "real floating"),
        (jnp.ones((4, 3), jnp.complex64), TypeError, "real floating"),
        (jnp.ones((4, 3), bool), TypeError, "real floating"),
        (jnp.float32(1.0), ValueError, "time-major"),
        ("abc", TypeError, "real floating"),
    ],
)
def test_bad_inputs(x, error, match):
    with pytest.raises(error, match=match):
        lif(x, **PARAMS)


def test_v0_shape_and_dtype():
    with pytest.raises(ValueError, match="v0 of shape"):
        lif(X, jnp.zeros((4,)), **PARAMS)
    with pytest.raises(ValueError, match="v0 of shape"):
        lif(X, jnp.zeros((2, 3)), **PARAMS)
    with pytest.raises(TypeError, match="floating"):
        lif(X, jnp.zeros((3,), jnp.int32), **PARAMS)


def test_errors_under_jit_are_raised_at_trace_time():
    with pytest.raises(ValueError, match="dt must be > 0"):
        jax.jit(lambda x: lif(x, **(PARAMS | dict(dt=-0.1))))(X)


def test_native_validation_matches():
    """The kernel's own checks refuse what the Python layer refuses."""
    with pytest.raises(ValueError, match="V_th must differ"):
        _native.check_lif("relu_grad", [0.3, 1.0], [0.5, 0.0, 0.5, 1.0, 1.0], False)
    with pytest.raises(ValueError, match="decay"):
        _native.check_lif("relu_grad", [0.3, 1.0], [1.5, 0.0, 0.5, 1.0, 0.0], False)
    with pytest.raises(ValueError, match="unknown surrogate"):
        _native.check_lif("nope", [], [0.5, 0.0, 0.5, 1.0, 0.0], False)
    _native.check_lif("relu_grad", [0.3, 1.0], [0.5, 0.0, 0.5, 1.0, 0.0], True)


def test_module_rejects_bad_reset():
    with pytest.raises(ValueError, match="spk_reset"):
        LIF(3, spk_reset="x")
