"""Fused LIF forward values: against brainpy.state.LIF itself and against the
float64 NumPy loop, both resets, float32 and float64, several surrogates
(the forward does not depend on the surrogate's shape, only on the step)."""

from __future__ import annotations

import braintools
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.lif_reference import PARAMS, brainpy_lif, inputs, numpy_lif

import spikegrad.surrogate as sg
from spikegrad.neuron import lif


def _spike_rate_is_mixed(spikes):
    rate = float(np.mean(np.asarray(spikes)))
    assert 0.05 < rate < 0.95, rate


@pytest.mark.parametrize("reset", ["soft", "hard"])
@pytest.mark.parametrize("shape", [(7,), (3, 50), (2, 3, 300)])
def test_matches_numpy_float32(reset, shape):
    x, v0 = inputs(1, 25, shape)
    spikes, v = lif(x, v0, **PARAMS, spk_reset=reset, return_v=True)
    want_s, want_v = numpy_lif(x, v0, **PARAMS, hard=reset == "hard")
    assert spikes.dtype == jnp.float32 and v.dtype == jnp.float32
    assert spikes.shape == v.shape == x.shape
    np.testing.assert_array_equal(np.asarray(spikes), want_s)
    np.testing.assert_allclose(np.asarray(v), want_v, rtol=0, atol=2e-6 * max(1.0, np.abs(want_v).max()))
    _spike_rate_is_mixed(spikes)


@pytest.mark.parametrize("reset", ["soft", "hard"])
def test_matches_numpy_float64(reset, x64):
    x, v0 = inputs(2, 40, (4, 33), dtype=np.float64)
    spikes, v = lif(x, v0, **PARAMS, spk_reset=reset, return_v=True)
    want_s, want_v = numpy_lif(x, v0, **PARAMS, hard=reset == "hard")
    assert spikes.dtype == jnp.float64 and v.dtype == jnp.float64
    np.testing.assert_array_equal(np.asarray(spikes), want_s)
    np.testing.assert_allclose(np.asarray(v), want_v, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("reset", ["soft", "hard"])
@pytest.mark.parametrize(
    "ours, theirs",
    [
        (sg.ReluGrad(), braintools.surrogate.ReluGrad()),
        (sg.MultiGaussianGrad(), braintools.surrogate.MultiGaussianGrad()),
        (sg.Sigmoid(alpha=2.0), braintools.surrogate.Sigmoid(alpha=2.0)),
    ],
)
def test_matches_brainpy_state(reset, ours, theirs):
    x, v0 = inputs(3, 30, (5, 64))
    spikes, v = lif(x, v0, **PARAMS, spk_fun=ours, spk_reset=reset, return_v=True)
    want_s, want_v = brainpy_lif(x, v0, **PARAMS, spk_fun=theirs, hard=reset == "hard")
    np.testing.assert_array_equal(np.asarray(spikes), np.asarray(want_s))
    np.testing.assert_allclose(np.asarray(v), np.asarray(want_v), rtol=0, atol=2e-6)
    _spike_rate_is_mixed(spikes)


def test_default_v0_is_zero_and_sequences_continue():
    x, _ = inputs(4, 20, (6, 10))
    whole_s, whole_v = lif(x, **PARAMS, return_v=True)
    np.testing.assert_array_equal(np.asarray(whole_s), np.asarray(lif(x, jnp.zeros((6, 10)), **PARAMS)))
    s1, v1 = lif(x[:8], **PARAMS, return_v=True)
    s2, v2 = lif(x[8:], v1[-1], **PARAMS, return_v=True)
    np.testing.assert_array_equal(np.concatenate([s1, s2]), np.asarray(whole_s))
    np.testing.assert_array_equal(np.concatenate([v1, v2]), np.asarray(whole_v))


def test_broadcast_v0_and_empty_sequences():
    x, _ = inputs(5, 12, (4, 9))
    np.testing.assert_array_equal(
        np.asarray(lif(x, 0.5, **PARAMS)), np.asarray(lif(x, jnp.full((4, 9), 0.5), **PARAMS))
    )
    s, v = lif(jnp.zeros((0, 4, 9)), **PARAMS, return_v=True)
    assert s.shape == v.shape == (0, 4, 9)
    s = lif(jnp.zeros((5, 0)), **PARAMS)
    assert s.shape == (5, 0)


@pytest.mark.parametrize("reset", ["soft", "hard"])
def test_per_neuron_parameters(reset):
    shape = (3, 40)
    x, v0 = inputs(6, 30, shape)
    rng = np.random.default_rng(0)
    tau = rng.uniform(1.0, 4.0, shape[-1:])  # broadcasts over the leading axis
    V_th = rng.uniform(0.8, 1.2, shape)
    params = dict(PARAMS, tau=tau, V_th=V_th)
    spikes, v = lif(x, v0, **params, spk_reset=reset, return_v=True)
    want_s, want_v = numpy_lif(x, v0, **params, hard=reset == "hard")
    np.testing.assert_array_equal(np.asarray(spikes), want_s)
    np.testing.assert_allclose(np.asarray(v), want_v, rtol=0, atol=4e-6)
    _spike_rate_is_mixed(spikes)


def test_user_surrogate_takes_the_scan_path_with_the_same_values():
    class MySigmoid(sg.Surrogate):
        def surrogate_grad(self, x):
            z = jnp.exp(-4.0 * x)
            return 4.0 * z / (1 + z) ** 2

    x, v0 = inputs(7, 20, (8, 16))
    ours = lif(x, v0, **PARAMS, spk_fun=MySigmoid(), return_v=True)
    fused = lif(x, v0, **PARAMS, spk_fun=sg.Sigmoid(alpha=4.0), return_v=True)
    np.testing.assert_array_equal(np.asarray(ours[0]), np.asarray(fused[0]))
    np.testing.assert_allclose(np.asarray(ours[1]), np.asarray(fused[1]), rtol=0, atol=2e-6)
