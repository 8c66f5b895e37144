"""Dtypes and shapes: every float dtype keeps its type through forward and
backward; 0-d, empty, transposed and sliced inputs; sizes around the SIMD
widths and the threading threshold (every element written); 10^7 elements."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import poisoned
from helpers.reference import across, assert_matches, heaviside, multi_gaussian, peak

import spikegrad

MGG = spikegrad.MultiGaussianGrad()
DEFAULTS = dict(h=0.15, s=6.0, sigma=0.5, scale=0.5)
G_PEAK = peak(multi_gaussian(across(DEFAULTS), **DEFAULTS))
DTYPES = [jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64]
CHUNK = 1 << 15  # the shim's minimum elements per thread chunk
SIZES = [
    1,
    7,
    8,
    9,
    15,
    16,
    17,
    31,
    33,
    63,
    64,
    65,
    511,
    513,
    2 * CHUNK - 1,
    2 * CHUNK,
    2 * CHUNK + 1,
    2 * CHUNK + 63,
    3 * CHUNK + 5,
]


@pytest.fixture
def native():
    """Poisoned-output checks are about the kernels' own writes: run them on the
    Rust kernels (the ``native`` lowering setting)."""
    with spikegrad.lowering("native"):
        yield


def dtype_id(d):
    return jnp.dtype(d).name


def vjp(x, t):
    return jax.vjp(MGG, x)[1](t)[0]


def inputs(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=2.0, size=n)
    specials = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, 40.0, -1e4])
    x[::97] = np.resize(specials, x[::97].shape)  # spread through every chunk
    return x.astype(dtype), rng.uniform(-2, 2, size=n).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_dtype_preserved_forward_and_backward(x64, dtype):
    x = jnp.asarray(np.linspace(-2, 2, 9), dtype)
    y, pullback = jax.vjp(MGG, x)
    (gx,) = pullback(jnp.ones_like(x))
    _, ty = jax.jvp(MGG, (x,), (jnp.ones_like(x),))
    for a in (y, gx, ty):
        assert a.dtype == jnp.dtype(dtype) and a.shape == x.shape


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_zero_dim(x64, dtype):
    x = jnp.asarray(-0.25, dtype)
    assert MGG(x).shape == () and float(MGG(x)) == 0.0
    g = jax.grad(MGG)(x)
    assert g.shape == () and g.dtype == jnp.dtype(dtype)
    assert_matches(np.asarray(g), multi_gaussian(np.float64(np.asarray(x, np.float64))), 1.0, G_PEAK)


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 4, 2)])
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_empty(x64, dtype, shape):
    x = jnp.zeros(shape, dtype)
    y, pullback = jax.vjp(MGG, x)
    (g,) = pullback(jnp.zeros(shape, dtype))
    assert y.shape == g.shape == shape and y.dtype == g.dtype == jnp.dtype(dtype)
    assert jax.jit(MGG)(x).shape == shape


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_transposed_and_strided_inputs(x64, dtype):
    base = np.random.default_rng(3).normal(size=(24, 36)).astype(dtype)
    views = {
        "transposed": base.T,
        "step_slice": base[::3, 1::5],
        "reversed": base[::-1, ::-1],
        "fortran": np.asfortranarray(base),
    }
    for name, view in views.items():
        y = np.asarray(MGG(view))
        np.testing.assert_array_equal(y, heaviside(view), err_msg=name)
        t = np.ones_like(view)
        g = np.asarray(vjp(jnp.asarray(view), jnp.asarray(t)))
        assert_matches(g, multi_gaussian(view.astype(np.float64)), 1.0, G_PEAK, name)
        # a transpose inside jit, where XLA may hand the kernel a different layout
        gj = jax.jit(lambda a: vjp(a.T, jnp.ones_like(a.T)).T)(jnp.asarray(view))
        np.testing.assert_array_equal(np.asarray(gj), g, err_msg=name)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16], ids=dtype_id)
def test_every_element_written_at_simd_and_thread_boundaries(dtype, n, native):
    x, t = inputs(n, dtype, seed=n)
    y = poisoned.call(MGG, jnp.asarray(x))
    assert y.tobytes() == heaviside(x).tobytes()
    g = poisoned.call(vjp, jnp.asarray(x), jnp.asarray(t))
    want = t.astype(np.float64) * multi_gaussian(x.astype(np.float64))
    assert_matches(g, want, t.astype(np.float64), G_PEAK, f"n={n}")


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.float64], ids=dtype_id)
def test_every_element_written_threaded_other_dtypes(x64, dtype, native):
    n = 3 * CHUNK + 5
    x, t = inputs(n, dtype, seed=5)
    assert poisoned.call(MGG, jnp.asarray(x)).tobytes() == heaviside(x).tobytes()
    g = poisoned.call(vjp, jnp.asarray(x), jnp.asarray(t))
    want = t.astype(np.float64) * multi_gaussian(x.astype(np.float64))
    assert_matches(g, want, t.astype(np.float64), G_PEAK)


def test_ten_million_elements():
    n = 10_000_000
    x = jnp.linspace(-6.0, 6.0, n, dtype=jnp.float32)
    y = MGG(x)
    assert y.shape == (n,) and y.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(y), heaviside(np.asarray(x)))
    g = np.asarray(jax.grad(lambda v: MGG(v).sum())(x))
    assert_matches(g, multi_gaussian(np.asarray(x, np.float64)), 1.0, G_PEAK)


@pytest.mark.parametrize("dtype", ["float8_e4m3fn", "float8_e5m2"])
def test_other_float_dtypes_work_like_braintools(dtype):
    """Floats the kernels do not take (float8) still work, as in braintools."""
    import braintools

    dtype = getattr(jnp, dtype)
    x = jnp.asarray([-2.0, -0.5, 0.0, 0.25, 1.5], dtype)
    ours, theirs = MGG(x), braintools.surrogate.MultiGaussianGrad()(x)
    assert ours.dtype == theirs.dtype == jnp.dtype(dtype)
    np.testing.assert_array_equal(np.asarray(ours, np.float32), np.asarray(theirs, np.float32))
    g = jax.grad(lambda v: MGG(v).astype(jnp.float32).sum())(x)
    gb = jax.grad(lambda v: braintools.surrogate.MultiGaussianGrad()(v).astype(jnp.float32).sum())(x)
    assert g.dtype == gb.dtype
    np.testing.assert_array_equal(np.asarray(g, np.float32), np.asarray(gb, np.float32))


@pytest.mark.parametrize("n", [5, 3 * CHUNK + 5])
def test_donated_inputs_and_shared_operands(n):
    """Donating x (XLA may reuse its buffer) and passing one buffer as both x
    and the cotangent still give the reference values."""
    x_np = np.random.default_rng(n).normal(scale=2.0, size=n).astype(np.float32)
    y = jax.jit(MGG, donate_argnums=0)(jnp.asarray(x_np))
    np.testing.assert_array_equal(np.asarray(y), heaviside(x_np))
    g = jax.jit(lambda v: vjp(v, v), donate_argnums=0)(jnp.asarray(x_np))
    assert_matches(np.asarray(g), x_np.astype(np.float64) * multi_gaussian(x_np), np.abs(x_np), G_PEAK)
