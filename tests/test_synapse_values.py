"""spike_matmul's values: against a NumPy float64 product and jnp.matmul, for
every dtype, empty shapes, 0%/100%/random firing and non-binary spikes; the
documented difference from a dense product (zero spikes skip inf/NaN
weights); both CPU implementations; the same bits on every call and thread
count."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.isolated import run_python

import spikegrad
from spikegrad.synapse import spike_matmul

# Absolute tolerance per dtype, relative to sum_i |s_i| |w_ij| (one rounding of
# the result plus float32 accumulation for halves).
TOL = {"float64": 1e-13, "float32": 2e-6, "float16": 2e-3, "bfloat16": 1.6e-2}
DTYPES = [jnp.float64, jnp.float32, jnp.float16, jnp.bfloat16]


def _case(key, lead, n_in, n_out, rate, binary=True):
    rng = np.random.default_rng(key)
    fire = rng.random((*lead, n_in)) < rate
    values = np.ones(fire.shape) if binary else rng.uniform(-2, 2, fire.shape)
    return np.where(fire, values, 0.0), rng.standard_normal((n_in, n_out))


def _check(s64, w64, got, dtype):
    got = np.asarray(jnp.asarray(got, jnp.float32) if dtype in (jnp.float16, jnp.bfloat16) else got, np.float64)
    want = s64 @ w64
    scale = np.abs(s64) @ np.abs(w64) + 1.0
    np.testing.assert_array_less(np.abs(got - want), TOL[jnp.dtype(dtype).name] * scale + 1e-300)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: jnp.dtype(d).name)
@pytest.mark.parametrize("rate", [0.0, 0.05, 0.3, 1.0])
@pytest.mark.parametrize("binary", [True, False], ids=["binary", "valued"])
def test_matches_float64_reference(x64, each_lowering, dtype, rate, binary):
    s64, w64 = _case(3, (2, 5), 70, 33, rate, binary)
    s, w = jnp.asarray(s64, dtype), jnp.asarray(w64, dtype)
    s64, w64 = np.asarray(s, np.float64), np.asarray(w, np.float64)  # the rounded operands
    y = jax.jit(spike_matmul)(s, w)
    assert y.dtype == dtype and y.shape == (2, 5, 33)
    _check(s64, w64, y, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: jnp.dtype(d).name)
def test_bool_spikes_count_as_one(x64, dtype):
    s64, w64 = _case(4, (6,), 40, 9, 0.2)
    w = jnp.asarray(w64, dtype)
    y = spike_matmul(jnp.asarray(s64 != 0), w)
    assert y.dtype == dtype
    _check(s64, np.asarray(w, np.float64), y, dtype)


def test_float64_equals_jnp_matmul(x64):
    s64, w64 = _case(5, (16,), 300, 129, 0.1, binary=False)
    np.testing.assert_allclose(spike_matmul(s64, w64), jnp.matmul(s64, w64), rtol=1e-13, atol=1e-13)


def test_spikes_of_another_float_dtype_take_the_weights(x64):
    s64, w64 = _case(6, (3,), 20, 7, 0.5, binary=False)
    w = jnp.asarray(w64, jnp.float32)
    y = spike_matmul(jnp.asarray(s64), w)
    assert y.dtype == jnp.float32
    np.testing.assert_array_equal(y, spike_matmul(jnp.asarray(s64, jnp.float32), w))


@pytest.mark.parametrize("lead,n_in,n_out", [((0,), 5, 3), ((4,), 0, 3), ((4,), 5, 0), ((0,), 0, 0), ((2, 0, 3), 4, 2)])
def test_empty_shapes(each_lowering, lead, n_in, n_out):
    s = jnp.ones((*lead, n_in), jnp.float32)
    w = jnp.ones((n_in, n_out), jnp.float32)
    y = jax.jit(spike_matmul)(s, w)
    assert y.shape == (*lead, n_out)
    np.testing.assert_array_equal(y, np.zeros((*lead, n_out)) + n_in)
    g = jax.grad(lambda w: spike_matmul(s, w).sum())(w)
    np.testing.assert_array_equal(g, np.full((n_in, n_out), float(np.prod(lead))))


def test_one_dimensional_spikes():
    s64, w64 = _case(7, (), 50, 6, 0.3)
    y = spike_matmul(jnp.asarray(s64, jnp.float32), jnp.asarray(w64, jnp.float32))
    assert y.shape == (6,)
    np.testing.assert_allclose(y, s64 @ w64, rtol=1e-5, atol=1e-5)


def test_zero_spikes_skip_non_finite_weights_nan_spikes_propagate():
    w = jnp.array([[jnp.inf, jnp.nan], [1.0, 2.0]], jnp.float32)
    with spikegrad.lowering("native"):
        np.testing.assert_array_equal(spike_matmul(jnp.array([0.0, 1.0]), w), [1.0, 2.0])
        np.testing.assert_array_equal(spike_matmul(jnp.array([-0.0, 1.0]), w), [1.0, 2.0])
        assert np.isnan(spike_matmul(jnp.array([jnp.nan, 0.0]), jnp.ones((2, 2)))).all()
        y = spike_matmul(jnp.array([jnp.inf, 0.0]), jnp.array([[0.0, 1.0], [5.0, 5.0]]))
        assert np.isnan(y[0]) and y[1] == np.inf  # as in a dense product
        # the weight gradient likewise skips a zero spike's inf cotangent
        _, vjp = jax.vjp(lambda w: spike_matmul(jnp.array([[0.0, 1.0]]), w), jnp.ones((2, 2)))
        (g,) = vjp(jnp.array([[jnp.inf, 1.0]]))
        np.testing.assert_array_equal(g, [[0.0, 0.0], [np.inf, 1.0]])
    with spikegrad.lowering("xla"):  # XLA's dot: the dense semantics
        assert np.isnan(spike_matmul(jnp.array([0.0, 1.0]), w)).all()


def test_kernel_runs_under_native_and_auto_and_xla_runs_the_dot():
    s, w = jnp.ones((64, 128)), jnp.ones((128, 64))
    for setting, kernel in [("native", True), ("auto", True), ("xla", False)]:
        with spikegrad.lowering(setting):
            text = jax.jit(spike_matmul).lower(s, w).as_text()
            grad = jax.jit(jax.grad(lambda w: spike_matmul(s, w).sum())).lower(w).as_text()
        assert ("spikegrad_spike_matmul" in text) == kernel
        assert ("spikegrad_spike_matmul_wgrad" in grad) == kernel


def test_same_bits_on_every_call():
    s64, w64 = _case(8, (256,), 700, 256, 0.2, binary=False)
    s, w = jnp.asarray(s64, jnp.float32), jnp.asarray(w64, jnp.float32)
    f = jax.jit(jax.value_and_grad(lambda w: (spike_matmul(s, w) ** 2).sum()))
    first = [np.asarray(a) for a in f(w)]
    for _ in range(5):
        for a, b in zip(first, f(w)):
            np.testing.assert_array_equal(a, b)


_THREADS_PROGRAM = """
import hashlib, json, numpy as np, jax, jax.numpy as jnp
from spikegrad.synapse import spike_matmul
rng = np.random.default_rng(0)
s = jnp.asarray(np.where(rng.random((256, 1024)) < 0.2, rng.uniform(-2, 2, (256, 1024)), 0.0), jnp.float32)
w = jnp.asarray(rng.standard_normal((1024, 512)), jnp.float32)
y, vjp = jax.vjp(jax.jit(spike_matmul), s, w)
_, g = vjp(jnp.cos(y))
digest = lambda a: hashlib.sha256(np.asarray(a).tobytes()).hexdigest()
print(json.dumps([digest(y), digest(g), jax.devices()[0].platform]))
"""


def test_same_bits_with_one_and_many_threads():
    """A one-CPU process (a one-thread pool) and the default pool agree bit for bit."""
    one = run_python(_THREADS_PROGRAM, timeout=300, prefix=("taskset", "-c", "0"))
    many = run_python(_THREADS_PROGRAM, timeout=300)
    assert one.returncode == 0, one.stderr[-2000:]
    assert many.returncode == 0, many.stderr[-2000:]
    assert json.loads(one.stdout.strip().splitlines()[-1]) == json.loads(many.stdout.strip().splitlines()[-1])
