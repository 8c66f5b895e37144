"""Fused neurons under transformations: vmap over any non-time axis (of x,
the initial states, the parameters, forward and grad), jit, checkpoint; the
lax.scan form (the lowering setting 'xla', what platforms without kernels
run) against the kernels; the primitives' own checks and batching."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.neuron_reference import MODELS, PARAMS, Z0_NAMES, inputs, per_neuron
from helpers.reference import assert_trees_equal

import spikegrad
import spikegrad.surrogate as sg
from spikegrad import neuron
from spikegrad.neuron._primitives import neuron_bptt_p, neuron_forward_p, neuron_tangent_p, placeholder


def f(model, x, z0, reset="soft", params=None, **kw):
    p = PARAMS[model] if params is None else params
    return getattr(neuron, model)(
        x, **dict(zip(Z0_NAMES[model], z0)), **p, spk_fun=sg.MultiGaussianGrad(), spk_reset=reset, **kw
    )


def close(a, b, rtol=1e-6, atol=1e-7):
    for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=rtol, atol=atol)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("x_axis", [1, 2, -1])
def test_vmap_over_a_neuron_axis(model, x_axis):
    x, z0 = inputs(20, 15, (4, 6, 5), model)
    z_axis = x_axis - 1 if x_axis > 0 else x_axis
    g = jax.vmap(lambda x, z0: f(model, x, z0, return_states=True), in_axes=(x_axis, z_axis), out_axes=x_axis)
    assert_trees_equal(g(x, z0), f(model, x, z0, return_states=True))


@pytest.mark.parametrize("model", MODELS)
def test_vmap_with_shared_states_and_of_grad(model):
    x, z0 = inputs(21, 12, (3, 8), model)
    shared = tuple(z[0] for z in z0)
    got = jax.vmap(lambda x, z: f(model, x, z), in_axes=(1, None), out_axes=1)(x, shared)
    assert_trees_equal(got, f(model, x, tuple(jnp.broadcast_to(z, (3, 8)) for z in shared)))

    def loss(x, z0):
        s, states = f(model, x, z0, return_states=True)
        return jnp.sum(s * jnp.arange(s.shape[0])[:, None]) + sum(jnp.sum(z**2) for z in states)

    per_example = jax.vmap(jax.grad(loss, (0, 1)), in_axes=(1, 0), out_axes=(1, 0))(x, z0)
    rows = [jax.grad(loss, (0, 1))(x[:, i], tuple(z[i] for z in z0)) for i in range(3)]
    close(per_example[0], np.stack([r[0] for r in rows], 1))
    for j in range(len(z0)):
        close(per_example[1][j], np.stack([r[1][j] for r in rows]))


@pytest.mark.parametrize("model", MODELS)
def test_vmap_over_parameters(model):
    """A batch of parameter sets (e.g. per-example tau): vmapped parameters
    are per-neuron operands of one larger population, and their per-example
    gradients match a loop."""
    x, z0 = inputs(22, 10, (5,), model)
    taus = jnp.array([1.5, 2.0, 3.0])

    def loss(tau):
        return jnp.sum(f(model, x, z0, params=dict(PARAMS[model], tau=tau)) * x)

    got = jax.vmap(jax.value_and_grad(loss))(taus)
    want = [jax.value_and_grad(loss)(t) for t in taus]
    close(got[0], jnp.stack([w[0] for w in want]))
    close(got[1], jnp.stack([w[1] for w in want]), rtol=2e-5)


@pytest.mark.parametrize("model", MODELS)
def test_jit_and_checkpoint(model):
    x, z0 = inputs(23, 20, (4, 16), model)
    params = per_neuron(model, (4, 16))

    def loss(x, z0, p):
        return jnp.sum(f(model, x, z0, "hard", params=p, save_every=3) * jnp.cos(x))

    eager = jax.grad(loss, (0, 1, 2))(x, z0, params)
    jitted = jax.jit(jax.grad(loss, (0, 1, 2)))(x, z0, params)
    remat = jax.jit(jax.grad(jax.checkpoint(loss), (0, 1, 2)))(x, z0, params)
    close(eager, jitted, rtol=1e-6)
    close(eager, remat, rtol=1e-6)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("reset", ["soft", "hard"])
def test_scan_form_matches_the_kernels(model, reset, x64):
    """The lowering setting 'xla' (the lax.scan form derived from the model
    description) computes what the kernels do: values, gradients w.r.t.
    everything (with state cotangents and checkpoints), tangents."""
    x, z0 = inputs(24, 18, (5, 7), model, dtype=np.float64)
    params = {k: jnp.asarray(v) for k, v in per_neuron(model, (5, 7)).items()}

    def run(x, z0, p):
        return f(model, x, z0, reset, params=p, return_states=True, save_every=4)

    def loss(x, z0, p):
        s, states = run(x, z0, p)
        return jnp.sum(s * jnp.sin(x)) + sum(jnp.sum(jnp.cos(z)) for z in states)

    t = jax.tree.map(lambda a: jnp.cos(2.0 * a), (x, z0, params))
    results = {}
    for value in ("native", "xla"):
        with spikegrad.lowering(value):
            results[value] = (
                jax.jit(run)(x, z0, params),
                jax.jit(jax.grad(loss, (0, 1, 2)))(x, z0, params),
                jax.jit(lambda *a: jax.jvp(run, a, t))(x, z0, params),
            )
    assert_trees_equal(results["native"][0][0], results["xla"][0][0])
    close(results["native"], results["xla"], rtol=1e-12, atol=1e-12)


def test_the_setting_is_a_static_parameter_and_xla_lowers_to_no_custom_call():
    x, z0 = inputs(25, 6, (8,))
    for value in ("auto", "native", "xla"):
        with spikegrad.lowering(value):
            jaxpr = str(jax.make_jaxpr(jax.grad(lambda x: jnp.sum(f("lif", x, z0))))(x))
            hlo = jax.jit(jax.grad(lambda x: jnp.sum(f("lif", x, z0)))).lower(x).as_text()
        assert jaxpr.count(f"lowering={value}") == 2, jaxpr
        assert ("spikegrad_neuron" in hlo) == (value != "xla")


@pytest.mark.parametrize("model", MODELS)
def test_large_population_splits_over_threads_identically(model):
    """A population big enough to be split over the thread pool gives the
    same bits as the same neurons run in small pieces."""
    n = 3 * 4096 + 17
    x, z0 = inputs(26, 8, (n,), model)
    whole = f(model, x, z0, return_states=True)
    pieces = [
        f(model, x[:, i : i + 4000], tuple(z[i : i + 4000] for z in z0), return_states=True) for i in range(0, n, 4000)
    ]
    assert_trees_equal(whole[0], np.concatenate([p[0] for p in pieces], axis=1))
    for j in range(len(z0)):
        assert_trees_equal(whole[1][j], np.concatenate([p[1][j] for p in pieces], axis=1))
    g_whole = jax.grad(lambda x: jnp.sum(f(model, x, z0) * x))(x)
    g_piece = jnp.concatenate(
        [
            jax.grad(lambda xp, i=i: jnp.sum(f(model, xp, tuple(z[i : i + 4000] for z in z0)) * xp))(x[:, i : i + 4000])
            for i in range(0, n, 4000)
        ],
        axis=1,
    )
    assert_trees_equal(g_whole, g_piece)


# ---- the primitives themselves -------------------------------------------------------

STATIC = dict(model="alif", surrogate="sigmoid", params=(4.0,), hard_reset=False, lowering="auto")


def _operands(T=5, shape=(3,), dtype=jnp.float32):
    x = jnp.ones((T, *shape), dtype)
    return x, [jnp.zeros(shape, dtype)] * 2, [jnp.full(shape, 0.5, dtype)] * 7


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda x, z, c: (x, z[:1], c), "takes 10 operands"),
        # float16 x takes float32 states and constants
        (lambda x, z, c: (x.astype(jnp.float16), [a.astype(jnp.float16) for a in z], c), "one dtype"),
        (lambda x, z, c: (x, [z[0].astype(jnp.float64), z[1]], c), "one dtype"),
        (lambda x, z, c: (x, [jnp.zeros((4,), jnp.float32), z[1]], c), "initial state V has shape"),
        (lambda x, z, c: (x, z, [*c[:6], jnp.zeros((1,), jnp.float32)]), "constant beta has shape"),
        (lambda x, z, c: (x[0, 0], z, c), "time-major"),
    ],
)
def test_forward_abstract_eval_refuses(change, match, x64):
    x, z, c = change(*_operands())
    with pytest.raises(TypeError, match=match):
        jax.eval_shape(lambda *a: neuron_forward_p.bind(*a, keep=True, spikes=True, stride=1, **STATIC), x, *z, *c)


def test_linearization_abstract_eval_refuses():
    x, z, c = _operands(T=7)
    saved = [jnp.zeros((3, 3))] * 2  # ceil(7/3) rows
    with pytest.raises(TypeError, match="checkpoints of V"):
        jax.eval_shape(
            lambda: neuron_tangent_p.bind(x, *z, *c, *[jnp.zeros((7, 3))] * 2, x, *z, *c, stride=3, **STATIC)
        )
    with pytest.raises(TypeError, match="stride"):
        jax.eval_shape(lambda: neuron_tangent_p.bind(x, *z, *c, *saved, x, *z, *c, stride=0, **STATIC))
    with pytest.raises(TypeError, match="cotangent of state a"):
        jax.eval_shape(lambda: neuron_bptt_p.bind(x, *z, *c, *saved, x, x, jnp.zeros((2,)), stride=3, **STATIC))
    out = jax.eval_shape(
        lambda: neuron_bptt_p.bind(x, *z, *c, *saved, x, x, placeholder(jnp.float32), stride=3, **STATIC)
    )
    assert [o.shape for o in out] == [(7, 3)] + [(3,)] * 9
    out = jax.eval_shape(lambda: neuron_forward_p.bind(x, *z, *c, keep=True, spikes=True, stride=3, **STATIC))
    assert [o.shape for o in out] == [(7, 3), (3, 3), (3, 3)]
    out = jax.eval_shape(lambda: neuron_forward_p.bind(x, *z, *c, keep=False, spikes=True, stride=3, **STATIC))
    assert [o.shape for o in out] == [(7, 3), (0,), (0,)]
