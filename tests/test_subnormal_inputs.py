"""Negative subnormal inputs, for all 18 surrogates and their functional forms.

XLA on CPU reads subnormal inputs as zero, so braintools steps -1e-45
(float32), -9.18e-41 (bfloat16) and -5e-324 (float64) to 1. The step is the
same whichever lowering runs (the Rust kernel or the XLA-native code) and, on
CPU, equals braintools'. float16 subnormals are normal float32 numbers once
widened, and step to 0 there as in braintools. The surrogate gradient at
these inputs is g'(0) from either lowering.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest
from helpers.family import PARAMS
from helpers.reference import assert_matches
from helpers.x64 import enable_x64

import spikegrad.surrogate as sg
from spikegrad._formulas import xla_grad
from spikegrad._primitives import xla_spike

NAMES = sorted(PARAMS)


def _functional_forms():
    forms = {}
    for attr in sg.__all__:
        obj = getattr(sg, attr)
        if callable(obj) and not isinstance(obj, type):
            match = re.search(r"^Spike function with the (\w+) surrogate gradient", obj.__doc__ or "")
            if match:
                forms[match[1]] = obj
    return forms


FUNCTIONAL = _functional_forms()


def _inputs(dtype):
    """Negative subnormals (smallest, largest), zero, the smallest negative normal
    and a positive subnormal, in ``dtype``."""
    info = ml_dtypes.finfo(dtype)
    bits = np.dtype(dtype).itemsize * 8
    uint = {16: np.uint16, 32: np.uint32, 64: np.uint64}[bits]
    smallest = np.array([1], dtype=uint).view(dtype)[0]
    largest_sub = np.array([int(info.smallest_normal.view(uint)) - 1], dtype=uint).view(dtype)[0]
    values = [-smallest, -largest_sub, -info.smallest_normal, -0.0, 0.0, smallest, -1.0]
    return np.asarray(values, dtype=dtype)


DTYPES = {
    "float32": np.float32,
    "bfloat16": ml_dtypes.bfloat16,
    "float16": np.float16,
    "float64": np.float64,
}


@pytest.fixture(params=sorted(DTYPES))
def dtype(request):
    if request.param == "float64":
        with enable_x64():
            yield DTYPES[request.param]
    else:
        yield DTYPES[request.param]


def test_inputs_are_what_they_claim(dtype):
    x = _inputs(dtype)
    info = ml_dtypes.finfo(dtype)
    assert np.all(np.abs(x[:2].astype(np.float64)) < float(info.smallest_normal))
    assert np.all(x[:2] < 0)


def _steps(name, x):
    xs = jnp.asarray(x)
    f = getattr(sg, name)()
    fn = FUNCTIONAL[name]
    return {
        "eager": f(xs),
        "jit": jax.jit(f)(xs),
        "vmap": jax.vmap(f)(xs),
        "functional": fn(xs),
        "functional_jit": jax.jit(fn)(xs),
        "xla": jax.jit(xla_spike)(xs),
    }


@pytest.mark.braintools_rules
@pytest.mark.parametrize("name", NAMES)
def test_step_is_the_same_on_every_lowering_and_matches_braintools(name, dtype):
    import braintools.surrogate as bt

    x = _inputs(dtype)
    want = np.asarray(getattr(bt, name)()(jnp.asarray(x)))
    for how, got in _steps(name, x).items():
        got = np.asarray(got)
        assert got.dtype == x.dtype, how
        np.testing.assert_array_equal(got.astype(np.float64), want.astype(np.float64), err_msg=f"{how} {x}")


def test_which_subnormals_step_to_one(dtype):
    """Independent of braintools: what XLA's CPU code gives."""
    x = _inputs(dtype)
    got = np.asarray(sg.Sigmoid()(jnp.asarray(x))).astype(np.float64)
    flushed = np.dtype(dtype) != np.dtype(np.float16)
    assert list(got[:2]) == ([1.0, 1.0] if flushed else [0.0, 0.0])
    assert list(got[2:]) == [0.0, 1.0, 1.0, 1.0, 0.0]


@pytest.mark.parametrize("name", NAMES)
def test_gradient_at_subnormals_is_the_same_on_both_lowerings(name, dtype):
    x = jnp.asarray(_inputs(dtype))
    f = getattr(sg, name)()
    t = jnp.full_like(x, 1.5)
    kernel = jax.vjp(f, x)[1](t)[0]
    xla = jax.jit(lambda a, b: xla_grad(a, b, surrogate=f._native_name, params=f._static_params()))(x, t)
    want = np.asarray(xla, dtype=np.float64)
    peak = max(1.0, float(np.max(np.abs(want))))
    assert_matches(kernel, want, 1.5, peak, where=f"{name} {np.dtype(dtype)}")


@pytest.mark.parametrize("name", ["LeakyRelu", "S2NN", "LogTailedRelu"])
def test_subnormals_on_the_threaded_path(name):
    """Above the threading threshold the kernels run on XLA's worker threads:
    still subnormals read as zero (g' is one-sided at 0 for these)."""
    n = 2 * 32768 + 5
    x = jnp.full((n,), -np.float32(1e-45), dtype=jnp.float32)
    f = getattr(sg, name)()
    kernel = jax.jit(lambda v: jax.vjp(f, v)[1](jnp.ones_like(v))[0])(x)
    at_zero = jax.jit(lambda v: jax.vjp(f, v)[1](jnp.ones_like(v))[0])(jnp.zeros((n,), jnp.float32))
    np.testing.assert_array_equal(np.asarray(kernel), np.asarray(at_zero))
    assert np.all(np.asarray(f(x)) == 1.0)
