"""Fused neuron derivatives (LIF, ALIF, CubaLIF): grad/vjp w.r.t. x, the
initial states and every parameter (scalar, per-neuron array, traced), and
jvp/jacfwd/jacrev, against JAX autodiff of a plain lax.scan with the
braintools surrogate (float32, and float64 tightly) and against brainpy.state
itself; the BPTT primitive is the exact transpose of the tangent primitive;
the checkpoint stride changes no derivative."""

from __future__ import annotations

import braintools
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.neuron_reference import MODELS, PARAMS, Z0_NAMES, brainpy_run, inputs, per_neuron, scan_run
from helpers.reference import assert_trees_equal

import spikegrad
import spikegrad.surrogate as sg
from spikegrad import neuron

SURROGATES = [
    (sg.ReluGrad(), braintools.surrogate.ReluGrad()),
    (sg.MultiGaussianGrad(), braintools.surrogate.MultiGaussianGrad()),
    (sg.Sigmoid(alpha=2.0), braintools.surrogate.Sigmoid(alpha=2.0)),
    (sg.Arctan(), braintools.surrogate.Arctan()),
]
IDS = [type(o).__name__ for o, _ in SURROGATES]


def fused(model, spk_fun, reset="soft", save_every=None):
    """``(x, z0, params) -> (spikes, states)`` through the public function."""

    def f(x, z0, params):
        kw = dict(zip(Z0_NAMES[model], z0))
        return getattr(neuron, model)(
            x, **kw, **params, spk_fun=spk_fun, spk_reset=reset, return_states=True, save_every=save_every
        )

    return f


def spikes_only(model, spk_fun, reset="soft", save_every=None):
    def f(x, z0, params):
        kw = dict(zip(Z0_NAMES[model], z0))
        return getattr(neuron, model)(x, **kw, **params, spk_fun=spk_fun, spk_reset=reset, save_every=save_every)

    return f


def reference(kind, model, spk_fun, reset="soft"):
    run = scan_run if kind == "scan" else brainpy_run
    return lambda x, z0, params: run(model, x, z0, params, spk_fun, hard=reset == "hard")


def _close(got, want, rel):
    """Each array within ``rel`` of its largest magnitude; a parameter dict
    as one group (the scale is its largest gradient: a small one is a sum of
    per-neuron terms that cancel)."""
    if isinstance(want, (tuple, list)):
        for g, w in zip(got, want, strict=True):
            _close(g, w, rel)
        return
    leaves = list(zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True))
    scale = max(max((np.abs(np.asarray(b, np.float64)).max(initial=0.0) for _, b in leaves), default=0.0), 1e-30)
    for a, b in leaves:
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=0, atol=rel * scale)


def _nonzero(tree):
    assert all(np.abs(np.asarray(a)).max(initial=0.0) > 0 for a in jax.tree.leaves(tree))


def weighted(f, w, ws=None):
    """A scalar loss of ``f``'s spikes (and states, with ``ws``)."""

    def loss(x, z0, params):
        out = f(x, z0, params)
        s, states = out if isinstance(out, tuple) else (out, ())
        total = jnp.sum(w * s)
        if ws is not None:
            total = total + sum(jnp.sum(wi * z) for wi, z in zip(ws, states))
        return total

    return loss


def _weights(key, shape, n, dtype=jnp.float32):
    ks = jax.random.split(jax.random.PRNGKey(key), n + 1)
    return jax.random.normal(ks[0], shape, dtype), tuple(jax.random.normal(k, shape, dtype) for k in ks[1:])


PARAM_KINDS = ["scalar", "per_neuron"]


def _params(model, kind, shape, dtype):
    if kind == "scalar":
        return {k: jnp.asarray(v, dtype) for k, v in PARAMS[model].items()}
    p = per_neuron(model, shape)
    p["dt"] = jnp.asarray(p["dt"], dtype)  # dt stays a scalar
    return {k: jnp.asarray(v, dtype) for k, v in p.items()}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("reset", ["soft", "hard"])
@pytest.mark.parametrize("kind", PARAM_KINDS)
def test_grads_match_brainpy_state(model, reset, kind):
    """Gradients w.r.t. x, the initial states and every parameter (traced by
    grad: scalars or per-neuron arrays), against brainpy.state's class built
    with the same traced parameters."""
    shape = (4, 24)
    x, z0 = inputs(10, 30, shape, model)
    w, _ = _weights(1, x.shape, 0)
    params = _params(model, kind, shape, jnp.float32)
    ours, theirs = SURROGATES[1] if reset == "soft" else SURROGATES[2]
    g = jax.grad(weighted(spikes_only(model, ours, reset), w), (0, 1, 2))(x, z0, params)
    _nonzero(g[:2])
    want = jax.grad(weighted(lambda *a: reference("brainpy", model, theirs, reset)(*a)[0], w), (0, 1, 2))(x, z0, params)
    _close(g, want, 3e-5)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("ours, theirs", [SURROGATES[0], SURROGATES[3]], ids=[IDS[0], IDS[3]])
def test_other_surrogates(model, ours, theirs):
    x, z0 = inputs(11, 20, (3, 16), model)
    w, _ = _weights(2, x.shape, 0)
    params = _params(model, "scalar", (3, 16), jnp.float32)
    g = jax.grad(weighted(spikes_only(model, ours, "hard"), w), (0, 1, 2))(x, z0, params)
    want = jax.grad(weighted(lambda *a: reference("brainpy", model, theirs, "hard")(*a)[0], w), (0, 1, 2))(
        x, z0, params
    )
    _close(g, want, 3e-5)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("reset", ["soft", "hard"])
@pytest.mark.parametrize("kind", PARAM_KINDS)
def test_float64_grads_are_tight(model, reset, kind, x64):
    """x, initial states and every parameter (scalars or per-neuron arrays,
    traced by grad) against JAX autodiff of the lax.scan form, with
    cotangents on the spikes and the states (all of them under soft reset,
    the first only under hard reset: the others' are symbolic zeros)."""
    shape = (3, 20)
    x, z0 = inputs(12, 30, shape, model, dtype=np.float64)
    w, ws = _weights(4, x.shape, len(z0), jnp.float64)
    ws = ws if reset == "soft" else ws[:1]
    params = _params(model, kind, shape, jnp.float64)

    def loss(f):
        def scalar(x, z0, p):
            s, states = f(x, z0, p)
            return jnp.sum(w * s) + sum(jnp.sum(wi * z) for wi, z in zip(ws, states))

        return jax.jit(jax.grad(scalar, (0, 1, 2)))

    got = loss(fused(model, sg.Sigmoid(), reset))(x, z0, params)
    want = loss(reference("scan", model, braintools.surrogate.Sigmoid(), reset))(x, z0, params)
    assert all(a.dtype == jnp.float64 for a in jax.tree.leaves(got))
    _nonzero(got[:2])
    _close(got, want, 1e-12)


@pytest.mark.parametrize("model", MODELS)
def test_jvp_jacfwd_jacrev_match_scan(model, x64):
    """Forward mode through the tangent primitive (also w.r.t. the
    parameters: the constants' tangents), reverse-mode Jacobians."""
    x, z0 = inputs(14, 12, (6,), model, dtype=np.float64)
    params = _params(model, "per_neuron", (6,), jnp.float64)
    ours = fused(model, sg.Sigmoid(alpha=2.0), "hard")
    ref = reference("scan", model, braintools.surrogate.Sigmoid(alpha=2.0), "hard")
    t = jax.tree.map(lambda a: jnp.cos(3.0 * a), (x, z0, params))
    got, want = jax.jit(lambda *a: jax.jvp(ours, a, t))(x, z0, params), jax.jvp(ref, (x, z0, params), t)
    _close(got, want, 1e-12)
    _nonzero(got[1])
    args = (0, 1, 2)
    want = jax.jit(jax.jacfwd(lambda *a: ref(*a)[0], args))(x, z0, params)
    _close(jax.jit(jax.jacfwd(lambda *a: ours(*a)[0], args))(x, z0, params), want, 1e-12)
    _close(jax.jit(jax.jacrev(lambda *a: ours(*a)[0], args))(x, z0, params), want, 1e-12)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("save_every", [1, 4])
def test_vjp_is_the_transpose_of_jvp(model, save_every, x64):
    """<vjp(ct), t> == <ct, jvp(t)> in float64, over x, the initial states and
    the parameters: the BPTT primitive is the exact transpose of the tangent one."""
    x, z0 = inputs(15, 20, (6, 7), model, dtype=np.float64)
    params = _params(model, "per_neuron", (6, 7), jnp.float64)
    f = fused(model, sg.MultiGaussianGrad(), "hard", save_every)
    primal = (x, z0, params)
    t = jax.tree.map(lambda a: jnp.sin(5.0 * a + 1.0), primal)
    out, tangent_out = jax.jvp(f, primal, t)
    ct = jax.tree.map(lambda a: jnp.cos(7.0 * a), out)
    _, pullback = jax.vjp(f, *primal)
    ct_in = pullback(ct)
    dot = lambda a, b: sum(float(jnp.vdot(u, v)) for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b)))  # noqa: E731
    lhs, rhs = dot(ct_in, t), dot(ct, tangent_out)
    assert abs(lhs - rhs) <= 1e-11 * max(1.0, abs(rhs)) and abs(rhs) > 1e-3


@pytest.mark.parametrize("model", MODELS)
def test_reverse_pass_keeps_the_checkpoints_only(model):
    """A fused grad runs one forward and one BPTT primitive, no scan; its
    residuals are x, the per-neuron operands and ceil(T/K) checkpoint rows
    per state."""
    T, shape = 10, (16,)
    x, z0 = inputs(16, T, shape, model)

    for k in (1, 3, 10, 25):

        def loss(x, z0, params, k=k):
            return jnp.sum(spikes_only(model, sg.MultiGaussianGrad(), save_every=k)(x, z0, params))

        jaxpr = jax.make_jaxpr(jax.grad(loss, (0, 1, 2)))(x, z0, PARAMS[model])
        prims = [e.primitive.name for e in jaxpr.eqns]
        assert prims.count("spikegrad_neuron_forward") == 1
        assert prims.count("spikegrad_neuron_bptt") == 1
        assert "scan" not in prims and "spikegrad_neuron_tangent" not in prims
        (fwd,) = [e for e in jaxpr.eqns if e.primitive.name == "spikegrad_neuron_forward"]
        assert fwd.params["stride"] == k and fwd.params["keep"]
        rows = -(-T // k)
        assert [v.aval.shape for v in fwd.outvars[1:]] == [(rows, *shape)] * len(z0)


@pytest.mark.parametrize("model", MODELS)
def test_save_every_changes_no_gradient(model, x64):
    x, z0 = inputs(17, 23, (3, 9), model, dtype=np.float64)
    params = _params(model, "per_neuron", (3, 9), jnp.float64)
    w, _ = _weights(6, x.shape, 0, jnp.float64)

    def grads(k):
        loss = weighted(spikes_only(model, sg.MultiGaussianGrad(), "hard", k), w)
        return jax.jit(jax.grad(loss, (0, 1, 2)))(x, z0, params)

    want = grads(1)
    for k in (5, 40):
        _close(grads(k), want, 1e-13)


@pytest.mark.parametrize("model", MODELS)
def test_grad_of_empty_and_single_step_sequences(model):
    for T, shape in [(0, (4,)), (1, (4,)), (3, (0,))]:
        x = jnp.ones((T, *shape), jnp.float32) * 2.0
        z0 = tuple(jnp.full(shape, 0.3) for _ in Z0_NAMES[model])
        params = {k: jnp.float32(v) for k, v in PARAMS[model].items()}
        loss = weighted(spikes_only(model, sg.Sigmoid()), jnp.ones(x.shape))
        ref = weighted(lambda *a: reference("scan", model, braintools.surrogate.Sigmoid())(*a)[0], jnp.ones(x.shape))
        _close(jax.grad(loss, (0, 1, 2))(x, z0, params), jax.grad(ref, (0, 1, 2))(x, z0, params), 2e-6)


@pytest.mark.parametrize("model", MODELS)
def test_bptt_without_parameter_gradients_skips_them(model):
    """A gradient that differentiates no neuron parameter runs the BPTT
    kernel without the constants' cotangents (a target of its own); its
    gradients, their vmap and their forward-mode derivative are bit for bit
    those of a gradient that also differentiates the parameters, on the
    kernels and on the lax.scan form; with a parameter differentiated the full
    BPTT runs."""
    T, shape = 12, (3, 40)
    x, z0 = inputs(21, T, shape, model)
    params = _params(model, "per_neuron", shape, jnp.float32)
    w, _ = _weights(8, x.shape, 0)
    loss = weighted(spikes_only(model, sg.MultiGaussianGrad(), save_every=4), w)
    x_only = jax.jit(jax.grad(loss, (0, 1)))
    everything = jax.jit(jax.grad(loss, (0, 1, 2)))
    tangent = jnp.cos(x)
    for setting in ("auto", "xla"):
        with spikegrad.lowering(setting):
            text_x, text_all = x_only.lower(x, z0, params).as_text(), everything.lower(x, z0, params).as_text()
            got, full = x_only(x, z0, params), everything(x, z0, params)
            if setting != "auto":  # the lax.scan form: the values only
                for u, v in zip(jax.tree.leaves(got), jax.tree.leaves(full[:2]), strict=True):
                    np.testing.assert_array_equal(np.asarray(u), np.asarray(v), err_msg=f"{model} {setting}")
                assert "spikegrad_neuron_bptt" not in text_x
                continue
            batched = jax.vmap(x_only, in_axes=(0, None, None))(jnp.stack([x, 2 * x]), z0, params)
            one = [x_only(2 * x, z0, params)]
            # jitted, the parameters arguments: folded from constants (eager,
            # or closed over) their exp can round differently.
            jvp_x = jax.jit(lambda x, z0, p: jax.jvp(lambda x: jax.grad(loss)(x, z0, p), (x,), (tangent,)))(
                x, z0, params
            )
            jvp_all = jax.jit(
                lambda x, z0, p: jax.jvp(lambda x: jax.grad(loss, (0, 2))(x, z0, p)[0], (x,), (tangent,))
            )(x, z0, params)
        assert "@spikegrad_neuron_bptt_states(" in text_x and "@spikegrad_neuron_bptt(" not in text_x
        assert "@spikegrad_neuron_bptt(" in text_all and "@spikegrad_neuron_bptt_states(" not in text_all
        pairs = [
            (got, full[:2]),
            (jax.tree.map(lambda a: a[0], batched), got),
            (jax.tree.map(lambda a: a[1], batched), one[0]),
            (jvp_x, jvp_all),
        ]
        for a, b in pairs:
            assert_trees_equal(a, b, err_msg=f"{model} {setting}")
        _nonzero(full[2])
