"""MultiGaussianGrad under JAX transformations, each compared with braintools
0.3.0 running the same program and, where the result is simple, with the
float64 formula (float32 throughout)."""

import braintools
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.reference import across, heaviside, multi_gaussian, peak

import spikegrad

OURS = spikegrad.MultiGaussianGrad()
THEIRS = braintools.surrogate.MultiGaussianGrad()
DEFAULTS = dict(h=0.15, s=6.0, sigma=0.5, scale=0.5)
G_PEAK = peak(multi_gaussian(across(DEFAULTS), **DEFAULTS))
TOL = dict(rtol=4e-6, atol=4e-6 * G_PEAK)


def data(*shape, seed=0, scale=1.5):
    return jnp.asarray(np.random.default_rng(seed).normal(scale=scale, size=shape), jnp.float32)


def g64(x):
    return multi_gaussian(np.asarray(x, np.float64))


def assert_same_as_braintools(program, *args):
    """Run ``program(fn, *args)`` with our surrogate and braintools'; compare every leaf."""
    ours, theirs = program(OURS, *args), program(THEIRS, *args)
    leaves_o, tree_o = jax.tree.flatten(ours)
    leaves_t, tree_t = jax.tree.flatten(theirs)
    assert tree_o == tree_t
    for a, b in zip(leaves_o, leaves_t):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), **TOL)
    return ours


# ---- the docs examples -----------------------------------------------------


def test_docs_vmap_grad_elementwise():
    xs = jnp.linspace(-3, 3, 61)
    got = assert_same_as_braintools(lambda f, x: jax.vmap(jax.grad(f))(x), xs)
    np.testing.assert_allclose(np.asarray(got), g64(xs), **TOL)


def test_docs_grad_of_sum():
    x = data(4, 5)
    got = assert_same_as_braintools(lambda f, x: jax.grad(lambda v: f(v).sum())(x), x)
    np.testing.assert_allclose(np.asarray(got), g64(x), **TOL)


# ---- forward and reverse mode -------------------------------------------------


@pytest.mark.parametrize("shape", [(), (7,), (3, 4), (2, 3, 5)])
def test_vjp_random_cotangent(shape):
    x, ct = data(*shape, seed=1), data(*shape, seed=2)

    def program(f, x, ct):
        y, pullback = jax.vjp(f, x)
        return y, pullback(ct)[0]

    y, gx = assert_same_as_braintools(program, x, ct)
    np.testing.assert_array_equal(np.asarray(y), heaviside(np.asarray(x)))
    np.testing.assert_allclose(np.asarray(gx), np.asarray(ct) * g64(x), **TOL)


def test_jvp():
    x, tx = data(6, 3, seed=3), data(6, 3, seed=4)
    y, ty = assert_same_as_braintools(lambda f, x, t: jax.jvp(f, (x,), (t,)), x, tx)
    np.testing.assert_array_equal(np.asarray(y), heaviside(np.asarray(x)))
    np.testing.assert_allclose(np.asarray(ty), np.asarray(tx) * g64(x), **TOL)


@pytest.mark.parametrize("jac", [jax.jacfwd, jax.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobian_is_diagonal(jac):
    x = data(5, seed=5)
    J = assert_same_as_braintools(lambda f, x: jac(f)(x), x)
    np.testing.assert_allclose(np.asarray(J), np.diag(g64(x)), **TOL)


def test_jacobian_2d_input():
    x = data(2, 3, seed=6)
    J = assert_same_as_braintools(lambda f, x: jax.jacrev(f)(x), x)
    assert J.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(np.asarray(J).reshape(6, 6), np.diag(g64(x).ravel()), **TOL)


def test_linearize():
    x, t1, t2 = data(8, seed=7), data(8, seed=8), data(8, seed=9)

    def program(f, x, t1, t2):
        y, f_jvp = jax.linearize(f, x)
        return y, f_jvp(t1), f_jvp(t2)

    y, a, b = assert_same_as_braintools(program, x, t1, t2)
    np.testing.assert_allclose(np.asarray(a), np.asarray(t1) * g64(x), **TOL)
    np.testing.assert_allclose(np.asarray(b), np.asarray(t2) * g64(x), **TOL)


def test_hessian_is_zero_like_braintools():
    x = data(4, seed=10)
    H = assert_same_as_braintools(lambda f, x: jax.hessian(lambda v: f(v).sum())(x), x)
    assert H.shape == (4, 4) and not np.asarray(H).any()


def test_grad_of_grad_scalar_is_zero():
    second = assert_same_as_braintools(lambda f, x: jax.grad(jax.grad(f))(x), jnp.float32(0.3))
    assert float(second) == 0.0


def test_forward_over_reverse():
    x, v = data(5, seed=11), data(5, seed=12)
    program = lambda f, x, v: jax.jvp(jax.grad(lambda u: f(u).sum()), (x,), (v,))  # noqa: E731
    g, hv = assert_same_as_braintools(program, x, v)
    np.testing.assert_allclose(np.asarray(g), g64(x), **TOL)
    assert not np.asarray(hv).any()


# ---- vmap: batched and unbatched operands on various axes -------------------


def _vjp(f, x, ct):
    return jax.vjp(f, x)[1](ct)[0]


def _jvp(f, x, t):
    return jax.jvp(f, (x,), (t,))[1]


VMAP_CASES = [
    # (name, in_axes, out_axes, x shape, second operand shape)
    ("both_axis0", (0, 0), 0, (4, 3), (4, 3)),
    ("both_axis1_out1", (1, 1), 1, (3, 4), (3, 4)),
    ("x_axis0_t_axis1", (0, 1), 0, (4, 3), (3, 4)),
    ("x_axis1_t_axis0_out1", (1, 0), 1, (3, 4), (4, 3)),
    ("x_batched_t_unbatched", (0, None), 0, (4, 3), (3,)),
    ("x_unbatched_t_batched", (None, 0), 0, (3,), (4, 3)),
    ("x_unbatched_t_axis1_out1", (None, 1), 1, (3,), (3, 4)),
    ("x_axis2_t_unbatched_out0", (2, None), 0, (2, 3, 4), (2, 3)),
]


@pytest.mark.parametrize("op", [_vjp, _jvp], ids=["vjp", "jvp"])
@pytest.mark.parametrize("case", VMAP_CASES, ids=[c[0] for c in VMAP_CASES])
def test_vmap_axes(op, case):
    _, in_axes, out_axes, xs, ts = case
    x, t = data(*xs, seed=13), data(*ts, seed=14)
    got = assert_same_as_braintools(
        lambda f, x, t: jax.vmap(lambda a, b: op(f, a, b), in_axes=in_axes, out_axes=out_axes)(x, t), x, t
    )
    # the same thing with explicit loops over the batch, in float64
    n = xs[in_axes[0]] if in_axes[0] is not None else ts[in_axes[1]]
    rows = []
    for i in range(n):
        xi = np.take(np.asarray(x), i, axis=in_axes[0]) if in_axes[0] is not None else np.asarray(x)
        ti = np.take(np.asarray(t), i, axis=in_axes[1]) if in_axes[1] is not None else np.asarray(t)
        rows.append(ti.astype(np.float64) * g64(xi))
    want = np.stack(rows, axis=out_axes)
    np.testing.assert_allclose(np.asarray(got), want, **TOL)


def test_nested_vmap_different_axes():
    x = data(2, 3, 4, seed=15)
    ct = data(4, 3, 2, seed=16)  # x's axes (0, 1, 2) are ct's axes (2, 1, 0)

    def program(f, x, ct):
        inner = jax.vmap(lambda a, c: _vjp(f, a, c), in_axes=(1, 0), out_axes=1)  # over x's axis 2
        outer = jax.vmap(inner, in_axes=(0, 2), out_axes=0)  # over x's axis 0
        return outer(x, ct)

    got = assert_same_as_braintools(program, x, ct)
    assert got.shape == (2, 3, 4)
    want = np.transpose(np.asarray(ct), (2, 1, 0)) * g64(x)
    np.testing.assert_allclose(np.asarray(got), want, **TOL)


def test_vmap_of_forward_with_out_axes():
    x = data(3, 5, seed=17)
    y = jax.vmap(OURS, in_axes=1, out_axes=1)(x)
    np.testing.assert_array_equal(np.asarray(y), heaviside(np.asarray(x)))


def test_vmap_of_jacrev():
    x = data(3, 4, seed=18)
    J = assert_same_as_braintools(lambda f, x: jax.vmap(jax.jacrev(f))(x), x)
    want = np.stack([np.diag(g64(row)) for row in np.asarray(x)])
    np.testing.assert_allclose(np.asarray(J), want, **TOL)


# ---- jit, scan, checkpoint, compositions --------------------------------------


def test_jit_forward_and_grad():
    x = data(16, seed=19)
    y, g = assert_same_as_braintools(lambda f, x: jax.jit(lambda v: (f(v), jax.grad(lambda u: f(u).sum())(v)))(x), x)
    np.testing.assert_array_equal(np.asarray(y), heaviside(np.asarray(x)))
    np.testing.assert_allclose(np.asarray(g), g64(x), **TOL)


def _lif_scan(f, w, inputs):
    """A tiny recurrent spiking loop: v <- 0.9 v + w * i - spike; loss = spikes^2 summed."""

    def step(v, i):
        v = 0.9 * v + w * i
        s = f(v - 1.0)
        return v - s, s

    _, spikes = jax.lax.scan(step, jnp.zeros_like(w), inputs)
    return jnp.sum(spikes * jnp.arange(1, spikes.shape[0] + 1)[:, None])


def test_grad_through_scan_over_time():
    w, inputs = data(6, seed=20, scale=0.8) + 1.0, jnp.abs(data(25, 6, seed=21))
    loss, gw = assert_same_as_braintools(lambda f, w, i: jax.value_and_grad(lambda w: _lif_scan(f, w, i))(w), w, inputs)
    assert np.asarray(gw).any()


def test_checkpoint():
    x = data(10, seed=22)
    program = lambda f, x: jax.grad(lambda v: jax.checkpoint(lambda u: f(u * 2.0) * u)(v).sum())(x)  # noqa: E731
    got = assert_same_as_braintools(program, x)
    xf = np.asarray(x, np.float64)
    want = 2.0 * g64(2.0 * xf) * xf + heaviside(2.0 * xf)
    np.testing.assert_allclose(np.asarray(got), want, **TOL)


def test_grad_of_composition_wrt_affine_params():
    x = data(12, seed=23)

    def loss(f, a, b, w):
        return jnp.sum(w * f(a * x + b)) ** 2

    a, b, w = jnp.float32(1.3), jnp.float32(-0.2), data(12, seed=24)
    grads = assert_same_as_braintools(lambda f, a, b, w: jax.grad(loss, argnums=(1, 2, 3))(f, a, b, w), a, b, w)
    z = np.asarray(a * x + b, np.float64)
    s = heaviside(z)
    c = 2.0 * np.sum(np.asarray(w, np.float64) * s)
    gz = c * np.asarray(w, np.float64) * g64(z)
    np.testing.assert_allclose(float(grads[0]), np.sum(gz * np.asarray(x, np.float64)), rtol=1e-5)
    np.testing.assert_allclose(float(grads[1]), np.sum(gz), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(grads[2]), c * s, rtol=1e-5)


def test_grad_of_step_free_composition_passes_through():
    """A composition whose gradient does not go through the step is untouched."""
    x = data(5, seed=25)
    got = assert_same_as_braintools(lambda f, x: jax.grad(lambda v: jnp.sum(jax.lax.stop_gradient(f(v)) * v**2))(x), x)
    np.testing.assert_allclose(np.asarray(got), 2 * heaviside(np.asarray(x)) * np.asarray(x), rtol=1e-6)


def test_value_and_grad_and_eval_shape():
    x = data(3, 2, seed=26)
    shaped = jax.eval_shape(jax.grad(lambda v: OURS(v).sum()), x)
    assert shaped.shape == (3, 2) and shaped.dtype == jnp.float32
    v, g = jax.value_and_grad(lambda u: OURS(u).sum())(x)
    assert float(v) == heaviside(np.asarray(x)).sum()
