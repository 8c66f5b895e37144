"""The CPU lowering switches between XLA code (small arrays) and the Rust FFI
kernels (large arrays) at SPIKE_FFI_MIN_SIZE / GRAD_FFI_MIN_SIZE. Both sides
of each threshold must give braintools' step exactly and the surrogate
gradient within the accuracy budget of an independent float64 reference."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import braintools.surrogate as bt
import spikegrad.surrogate as sg
from spikegrad import _lowering

PARAMS = dict(h=0.15, s=6.0, sigma=0.5, scale=0.5)


def reference_grad(x):
    """braintools' MultiGaussianGrad derivative in float64 NumPy."""
    h, s, sigma, scale = PARAMS["h"], PARAMS["s"], PARAMS["sigma"], PARAMS["scale"]

    def pdf(x, mu, sd):
        return np.exp(-((x - mu) ** 2) / (2 * sd**2)) / (np.sqrt(2 * np.pi) * sd)

    return scale * ((1 + h) * pdf(x, 0, sigma) - h * pdf(x, sigma, s * sigma) - h * pdf(x, -sigma, s * sigma))


def sizes_around(threshold):
    return [max(1, threshold - 1), threshold]


@pytest.mark.parametrize("n", [1] + sizes_around(_lowering.GRAD_FFI_MIN_SIZE) + sizes_around(_lowering.SPIKE_FFI_MIN_SIZE))
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.float16])
def test_both_sides_of_the_thresholds(n, dtype):
    x = jnp.asarray(np.linspace(-3.0, 3.0, n) + 1e-3, dtype=dtype)
    spike = sg.MultiGaussianGrad(**PARAMS)
    specials = jnp.asarray([-0.0, 0.0, np.nan, -np.inf, np.inf, -1e-30][:n], dtype=dtype)
    xs = jnp.concatenate([specials, x[len(specials):]])
    np.testing.assert_array_equal(np.asarray(spike(xs)), np.asarray(bt.MultiGaussianGrad(**PARAMS)(xs)))

    ct = jnp.ones_like(x)
    got = np.asarray(jax.vjp(spike, x)[1](ct)[0]).astype(np.float64)
    want = reference_grad(np.asarray(x).astype(np.float64))
    peak = 0.44  # g'(0) for these parameters
    if dtype == jnp.float32:
        tol = 2e-6 * peak
    else:  # computed in f32 and rounded once: half an ulp of the format, plus the f32 error
        tol = np.abs(want) * (2.0**-8 if dtype == jnp.bfloat16 else 2.0**-11) + 2e-6 * peak
    assert np.all(np.abs(got - want) <= tol)


def test_thresholds_pick_the_ffi_kernel_only_for_large_arrays():
    spike = sg.MultiGaussianGrad(**PARAMS)

    def hlo(n, fn):
        x = jnp.ones(n, jnp.float32)
        return jax.jit(fn).lower(x).as_text()

    grad = lambda x: jax.vjp(spike, x)[1](x)[0]  # noqa: E731
    small_g, large_g = _lowering.GRAD_FFI_MIN_SIZE - 1, _lowering.GRAD_FFI_MIN_SIZE
    assert "spikegrad_surrogate_grad" not in hlo(small_g, grad)
    assert "spikegrad_surrogate_grad" in hlo(large_g, grad)
    small_s, large_s = _lowering.SPIKE_FFI_MIN_SIZE - 1, _lowering.SPIKE_FFI_MIN_SIZE
    assert "spikegrad_heaviside" not in hlo(small_s, spike)
    assert "spikegrad_heaviside" in hlo(large_s, spike)
