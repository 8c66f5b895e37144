"""By default every CPU call runs the Rust FFI kernels. Opt-in size knobs
(SPIKEGRAD_SPIKE_FFI_MIN_SIZE / SPIKEGRAD_GRAD_FFI_MIN_SIZE, read at import)
switch small arrays to fused XLA code. Both sides of each threshold must give
braintools' step exactly and the surrogate gradient within the accuracy budget
of an independent float64 reference."""

import os

import braintools.surrogate as bt
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.isolated import run_python
from helpers.reference import across, multi_gaussian, peak

import spikegrad.surrogate as sg
from spikegrad import _lowering

PARAMS = dict(h=0.15, s=6.0, sigma=0.5, scale=0.5)


G_PEAK = peak(multi_gaussian(across(PARAMS), **PARAMS))


def sizes_around(threshold):
    return [max(1, threshold - 1), threshold]


KNOBS = {"SPIKEGRAD_SPIKE_FFI_MIN_SIZE": 1 << 16, "SPIKEGRAD_GRAD_FFI_MIN_SIZE": 128}


@pytest.mark.parametrize(
    "n", [1] + sizes_around(KNOBS["SPIKEGRAD_GRAD_FFI_MIN_SIZE"]) + sizes_around(KNOBS["SPIKEGRAD_SPIKE_FFI_MIN_SIZE"])
)
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.float16])
def test_both_sides_of_the_thresholds(n, dtype):
    x = jnp.asarray(np.linspace(-3.0, 3.0, n) + 1e-3, dtype=dtype)
    spike = sg.MultiGaussianGrad(**PARAMS)
    specials = jnp.asarray([-0.0, 0.0, np.nan, -np.inf, np.inf, -1e-30][:n], dtype=dtype)
    xs = jnp.concatenate([specials, x[len(specials) :]])
    np.testing.assert_array_equal(np.asarray(spike(xs)), np.asarray(bt.MultiGaussianGrad(**PARAMS)(xs)))

    ct = jnp.ones_like(x)
    got = np.asarray(jax.vjp(spike, x)[1](ct)[0]).astype(np.float64)
    want = multi_gaussian(np.asarray(x), **PARAMS)
    if dtype == jnp.float32:
        tol = 2e-6 * G_PEAK
    else:  # computed in f32 and rounded once: half an ulp of the format, plus the f32 error
        tol = np.abs(want) * (2.0**-8 if dtype == jnp.bfloat16 else 2.0**-11) + 2e-6 * G_PEAK
    assert np.all(np.abs(got - want) <= tol)


def _hlo(n, fn):
    x = jnp.ones(n, jnp.float32)
    return jax.jit(fn).lower(x).as_text()


def test_default_runs_the_ffi_kernels_at_every_size():
    assert _lowering.SPIKE_FFI_MIN_SIZE == 0 and _lowering.GRAD_FFI_MIN_SIZE == 0
    spike = sg.MultiGaussianGrad(**PARAMS)
    grad = lambda x: jax.vjp(spike, x)[1](x)[0]  # noqa: E731
    for n in [1, 5, 127, 1024]:
        assert "spikegrad_heaviside" in _hlo(n, spike)
        assert "spikegrad_surrogate_grad" in _hlo(n, grad)


def test_knobs_pick_the_ffi_kernel_only_for_large_arrays():
    """Run in a fresh process: the knobs are read at import."""
    script = f"""
        import sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        import test_size_thresholds as t
        from spikegrad import _lowering
        assert _lowering.SPIKE_FFI_MIN_SIZE == {KNOBS["SPIKEGRAD_SPIKE_FFI_MIN_SIZE"]}
        assert _lowering.GRAD_FFI_MIN_SIZE == {KNOBS["SPIKEGRAD_GRAD_FFI_MIN_SIZE"]}
        import jax, jax.numpy as jnp
        spike = t.sg.MultiGaussianGrad(**t.PARAMS)
        grad = lambda x: jax.vjp(spike, x)[1](x)[0]
        g, s = _lowering.GRAD_FFI_MIN_SIZE, _lowering.SPIKE_FFI_MIN_SIZE
        assert "spikegrad_surrogate_grad" not in t._hlo(g - 1, grad)
        assert "spikegrad_surrogate_grad" in t._hlo(g, grad)
        assert "spikegrad_heaviside" not in t._hlo(s - 1, spike)
        assert "spikegrad_heaviside" in t._hlo(s, spike)
        for n in [1, g - 1, g, s - 1, s]:
            for dtype in [jnp.float32, jnp.bfloat16, jnp.float16]:
                t.test_both_sides_of_the_thresholds(n, dtype)
        print("knobs ok")
        """
    out = run_python(script, env={k: str(v) for k, v in KNOBS.items()}, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "knobs ok" in out.stdout


@pytest.mark.parametrize("value", ["-1", "many"])
def test_bad_knob_is_a_clear_error(value):
    out = run_python("import spikegrad", env={"SPIKEGRAD_GRAD_FFI_MIN_SIZE": value}, timeout=300)
    assert out.returncode != 0
    assert "SPIKEGRAD_GRAD_FFI_MIN_SIZE" in out.stderr
