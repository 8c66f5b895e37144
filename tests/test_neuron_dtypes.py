"""Fused neuron dtypes (LIF, ALIF, CubaLIF): float16/bfloat16 inputs are
computed in float32 (the states returned and saved in float32, spikes in
the input's dtype), equal to the float32 computation on the widened input;
float32 and float64 stay themselves; float8 takes the lax.scan path."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest
from helpers.neuron_reference import MODELS, PARAMS, Z0_NAMES, inputs, numpy_run

import spikegrad.surrogate as sg
from spikegrad import neuron


def call(model, x, z0, **kw):
    return getattr(neuron, model)(x, **dict(zip(Z0_NAMES[model], z0)), **PARAMS[model], **kw)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_half_precision_is_computed_in_float32(model, dtype):
    x, z0 = inputs(30, 20, (4, 32), model, dtype=dtype)
    s, states = call(model, x, z0, return_states=True)
    assert s.dtype == dtype and all(z.dtype == jnp.float32 for z in states)
    wide = tuple(z.astype(jnp.float32) for z in z0)
    s32, states32 = call(model, x.astype(jnp.float32), wide, return_states=True)
    np.testing.assert_array_equal(np.asarray(s, np.float32), np.asarray(s32))
    for a, b in zip(states, states32):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    want_s, _ = numpy_run(model, np.asarray(x, np.float64), tuple(np.asarray(z, np.float64) for z in z0), PARAMS[model])
    np.testing.assert_array_equal(np.asarray(s, np.float64), want_s)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_half_precision_grad(model, dtype):
    x, z0 = inputs(31, 15, (3, 16), model, dtype=dtype)

    def loss(x, z0, cast):
        s = call(model, x.astype(cast), tuple(z.astype(cast) for z in z0), spk_fun=sg.MultiGaussianGrad())
        return jnp.sum(s.astype(jnp.float32))

    gx, gz = jax.grad(loss, (0, 1))(x, z0, dtype)
    assert gx.dtype == dtype and all(g.dtype == dtype for g in gz)
    wx, wz = jax.grad(loss, (0, 1))(x.astype(jnp.float32), tuple(z.astype(jnp.float32) for z in z0), jnp.float32)
    np.testing.assert_array_equal(np.asarray(gx, np.float32), np.asarray(wx.astype(dtype), np.float32))
    for a, b in zip(gz, wz):
        np.testing.assert_array_equal(np.asarray(a, np.float32), np.asarray(b.astype(dtype), np.float32))


def _tn_converts(text, steps, n):
    """The lines of a compiled HLO text that convert a ``[steps, n]`` array."""
    return [line for line in text.splitlines() if " convert(" in line and f"[{steps},{n}]" in line]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_half_precision_runs_in_the_kernels(model, dtype):
    """The compiled CPU programs of a half-precision forward and of its vjp pass
    x, the spikes and their cotangents to the custom calls as they are: no
    convert of a [T, N] array outside them. The results equal the float32
    computation on the widened input, rounded once."""
    steps, n = 23, 136
    x, z0 = inputs(34, steps, (n,), model, dtype=dtype)
    wide = tuple(z.astype(jnp.float32) for z in z0)
    ct = jnp.asarray(np.random.default_rng(3).normal(size=(steps, n)), dtype)

    def fwd(x):
        return call(model, x, wide, spk_fun=sg.MultiGaussianGrad())

    def grad(x, ct):
        _, pull = jax.vjp(fwd, x)
        return pull(ct)[0]

    for f, args in ((fwd, (x,)), (grad, (x, ct))):
        text = jax.jit(f).lower(*args).compile().as_text()
        assert "spikegrad_neuron_forward" in text
        assert _tn_converts(text, steps, n) == []
    assert "spikegrad_neuron_bptt" in jax.jit(grad).lower(x, ct).compile().as_text()
    s, g = fwd(x), grad(x, ct)
    assert s.dtype == dtype and g.dtype == dtype
    x32 = x.astype(jnp.float32)
    np.testing.assert_array_equal(np.asarray(s, np.float32), np.asarray(fwd(x32)))
    want = grad(x32, ct.astype(jnp.float32)).astype(dtype)
    np.testing.assert_array_equal(np.asarray(g, np.float32), np.asarray(want, np.float32))


@pytest.mark.parametrize("model", MODELS)
def test_float32_and_float64_keep_their_dtype(model, x64):
    for dtype in (jnp.float32, jnp.float64):
        x, z0 = inputs(32, 6, (5,), model, dtype=dtype)
        s, states = call(model, x, z0, return_states=True)
        assert s.dtype == dtype and all(z.dtype == dtype for z in states)
        g = jax.grad(lambda x, tau: jnp.sum(call(model, x, z0, spk_fun=sg.Sigmoid())), (0,))(x, 1.0)
        assert g[0].dtype == dtype


@pytest.mark.parametrize("model", MODELS)
def test_float8_input_takes_the_scan_path(model):
    x, z0 = inputs(33, 10, (8,), model)
    x8 = x.astype(ml_dtypes.float8_e4m3fn)
    s = call(model, x8, z0)
    assert s.dtype == x8.dtype
    assert "scan" in str(jax.make_jaxpr(lambda x: call(model, x, z0))(x8))
    np.testing.assert_array_equal(np.asarray(s, np.float32), np.asarray(call(model, x8.astype(jnp.float32), z0)))
