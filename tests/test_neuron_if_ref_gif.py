"""``if_``/``IF``, ``lif_ref``/``LIFRef`` and ``gif``/``Gif`` against
brainpy.state's classes themselves (tests/helpers/brainpy_models.py): values
and gradients w.r.t. x, the initial states and every parameter in float64
(both resets, scalar and per-neuron parameters), float32 against
brainpy.state's own float32 drift, the Rust tangent and BPTT against JAX
autodiff of the model description's scan, continued sequences (LIFRef inside
its refractory period), ``tau_ref = 0`` as ``lif``, vmap, the checkpoint
stride, a recurrent weight, the modules across calls, the errors, and the
Pallas kernels (interpreted) against the Rust ones."""

from __future__ import annotations

import os

import brainpy
import brainstate
import braintools
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.brainpy_models import CLASSES, PARAMS, STATES, Z0_NAMES, brainpy_run, drive

import spikegrad
import spikegrad.surrogate as sg
from spikegrad import neuron
from spikegrad.neuron._models import MODELS as DESCRIPTIONS

#: The sampled stages of scripts/test.sh (SPIKEGRAD_TEST_SURROGATES=sample: the
#: oldest jax, Python 3.12's releases) run LIFRef, the model with the most code
#: of its own (the refractory clock); IF and Gif run in the full stage.
MODELS = ("lif_ref",) if os.environ.get("SPIKEGRAD_TEST_SURROGATES") == "sample" else tuple(PARAMS)
FUNCTIONS = {"if": neuron.if_, "lif_ref": neuron.lif_ref, "gif": neuron.gif}


def run(model, x, z0, params, spk_fun, hard=False, **kw):
    """``(spikes, states)`` of spikegrad's function."""
    kw = dict(kw, **dict(zip(Z0_NAMES[model], z0)))
    return FUNCTIONS[model](
        x, **params, **kw, spk_fun=spk_fun, spk_reset="hard" if hard else "soft", return_states=True
    )


def per_neuron(model, n, dtype):
    """Every parameter but dt per neuron, around PARAMS."""
    rng = np.random.default_rng(7)
    out = {}
    for k, v in PARAMS[model].items():
        if k == "dt":
            out[k] = jnp.asarray(v, dtype)
            continue
        # tau_ref stays a multiple of dt plus a margin (no ties at the boundary).
        spread = 0.0 if k == "tau_ref" else rng.uniform(-0.15, 0.15, n) * (abs(v) if v else 0.1)
        out[k] = jnp.asarray(v + spread, dtype)
    return out


def loss_of(model, f, w, ws):
    """A scalar of the spikes and the states but LIFRef's clock (no gradient, ``inf``)."""

    def loss(x, z0, params):
        s, states = f(x, z0, params)
        kept = [z for name, z in zip(STATES[model], states) if name != "r"]
        return jnp.sum(w * s) + sum(jnp.sum(wi * z) for wi, z in zip(ws, kept))

    return loss


def _scaled_close(got, want, rel):
    """Each leaf within ``rel`` of the group's largest magnitude."""
    leaves = list(zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True))
    scale = max(max(float(np.abs(np.asarray(b, np.float64)).max(initial=0.0)) for _, b in leaves), 1e-30)
    for a, b in leaves:
        np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=0, atol=rel * scale)


def _states_close(got, want, rel):
    for a, b in zip(got, want, strict=True):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        np.testing.assert_array_equal(np.isinf(a), np.isinf(b))
        fin = np.isfinite(b)
        np.testing.assert_allclose(a[fin], b[fin], rtol=0, atol=rel * max(1.0, np.abs(b[fin]).max(initial=0.0)))


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("reset", ["soft", "hard"])
def test_float64_values_and_gradients_match_brainpy_state(model, reset, x64):
    """Spikes identical, states within 1e-10, gradients w.r.t. x, the initial
    states and every parameter within 1e-8 (per-neuron parameters under the
    soft reset, scalars under the hard one)."""
    hard = reset == "hard"
    n = 24
    x, z0 = drive(1, 24, (n,), model, jnp.float64)
    params = per_neuron(model, n, jnp.float64) if not hard else {k: jnp.float64(v) for k, v in PARAMS[model].items()}
    ours, theirs = sg.Sigmoid(alpha=2.0), braintools.surrogate.Sigmoid(alpha=2.0)
    s, states = run(model, x, z0, params, ours, hard)
    want_s, want_z = brainpy_run(model, x, z0, params, theirs, hard)
    np.testing.assert_array_equal(np.asarray(s), np.asarray(want_s))
    assert 0.05 < float(jnp.mean(s)) < 0.95
    _states_close(states, want_z, 1e-10)
    if model == "lif_ref":  # the refractory period held some neurons
        assert int(jnp.sum((want_z[1] > 0) & (want_z[1] < params["tau_ref"]))) > 0

    ks = jax.random.split(jax.random.PRNGKey(3), 5)
    w = jax.random.normal(ks[0], x.shape, jnp.float64)
    ws = [jax.random.normal(k, x.shape, jnp.float64) for k in ks[1 : len(STATES[model]) + 1]]
    got = jax.grad(loss_of(model, lambda *a: run(model, *a, ours, hard), w, ws), (0, 1, 2))(x, z0, params)
    want = jax.grad(loss_of(model, lambda *a: brainpy_run(model, *a, theirs, hard), w, ws), (0, 1, 2))(x, z0, params)
    _scaled_close(got[0], want[0], 1e-8)
    for name, a, b in zip(STATES[model], got[1], want[1]):
        if name == "r":  # not differentiated
            np.testing.assert_array_equal(np.asarray(a), 0.0)
        else:
            _scaled_close(a, b, 1e-8)
    _scaled_close(got[2], want[2], 1e-8)
    assert all(float(jnp.abs(got[2][k]).max()) > 0 for k in params if k not in ("tau_ref",)), got[2]
    if "tau_ref" in params:
        np.testing.assert_array_equal(np.asarray(got[2]["tau_ref"]), 0.0)


@pytest.mark.parametrize("model", MODELS)
def test_float32_within_brainpy_states_own_drift(model, x64):
    """Spikes identical for >= 90% of the neurons; where every run agrees on
    a neuron's spikes, its states are within max(1e-5, 10x brainpy.state's
    float32-to-float64 drift) of brainpy.state's float64 run."""
    x, z0 = drive(2, 40, (64,), model, jnp.float32)
    params = PARAMS[model]
    ours, theirs = sg.MultiGaussianGrad(), braintools.surrogate.MultiGaussianGrad()
    s, states = run(model, x, z0, params, ours)
    assert s.dtype == jnp.float32
    s32, z32 = brainpy_run(model, x, z0, params, theirs)
    x64_, z64_ = x.astype(jnp.float64), tuple(z.astype(jnp.float64) for z in z0)
    s64, z64 = brainpy_run(model, x64_, z64_, {k: jnp.float64(v) for k, v in params.items()}, theirs)
    s, s32, s64 = (np.asarray(a) for a in (s, s32, s64))
    same = np.all(s == s64, axis=0)
    assert same.mean() >= 0.9, same.mean()
    assert s.sum() > 0
    agree = same & np.all(s32 == s64, axis=0)
    for a, b32, b64 in zip(states, z32, z64):
        a, b32, b64 = (np.asarray(v, np.float64)[:, agree] for v in (a, b32, b64))
        fin = np.isfinite(b64)
        np.testing.assert_array_equal(np.isfinite(a), fin)
        drift = np.abs(b32[fin] - b64[fin]).max(initial=0.0)
        scale = max(1.0, np.abs(b64[fin]).max(initial=0.0))
        np.testing.assert_allclose(a[fin], b64[fin], rtol=0, atol=max(1e-5 * scale, 10 * drift))


@pytest.mark.parametrize("model", MODELS)
def test_kernel_tangent_and_bptt_match_autodiff_of_the_description(model, x64):
    """The Rust tangent and BPTT passes against ``jax.jvp``/``jax.grad`` of
    the description's ``lax.scan`` (a user spike function runs it), with
    every input's tangent at once."""
    x, z0 = drive(3, 20, (3, 16), model, jnp.float64)
    params = {k: jnp.float64(v) for k, v in PARAMS[model].items()}
    fused = lambda *a: run(model, *a, sg.Sigmoid(alpha=2.0))  # noqa: E731
    scan = lambda *a: run(model, *a, braintools.surrogate.Sigmoid(alpha=2.0))  # noqa: E731
    ks = jax.random.split(jax.random.PRNGKey(4), 3)
    tx = jax.random.normal(ks[0], x.shape, jnp.float64)
    tz = tuple(jnp.zeros_like(z) if n == "r" else jnp.ones_like(z) * 0.3 for n, z in zip(STATES[model], z0))
    tp = {k: jnp.float64(0.1) for k in params}
    got = jax.jvp(fused, (x, z0, params), (tx, tz, tp))
    want = jax.jvp(scan, (x, z0, params), (tx, tz, tp))
    np.testing.assert_array_equal(np.asarray(got[0][0]), np.asarray(want[0][0]))
    _scaled_close(got[1][0], want[1][0], 1e-9)
    assert float(jnp.abs(got[1][0]).max()) > 0
    for name, a, b in zip(STATES[model], got[1][1], want[1][1]):
        if name != "r":
            _scaled_close(a, b, 1e-9)
    w = jax.random.normal(ks[1], x.shape, jnp.float64)
    ws = [jnp.full(x.shape, 0.01)] * len(STATES[model])
    g = jax.grad(loss_of(model, fused, w, ws), (0, 1, 2))(x, z0, params)
    h = jax.grad(loss_of(model, scan, w, ws), (0, 1, 2))(x, z0, params)
    _scaled_close(g[0], h[0], 1e-9)
    _scaled_close(g[2], h[2], 1e-9)


@pytest.mark.parametrize("model", MODELS)
def test_a_continued_sequence_equals_one_run(model):
    """Split at step 9 and continued from the returned states: the same
    spikes and states (LIFRef: neurons refractory across the split)."""
    x, z0 = drive(5, 20, (4, 32), model)
    f = lambda x, z: run(model, x, z, PARAMS[model], sg.MultiGaussianGrad())  # noqa: E731
    s, states = f(x, z0)
    s1, st1 = f(x[:9], z0)
    s2, st2 = f(x[9:], tuple(z[-1] for z in st1))
    np.testing.assert_array_equal(np.asarray(jnp.concatenate([s1, s2])), np.asarray(s))
    for a, b, c in zip(st1, st2, states):
        np.testing.assert_array_equal(np.asarray(jnp.concatenate([a, b])), np.asarray(c))
    if model == "lif_ref":
        held = int(jnp.sum(st1[1][-1] < PARAMS[model]["tau_ref"] - PARAMS[model]["dt"]))
        assert held > 0  # refractory at the split, and through the next step


def test_lif_ref_without_refractory_period_is_lif():
    x, (v0, _) = drive(6, 25, (40,), "lif_ref")
    p = {k: v for k, v in PARAMS["lif_ref"].items() if k != "tau_ref"}
    f = lambda x, v0: neuron.lif_ref(x, v0, **p, tau_ref=0.0, spk_fun=sg.Arctan(), return_states=True)  # noqa: E731
    g = lambda x, v0: neuron.lif(x, v0, **p, spk_fun=sg.Arctan(), return_states=True)  # noqa: E731
    (s, (v, _)), (s_lif, (v_lif,)) = f(x, v0), g(x, v0)
    np.testing.assert_array_equal(np.asarray(s), np.asarray(s_lif))
    np.testing.assert_array_equal(np.asarray(v), np.asarray(v_lif))
    assert float(s.sum()) > 0
    gf = jax.grad(lambda x: jnp.sum(f(x, v0)[0] * jnp.arange(25.0)[:, None]))(x)
    gg = jax.grad(lambda x: jnp.sum(g(x, v0)[0] * jnp.arange(25.0)[:, None]))(x)
    np.testing.assert_allclose(np.asarray(gf), np.asarray(gg), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("model", MODELS)
def test_vmap_and_the_checkpoint_stride(model):
    """vmap over a batch axis equals the rows run one by one; BPTT with every
    step saved equals the default stride."""
    x, z0 = drive(8, 20, (3, 8), model)
    p = PARAMS[model]

    def loss(x, z0, save_every=None):
        s, states = run(model, x, z0, p, sg.MultiGaussianGrad(), save_every=save_every)
        ramp = jnp.arange(s.shape[0]).reshape(-1, *[1] * (s.ndim - 1))
        return jnp.sum(s * ramp) + 0.01 * jnp.sum(states[0])

    batched = jax.vmap(jax.grad(loss), in_axes=(1, 0), out_axes=1)(x, z0)
    rows = [jax.grad(loss)(x[:, i], tuple(z[i] for z in z0)) for i in range(3)]
    np.testing.assert_allclose(np.asarray(batched), np.stack([np.asarray(r) for r in rows], 1), rtol=1e-6, atol=1e-7)
    g1 = jax.grad(loss, (0, 1))(x, z0, 1)
    g16 = jax.grad(loss, (0, 1))(x, z0, 16)
    for a, b in zip(jax.tree.leaves(g1), jax.tree.leaves(g16)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert float(jnp.abs(g1[0]).max()) > 0


def test_recurrent_lif_ref_matches_brainpy_state(x64):
    """``w_rec``: each step's input is ``x_t + s_prev @ w_rec``, as a bias-free
    recurrent projection into brainpy.state's LIFRef."""
    n = 12
    x, z0 = drive(9, 14, (2, n), "lif_ref", jnp.float64)
    w = 0.4 * jax.random.normal(jax.random.PRNGKey(10), (n, n), jnp.float64)
    p = {k: jnp.float64(v) for k, v in PARAMS["lif_ref"].items()}
    ours, theirs = sg.Sigmoid(alpha=2.0), braintools.surrogate.Sigmoid(alpha=2.0)
    s, states = run("lif_ref", x, z0, p, ours, w_rec=w)
    want_s, want_z = brainpy_run("lif_ref", x, z0, p, theirs, w_rec=w)
    np.testing.assert_array_equal(np.asarray(s), np.asarray(want_s))
    _states_close(states, want_z, 1e-10)
    wl = jax.random.normal(jax.random.PRNGKey(11), x.shape, jnp.float64)
    gw = jax.grad(lambda w: jnp.sum(wl * run("lif_ref", x, z0, p, ours, w_rec=w)[0]))(w)
    want = jax.grad(lambda w: jnp.sum(wl * brainpy_run("lif_ref", x, z0, p, theirs, w_rec=w)[0]))(w)
    _scaled_close(gw, want, 1e-8)
    assert float(jnp.abs(gw).max()) > 0


@pytest.mark.parametrize("model", MODELS)
def test_module_matches_brainpy_state_across_calls(model):
    """The module over two calls (environ t continuing for brainpy.state)
    against brainpy.state's class; a ParamState parameter is trained."""
    x, _ = drive(12, 24, (2, 16), model)
    p = {k: v for k, v in PARAMS[model].items() if k != "dt"}
    dt = PARAMS[model]["dt"]
    with brainstate.environ.context(dt=dt):
        ours = getattr(neuron, CLASSES[model])(16, **p, spk_fun=sg.MultiGaussianGrad())
        ours.init_state(batch_size=2)
        inits = {
            f"{n}_initializer": braintools.init.Constant(DESCRIPTIONS[model].init.get(n, 0.0)) for n in STATES[model]
        }
        inits.pop("r_initializer", None)  # LIFRef's clock: last_spike_time, set below
        theirs = getattr(brainpy.state, CLASSES[model])(
            16, **p, **inits, spk_fun=braintools.surrogate.MultiGaussianGrad()
        )
        theirs.init_state(batch_size=2)
        if model == "lif_ref":
            theirs.last_spike_time.value = jnp.full((2, 16), -1e7)

        def step(i, xt):
            with brainstate.environ.context(t=i * dt):
                return theirs(xt)

        for lo, hi in ((0, 10), (10, 24)):
            got = ours(x[lo:hi])
            want = brainstate.transform.for_loop(step, jnp.arange(lo, hi), x[lo:hi])
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
            for name in STATES[model]:
                if name == "r":
                    b = (hi - 1) * dt - theirs.last_spike_time.value
                    a = ours.r.value
                    fired = b < 1e6
                    np.testing.assert_array_equal(np.asarray(a)[np.asarray(fired)], np.asarray(b)[np.asarray(fired)])
                    assert bool(jnp.all(jnp.isinf(a[~fired])))
                else:
                    b = getattr(theirs, name).value
                    np.testing.assert_allclose(
                        np.asarray(getattr(ours, name).value),
                        np.asarray(b),
                        rtol=0,
                        atol=2e-6 * max(1.0, float(jnp.abs(b).max())),
                    )
        assert float(jnp.mean(got)) > 0.02

        layer = getattr(neuron, CLASSES[model])(16, **dict(p, tau=brainstate.ParamState(jnp.full(16, p["tau"]))))
        layer.init_state(batch_size=2)

        def loss():
            layer.reset_state(batch_size=2)
            return jnp.sum(layer(x) * jnp.arange(24.0)[:, None, None])

        grads = brainstate.transform.grad(loss, grad_states=layer.states(brainstate.ParamState))()
        assert float(jnp.abs(jax.tree.leaves(grads)[0]).max()) > 0


@pytest.mark.parametrize(
    "model, kwargs, match",
    [
        ("if", dict(V_th=0.0), "V_th must be nonzero"),
        ("if", dict(tau=0.0), "tau must be > 0"),
        ("lif_ref", dict(tau_ref=-0.5), "tau_ref must be >= 0"),
        ("lif_ref", dict(V_reset=1.0), "V_th must differ from V_reset"),
        ("lif_ref", dict(dt=-1.0), "dt must be > 0"),
        ("gif", dict(tau=-1.0), "tau must be > 0"),
        ("gif", dict(b=float("nan")), "b must be finite"),
        ("gif", dict(k1=np.ones(3)), "does not broadcast"),
    ],
)
def test_bad_parameters_raise_before_any_kernel_also_under_jit(model, kwargs, match):
    x = jnp.ones((4, 5))
    p = dict(PARAMS[model], **kwargs)
    with pytest.raises(ValueError, match=match):
        FUNCTIONS[model](x, **p)
    with pytest.raises(ValueError, match=match):
        jax.jit(lambda x: FUNCTIONS[model](x, **p))(x)
    with pytest.raises(ValueError, match=match):
        jax.eval_shape(lambda x: FUNCTIONS[model](x, **p), x)


@pytest.mark.parametrize("model", MODELS)
def test_pallas_kernels_equal_the_rust_kernels(model):
    """The Pallas kernels (interpreted on CPU; what a GPU runs) on the same
    description: spikes, states and the input gradient as the Rust kernels'."""
    x, z0 = drive(13, 12, (2, 64), model)

    def loss(x, z0):
        s, states = run(model, x, z0, PARAMS[model], sg.Sigmoid(alpha=2.0))
        return jnp.sum(s * jnp.arange(12.0)[:, None, None]) + 0.01 * jnp.sum(states[0]), (s, states)

    (_, (s, states)), g = jax.value_and_grad(loss, has_aux=True)(x, z0)
    with spikegrad.lowering("pallas"):
        (_, (s_p, states_p)), g_p = jax.value_and_grad(loss, has_aux=True)(x, z0)
    np.testing.assert_array_equal(np.asarray(s_p), np.asarray(s))
    assert float(s.sum()) > 0
    _states_close(states_p, states, 2e-6)
    _scaled_close(g_p, g, 1e-5)
