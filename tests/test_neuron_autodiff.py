"""Fused LIF derivatives: grad/vjp w.r.t. x and v0 and jvp/jacfwd, against
jax.grad of a plain lax.scan with the braintools surrogate and against
brainpy.state.LIF itself; the BPTT kernel is the exact transpose of the
tangent kernel."""

from __future__ import annotations

import braintools
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.lif_reference import PARAMS, brainpy_lif, inputs, scan_lif

import spikegrad.surrogate as sg
from spikegrad.neuron import lif

SURROGATES = [
    (sg.ReluGrad(), braintools.surrogate.ReluGrad()),
    (sg.MultiGaussianGrad(), braintools.surrogate.MultiGaussianGrad()),
    (sg.Sigmoid(alpha=2.0), braintools.surrogate.Sigmoid(alpha=2.0)),
    (sg.Arctan(), braintools.surrogate.Arctan()),
]
IDS = [type(o).__name__ for o, _ in SURROGATES]


def _close(got, want, rel):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    scale = max(np.abs(want).max(), 1e-30)
    np.testing.assert_allclose(got, want, rtol=0, atol=rel * scale)
    assert np.abs(want).max() > 0


def _loss(f, w_s, w_v=None):
    def loss(x, v0):
        s, v = f(x, v0)
        total = jnp.sum(w_s * s)
        return total + (jnp.sum(w_v * v) if w_v is not None else 0.0)

    return loss


@pytest.mark.parametrize("reset", ["soft", "hard"])
@pytest.mark.parametrize("ours, theirs", SURROGATES, ids=IDS)
def test_grad_matches_scan_and_brainpy(reset, ours, theirs):
    hard = reset == "hard"
    x, v0 = inputs(10, 30, (4, 40))
    w = jax.random.normal(jax.random.PRNGKey(1), x.shape)
    fused = _loss(lambda x, v0: lif(x, v0, **PARAMS, spk_fun=ours, spk_reset=reset, return_v=True), w)
    scan = _loss(lambda x, v0: scan_lif(x, v0, **PARAMS, spk_fun=theirs, hard=hard), w)
    bp = _loss(lambda x, v0: brainpy_lif(x, v0, **PARAMS, spk_fun=theirs, hard=hard), w)
    g = jax.grad(fused, argnums=(0, 1))(x, v0)
    for ref in (scan, bp):
        want = jax.grad(ref, argnums=(0, 1))(x, v0)
        for a, b in zip(g, want):
            _close(a, b, 2e-5)


@pytest.mark.parametrize("reset", ["soft", "hard"])
def test_grad_through_v_output(reset):
    """A cotangent on the returned potentials as well as on the spikes."""
    hard = reset == "hard"
    x, v0 = inputs(11, 25, (3, 30))
    ws = jax.random.normal(jax.random.PRNGKey(2), x.shape)
    wv = jax.random.normal(jax.random.PRNGKey(3), x.shape)
    ours = sg.MultiGaussianGrad()
    fused = _loss(lambda x, v0: lif(x, v0, **PARAMS, spk_fun=ours, spk_reset=reset, return_v=True), ws, wv)
    ref = _loss(
        lambda x, v0: scan_lif(x, v0, **PARAMS, spk_fun=braintools.surrogate.MultiGaussianGrad(), hard=hard),
        ws,
        wv,
    )
    for a, b in zip(jax.grad(fused, (0, 1))(x, v0), jax.grad(ref, (0, 1))(x, v0)):
        _close(a, b, 2e-5)


@pytest.mark.parametrize("reset", ["soft", "hard"])
def test_float64_grad_is_tight(reset, x64):
    hard = reset == "hard"
    x, v0 = inputs(12, 30, (3, 20), dtype=np.float64)
    w = jax.random.normal(jax.random.PRNGKey(4), x.shape, jnp.float64)
    fused = _loss(lambda x, v0: lif(x, v0, **PARAMS, spk_fun=sg.Sigmoid(), spk_reset=reset, return_v=True), w)
    ref = _loss(lambda x, v0: scan_lif(x, v0, **PARAMS, spk_fun=braintools.surrogate.Sigmoid(), hard=hard), w)
    for a, b in zip(jax.grad(fused, (0, 1))(x, v0), jax.grad(ref, (0, 1))(x, v0)):
        assert a.dtype == jnp.float64
        _close(a, b, 1e-12)


@pytest.mark.parametrize("reset", ["soft", "hard"])
def test_jvp_and_jacfwd_match_scan(reset):
    hard = reset == "hard"
    x, v0 = inputs(13, 12, (10,))
    tx = jax.random.normal(jax.random.PRNGKey(5), x.shape)
    tv = jax.random.normal(jax.random.PRNGKey(6), v0.shape)
    ours, theirs = sg.Sigmoid(alpha=2.0), braintools.surrogate.Sigmoid(alpha=2.0)

    def fused(x, v0):
        return lif(x, v0, **PARAMS, spk_fun=ours, spk_reset=reset, return_v=True)

    def ref(x, v0):
        return scan_lif(x, v0, **PARAMS, spk_fun=theirs, hard=hard)

    (_, got), (_, want) = jax.jvp(fused, (x, v0), (tx, tv)), jax.jvp(ref, (x, v0), (tx, tv))
    for a, b in zip(got, want):
        _close(a, b, 2e-5)
    jf = jax.jacfwd(lambda v0: fused(x, v0)[0])(v0)
    jr = jax.jacfwd(lambda v0: ref(x, v0)[0])(v0)
    _close(jf, jr, 2e-5)
    jb = jax.jacrev(lambda v0: fused(x, v0)[0])(v0)
    _close(jb, jr, 2e-5)


def test_vjp_is_the_transpose_of_jvp(x64):
    """<vjp(ct), t> == <ct, jvp(t)> in float64: the BPTT kernel is the exact
    transpose of the tangent kernel."""
    x, v0 = inputs(14, 20, (6, 7), dtype=np.float64)
    k = jax.random.split(jax.random.PRNGKey(7), 4)
    tx, tv = jax.random.normal(k[0], x.shape, jnp.float64), jax.random.normal(k[1], v0.shape, jnp.float64)
    cs, cv = jax.random.normal(k[2], x.shape, jnp.float64), jax.random.normal(k[3], x.shape, jnp.float64)

    def f(x, v0):
        return lif(x, v0, **PARAMS, spk_fun=sg.MultiGaussianGrad(), spk_reset="hard", return_v=True)

    _, (ds, dv) = jax.jvp(f, (x, v0), (tx, tv))
    _, pullback = jax.vjp(f, x, v0)
    gx, gv = pullback((cs, cv))
    lhs = float(jnp.vdot(gx, tx) + jnp.vdot(gv, tv))
    rhs = float(jnp.vdot(cs, ds) + jnp.vdot(cv, dv))
    assert abs(lhs - rhs) <= 1e-11 * max(1.0, abs(rhs)) and abs(rhs) > 1e-3


def test_reverse_pass_keeps_only_the_potentials():
    """The residuals of a fused grad are x-sized at most once (the potentials):
    no per-step surrogate values or spikes are stored."""
    x, v0 = inputs(15, 10, (16,))

    def f(x):
        return jnp.sum(lif(x, v0, **PARAMS, spk_fun=sg.MultiGaussianGrad()))

    jaxpr = jax.make_jaxpr(jax.grad(f))(x)
    prims = [e.primitive.name for e in jaxpr.jaxpr.eqns]
    assert prims.count("spikegrad_lif_forward") == 1
    assert prims.count("spikegrad_lif_bptt") == 1
    assert "scan" not in prims


def test_traced_parameter_gradient_matches_scan():
    """A traced tau takes the scan path, and its gradient is brainpy's."""
    x, v0 = inputs(16, 20, (12,))
    w = jax.random.normal(jax.random.PRNGKey(8), x.shape)
    base = {k: v for k, v in PARAMS.items() if k != "tau"}

    def fused(tau):
        return jnp.sum(w * lif(x, v0, **base, tau=tau, spk_fun=sg.Sigmoid()))

    def ref(tau):
        return jnp.sum(w * brainpy_lif(x, v0, **base, tau=tau, spk_fun=braintools.surrogate.Sigmoid())[0])

    np.testing.assert_allclose(jax.grad(fused)(2.0), jax.grad(ref)(2.0), rtol=2e-5)
    np.testing.assert_allclose(jax.jit(fused)(2.0), fused(2.0))
