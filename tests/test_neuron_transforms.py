"""Fused LIF under transformations: vmap over any non-time axis (of x, v0 or
both, forward and grad), jit, checkpoint, and the XLA-native lowering used on
platforms without the FFI kernels (run here on CPU through the same jnp
functions) against the kernels."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.lif_reference import PARAMS, inputs

import spikegrad.surrogate as sg
from spikegrad._formulas import formula
from spikegrad.neuron import _lif_math, lif
from spikegrad.neuron._lif_primitives import no_ct_v


def f(x, v0, reset="soft"):
    return lif(x, v0, **PARAMS, spk_fun=sg.MultiGaussianGrad(), spk_reset=reset, return_v=True)


@pytest.mark.parametrize("x_axis", [1, 2, -1])
def test_vmap_over_a_neuron_axis(x_axis):
    x, v0 = inputs(20, 15, (4, 6, 5))
    v0_axis = x_axis - 1 if x_axis > 0 else x_axis
    got_s, got_v = jax.vmap(f, in_axes=(x_axis, v0_axis), out_axes=(x_axis, x_axis))(x, v0)
    want_s, want_v = f(x, v0)
    np.testing.assert_array_equal(np.asarray(got_s), np.asarray(want_s))
    np.testing.assert_array_equal(np.asarray(got_v), np.asarray(want_v))


def test_vmap_with_shared_v0_and_of_grad():
    x, v0 = inputs(21, 12, (3, 8))
    got = jax.vmap(f, in_axes=(1, None), out_axes=1)(x, v0[0])
    want = f(x, jnp.broadcast_to(v0[0], (3, 8)))
    np.testing.assert_array_equal(np.asarray(got[0]), np.asarray(want[0]))

    def loss(x, v0):
        s, v = f(x, v0)
        return jnp.sum(s * jnp.arange(s.shape[0])[:, None]) + jnp.sum(v**2)

    per_example = jax.vmap(jax.grad(loss, (0, 1)), in_axes=(1, 0), out_axes=(1, 0))(x, v0)
    rows = [jax.grad(loss, (0, 1))(x[:, i], v0[i]) for i in range(3)]
    np.testing.assert_allclose(np.asarray(per_example[0]), np.stack([r[0] for r in rows], 1), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(np.asarray(per_example[1]), np.stack([r[1] for r in rows]), rtol=1e-6, atol=1e-7)


def test_jit_and_checkpoint():
    x, v0 = inputs(22, 20, (4, 16))

    def loss(x, v0):
        return jnp.sum(f(x, v0, "hard")[0] * jnp.cos(x))

    eager = jax.grad(loss, (0, 1))(x, v0)
    jitted = jax.jit(jax.grad(loss, (0, 1)))(x, v0)
    remat = jax.jit(jax.grad(jax.checkpoint(loss), (0, 1)))(x, v0)
    for a, b, c in zip(eager, jitted, remat):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        np.testing.assert_array_equal(np.asarray(a), np.asarray(c))


@pytest.mark.parametrize("hard", [False, True])
def test_xla_lowering_matches_the_kernels(hard, x64):
    """The jnp passes registered for non-CPU platforms compute what the kernels do."""
    from spikegrad.neuron._lif_primitives import lif_bptt_p, lif_forward_p, lif_tangent_p

    x, v0 = inputs(23, 18, (5, 7), dtype=np.float64)
    consts = _lif_math.constants(PARAMS["dt"], PARAMS["tau"], PARAMS["R"], PARAMS["V_rest"], xp=np)
    lif_c = tuple(float(c) for c in (*consts, PARAMS["V_th"], PARAMS["V_reset"]))
    static = dict(surrogate="sigmoid", params=(2.0,), lif=lif_c, hard_reset=hard)
    grad = lambda u: formula("sigmoid")(u, 2.0)  # noqa: E731

    s, v = lif_forward_p.bind(x, v0, keep_v=True, **static)
    xs, xv = _lif_math.xla_forward(x, v0, lif=lif_c, hard=hard)
    np.testing.assert_array_equal(np.asarray(s), np.asarray(xs))
    np.testing.assert_allclose(np.asarray(v), np.asarray(xv), rtol=1e-14, atol=1e-14)

    k = jax.random.split(jax.random.PRNGKey(0), 3)
    dx, dv0 = jax.random.normal(k[0], x.shape, x.dtype), jax.random.normal(k[1], v0.shape, x.dtype)
    cts = jax.random.normal(k[2], x.shape, x.dtype)
    for got, want in zip(
        lif_tangent_p.bind(v, v0, dx, dv0, **static),
        _lif_math.xla_tangent(v, v0, dx, dv0, grad=grad, lif=lif_c, hard=hard),
    ):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-13)
    for got, want in zip(
        lif_bptt_p.bind(v, v0, cts, no_ct_v(x.dtype), has_ct_v=False, **static),
        _lif_math.xla_bptt(v, v0, cts, None, grad=grad, lif=lif_c, hard=hard),
    ):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-13)
    for got, want in zip(
        lif_bptt_p.bind(v, v0, cts, dx, has_ct_v=True, **static),
        _lif_math.xla_bptt(v, v0, cts, dx, grad=grad, lif=lif_c, hard=hard),
    ):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-13)


def test_large_population_splits_over_threads_identically():
    """A population big enough to be split over the thread pool gives the
    same bits as the same neurons run in small pieces."""
    x, v0 = inputs(24, 8, (3 * 4096 + 17,))
    whole = f(x, v0)
    pieces = [f(x[:, i : i + 1000], v0[i : i + 1000]) for i in range(0, x.shape[1], 1000)]
    for k in range(2):
        np.testing.assert_array_equal(np.asarray(whole[k]), np.concatenate([p[k] for p in pieces], axis=1))
    g_whole = jax.grad(lambda x: jnp.sum(f(x, v0)[0] * x))(x)
    g_piece = jnp.concatenate(
        [
            jax.grad(lambda xp, i=i: jnp.sum(f(xp, v0[i : i + 1000])[0] * xp))(x[:, i : i + 1000])
            for i in range(0, x.shape[1], 1000)
        ],
        axis=1,
    )
    np.testing.assert_array_equal(np.asarray(g_whole), np.asarray(g_piece))
