"""Fused LIF dtypes: float16/bfloat16 inputs are computed in float32 (the
potentials returned and saved in float32, spikes in the input's dtype), equal
to the float32 computation on the widened input; float64 stays float64."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest
from helpers.lif_reference import PARAMS, inputs, numpy_lif

import spikegrad.surrogate as sg
from spikegrad.neuron import lif


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_half_precision_is_computed_in_float32(dtype):
    x, v0 = inputs(30, 20, (4, 32), dtype=dtype)
    s, v = lif(x, v0, **PARAMS, return_v=True)
    assert s.dtype == dtype and v.dtype == jnp.float32
    s32, v32 = lif(x.astype(jnp.float32), v0.astype(jnp.float32), **PARAMS, return_v=True)
    np.testing.assert_array_equal(np.asarray(s, np.float32), np.asarray(s32))
    np.testing.assert_array_equal(np.asarray(v), np.asarray(v32))
    want_s, _ = numpy_lif(np.asarray(x, np.float64), np.asarray(v0, np.float64), **PARAMS)
    np.testing.assert_array_equal(np.asarray(s, np.float64), want_s)


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_half_precision_grad(dtype):
    x, v0 = inputs(31, 15, (3, 16), dtype=dtype)

    def loss(x, v0, cast):
        return jnp.sum(
            lif(x.astype(cast), v0.astype(cast), **PARAMS, spk_fun=sg.MultiGaussianGrad()).astype(jnp.float32)
        )

    gx, gv = jax.grad(loss, (0, 1))(x, v0, dtype)
    assert gx.dtype == dtype and gv.dtype == dtype
    wx, wv = jax.grad(loss, (0, 1))(x.astype(jnp.float32), v0.astype(jnp.float32), jnp.float32)
    np.testing.assert_array_equal(np.asarray(gx, np.float32), np.asarray(wx.astype(dtype), np.float32))
    np.testing.assert_array_equal(np.asarray(gv, np.float32), np.asarray(wv.astype(dtype), np.float32))


def test_float8_input_takes_the_scan_path():
    x, v0 = inputs(32, 10, (8,))
    x8 = x.astype(ml_dtypes.float8_e4m3fn)
    s = lif(x8, v0, **PARAMS)
    assert s.dtype == x8.dtype
    np.testing.assert_array_equal(np.asarray(s, np.float32), np.asarray(lif(x8.astype(jnp.float32), v0, **PARAMS)))
