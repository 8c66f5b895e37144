"""Recurrent fused neurons (``w_rec=``): each step's input is
``x_t + s_prev @ w_rec``. Checked against brainpy.state's classes with a
bias-free ``brainstate.nn.Linear(n, n)`` stepped by
``brainstate.transform.for_loop`` (values and gradients), against a float64
NumPy loop, under ``vmap``, ``jvp`` (its transpose against ``vjp``), ``jit``
and ``checkpoint``; the modules in a training step; every error path."""

from __future__ import annotations

import brainpy
import brainstate
import braintools
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.neuron_reference import CLASSES, MODELS, PARAMS, STATES, STEPS, inputs
from helpers.x64 import enable_x64

import spikegrad.surrogate as sg
from spikegrad import neuron

#: Input scale: with the recurrence (mixed-sign weights) the layers fire a
#: few % to tens of % of their neuron-steps.
N = 12


def _weights(seed, n=N, dtype=np.float32):
    """Mixed excitatory and inhibitory recurrent weights, no self-connections."""
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 0.6, (n, n))
    np.fill_diagonal(w, 0.0)
    return w.astype(dtype)


def _inputs(seed, model, shape=(3, N), T=24, dtype=np.float32):
    x, z0 = inputs(seed, T, shape, model, dtype=dtype)
    return x * 0.6, z0


def _call(model, x, z0, w_rec, params=None, **kw):
    params = PARAMS[model] if params is None else params
    return getattr(neuron, model)(x, *z0, **params, w_rec=w_rec, **kw)


def numpy_recurrent(model, x, z0, params, w_rec, hard=False):
    """``(spikes, states)`` of the recurrent neuron, in float64 NumPy."""
    u_of, step = STEPS[model]
    x = np.asarray(x, np.float64)
    w = np.asarray(w_rec, np.float64)
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    z = tuple(np.broadcast_to(np.asarray(a, np.float64), x.shape[1:]).copy() for a in z0)
    spikes, states = [], []
    for xt in x:
        s = (u_of(z, p) >= 0).astype(np.float64)
        z = tuple(np.broadcast_to(a, x.shape[1:]) for a in step(np, z, xt + s @ w, s, p, hard, lambda v: v))
        spikes.append((u_of(z, p) >= 0).astype(np.float64))
        states.append(z)
    return np.stack(spikes), tuple(np.stack([st[i] for st in states]) for i in range(len(z)))


def brainpy_recurrent(model, x, z0, params, w_rec, spk_fun, hard=False):
    """``(spikes, states)`` from brainpy.state's class and a bias-free
    ``brainstate.nn.Linear(n, n)`` holding ``w_rec``: each step
    ``neuron(x_t + rec(neuron.get_spike()))`` (CubaLIF: the sum as its delta
    input). A pure function of its arguments, so ``jax.grad`` applies."""
    p = dict(params)
    dt = p.pop("dt")
    names = STATES[model]
    shape = x.shape[1:]
    with brainstate.environ.context(dt=dt):
        inits = {f"{n}_initializer": braintools.init.Constant(0.0) for n in names}
        cell = getattr(brainpy.state, CLASSES[model])(
            shape, **p, **inits, spk_fun=spk_fun, spk_reset="hard" if hard else "soft"
        )
        rec = brainstate.nn.Linear(shape[-1], shape[-1], w_init=braintools.init.Constant(0.0), b_init=None)
        rec.weight.value = {"weight": w_rec}
        cell.init_state()
        for n, a in zip(names, z0):
            getattr(cell, n).value = jnp.broadcast_to(a, shape).astype(x.dtype)

        def step(xt):
            inp = xt + rec(cell.get_spike())
            if model == "cuba_lif":
                cell.add_delta_input("x", inp)
                out = cell(jnp.zeros_like(xt))
            else:
                out = cell(inp)
            return out, tuple(getattr(cell, n).value for n in names)

        return brainstate.transform.for_loop(step, x)


def _close(got, want, rel):
    """Every leaf within ``rel`` of the largest |value| of its reference."""
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
        b = np.asarray(b, np.float64)
        assert np.asarray(a).shape == b.shape
        np.testing.assert_allclose(
            np.asarray(a, np.float64), b, rtol=0, atol=rel * max(np.abs(b).max(initial=0.0), 1e-30)
        )


def _fires_and_recurrence_matters(model, x, z0, w, spikes):
    rate = float(np.mean(np.asarray(spikes)))
    assert 0.02 < rate < 0.6, rate
    plain = _call(model, x, z0, np.zeros_like(w))
    assert np.any(np.asarray(plain) != np.asarray(spikes))


# ---- values ------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("reset", ["soft", "hard"])
def test_matches_numpy_float64(model, reset, x64):
    x, z0 = _inputs(1, model, dtype=np.float64)
    w = _weights(1, dtype=np.float64)
    spikes, states = _call(model, x, z0, w, spk_reset=reset, return_states=True)
    want_s, want_z = numpy_recurrent(model, x, z0, PARAMS[model], w, hard=reset == "hard")
    assert spikes.dtype == jnp.float64 and spikes.shape == x.shape
    np.testing.assert_array_equal(np.asarray(spikes), want_s)
    _close(states, want_z, 1e-12)


@pytest.mark.parametrize("model", MODELS)
def test_matches_numpy_float32_and_half(model):
    x, z0 = _inputs(2, model, shape=(2, 3, N))
    w = _weights(2)
    spikes, states = _call(model, x, z0, w, return_states=True)
    want_s, want_z = numpy_recurrent(model, x, z0, PARAMS[model], w)
    assert spikes.dtype == jnp.float32 and all(s.dtype == jnp.float32 for s in states)
    np.testing.assert_array_equal(np.asarray(spikes), want_s)
    _close(states, want_z, 1e-5)
    if model == "lif":  # return_v: the same potentials
        _, v = neuron.lif(x, *z0, **PARAMS[model], w_rec=w, return_v=True)
        np.testing.assert_array_equal(np.asarray(v), np.asarray(states[0]))
    # Half precision: computed in float32 (states float32), spikes in x's dtype.
    xh = x.astype(jnp.bfloat16)
    sh, zh = _call(model, xh, z0, w.astype(jnp.bfloat16), return_states=True)
    assert sh.dtype == jnp.bfloat16 and all(s.dtype == jnp.float32 for s in zh)
    s32 = _call(model, xh.astype(jnp.float32), z0, w.astype(jnp.bfloat16).astype(jnp.float32))
    np.testing.assert_array_equal(np.asarray(sh, np.float32), np.asarray(s32))


def test_zero_weights_are_the_feed_forward_neuron_and_none_keeps_its_primitive():
    x, z0 = _inputs(3, "alif")
    plain, (v, a) = neuron.alif(x, *z0, **PARAMS["alif"], return_states=True)
    rec, (vr, ar) = neuron.alif(x, *z0, **PARAMS["alif"], return_states=True, w_rec=np.zeros((N, N), np.float32))
    np.testing.assert_array_equal(np.asarray(plain), np.asarray(rec))
    _close((vr, ar), (v, a), 1e-6)
    assert "neuron_forward" in str(jax.make_jaxpr(lambda x: neuron.alif(x, dt=0.5))(x))
    assert "neuron_forward" not in str(jax.make_jaxpr(lambda x: neuron.alif(x, dt=0.5, w_rec=jnp.eye(N)))(x))


# ---- brainpy.state: values and gradients ---------------------------------------


def _loss_pair(model, reset, surrogate, dtype):
    """Our loss and brainpy.state's, as functions of ``(x, w, z0, params)``,
    each with the spikes and states as its auxiliary output."""
    hard = reset == "hard"
    x, z0 = _inputs(4, model, dtype=dtype)
    cot = jax.random.normal(jax.random.PRNGKey(5), x.shape, dtype)
    cot_v = jax.random.normal(jax.random.PRNGKey(6), x.shape, dtype)
    params = {k: jnp.asarray(v, dtype) for k, v in PARAMS[model].items()}

    def ours(x, w, z0, p):
        s, states = _call(model, x, z0, w, params=p, spk_fun=surrogate[0], spk_reset=reset, return_states=True)
        return jnp.sum(cot * s) + jnp.sum(cot_v * states[0]), (s, states)

    def theirs(x, w, z0, p):
        s, states = brainpy_recurrent(model, x, z0, p, w, surrogate[1], hard=hard)
        return jnp.sum(cot * s) + jnp.sum(cot_v * states[0]), (s, states)

    return ours, theirs, (x, jnp.asarray(_weights(4, dtype=dtype)), tuple(z0), params)


SURROGATES = {
    "relu": (sg.ReluGrad(), braintools.surrogate.ReluGrad()),
    "multi_gaussian": (sg.MultiGaussianGrad(), braintools.surrogate.MultiGaussianGrad()),
}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("reset, surrogate", [("soft", "multi_gaussian"), ("hard", "relu")])
def test_matches_brainpy_state_float64(model, reset, surrogate, x64):
    ours, theirs, args = _loss_pair(model, reset, SURROGATES[surrogate], jnp.float64)
    x, w, z0, p = args
    got, (spikes, states) = jax.jit(jax.grad(ours, argnums=(0, 1, 2, 3), has_aux=True))(*args)
    want, (want_s, want_z) = jax.jit(jax.grad(theirs, argnums=(0, 1, 2, 3), has_aux=True))(*args)
    np.testing.assert_array_equal(np.asarray(spikes), np.asarray(want_s))
    _close(states, want_z, 1e-10)
    _fires_and_recurrence_matters(model, x, z0, w, spikes)
    assert np.abs(np.asarray(want[1])).max() > 0
    _close(got, want, 1e-10)


@pytest.mark.parametrize("model", MODELS)
def test_gradients_match_brainpy_state_float32(model):
    ours, theirs, args = _loss_pair(model, "soft", SURROGATES["multi_gaussian"], jnp.float32)
    got, (spikes, _) = jax.jit(jax.grad(ours, argnums=(0, 1, 2, 3), has_aux=True))(*args)
    want, (want_s, _) = jax.jit(jax.grad(theirs, argnums=(0, 1, 2, 3), has_aux=True))(*args)
    np.testing.assert_array_equal(np.asarray(spikes), np.asarray(want_s))
    _close(got, want, 1e-5)


@pytest.mark.parametrize("model", MODELS[1:])
def test_user_spike_function_matches_brainpy_state(model, x64):
    """A callable that is not a spikegrad surrogate (braintools' own) runs the same scan."""
    bt = braintools.surrogate.Sigmoid(alpha=2.0)
    x, z0 = _inputs(7, model, dtype=np.float64)
    w = jnp.asarray(_weights(7, dtype=np.float64))
    got = jax.grad(lambda x, w: jnp.sum(_call(model, x, z0, w, spk_fun=bt) * x), argnums=(0, 1))(x, w)
    want = jax.grad(lambda x, w: jnp.sum(brainpy_recurrent(model, x, z0, PARAMS[model], w, bt)[0] * x), argnums=(0, 1))(
        x, w
    )
    _close(got, want, 1e-10)


# ---- transformations -------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_jvp_is_the_transpose_of_vjp(model, x64):
    """``<jvp(t), c> == <t, vjp(c)>`` for tangents of x, w_rec and the initial states."""
    x, z0 = _inputs(8, model, dtype=np.float64)
    w = jnp.asarray(_weights(8, dtype=np.float64))
    mg = sg.MultiGaussianGrad()

    def f(x, w, z0):
        s, states = _call(model, x, z0, w, spk_fun=mg, return_states=True)
        return s, states

    primals = (x, w, tuple(jnp.asarray(a) for a in z0))
    keys = iter(jax.random.split(jax.random.PRNGKey(9), 16))
    tangents = jax.tree.map(lambda a: jax.random.normal(next(keys), a.shape, a.dtype), primals)
    out, t_out = jax.jit(lambda p, t: jax.jvp(f, p, t))(primals, tangents)
    cot = jax.tree.map(lambda a: jax.random.normal(next(keys), a.shape, a.dtype), out)
    t_in = jax.jit(lambda p, c: jax.vjp(f, *p)[1](c))(primals, cot)
    lhs = sum(float(jnp.vdot(a, b)) for a, b in zip(jax.tree.leaves(t_out), jax.tree.leaves(cot)))
    rhs = sum(float(jnp.vdot(a, b)) for a, b in zip(jax.tree.leaves(tangents), jax.tree.leaves(t_in)))
    assert abs(lhs) > 1e-3
    assert abs(lhs - rhs) <= 1e-10 * abs(lhs)


def test_vmap_jit_and_checkpoint():
    model = "lif"
    x, z0 = _inputs(10, model)
    ws = jnp.stack([jnp.asarray(_weights(s)) for s in (10, 11, 12)])
    xs = jnp.stack([x, x * 1.1, x * 0.9])

    def f(x, w):
        return _call(model, x, z0, w)

    batched = jax.vmap(f)(xs, ws)
    jf = jax.jit(f)
    for i in range(3):
        np.testing.assert_array_equal(np.asarray(batched[i]), np.asarray(jf(xs[i], ws[i])))
    np.testing.assert_array_equal(np.asarray(jf(x, ws[0])), np.asarray(f(x, ws[0])))
    loss = lambda x, w: jnp.sum(f(x, w) * x)  # noqa: E731
    want = jax.grad(loss, argnums=(0, 1))(x, ws[0])
    _close(jax.jit(jax.grad(jax.checkpoint(loss), argnums=(0, 1)))(x, ws[0]), want, 1e-6)
    per_item = jax.vmap(jax.grad(loss, argnums=1))(xs, ws)
    _close(per_item[0], want[1], 1e-6)


@pytest.mark.parametrize("model", MODELS)
def test_save_every_changes_memory_not_results(model, x64):
    x, z0 = _inputs(13, model, T=23, dtype=np.float64)
    w = jnp.asarray(_weights(13, dtype=np.float64))

    def run(k):
        def loss(x, w, z0):
            s, states = _call(model, x, z0, w, spk_fun=sg.MultiGaussianGrad(), save_every=k, return_states=True)
            return jnp.sum(s * x) + jnp.sum(states[-1])

        return jax.jit(
            lambda x, w, z0: (_call(model, x, z0, w, save_every=k), jax.grad(loss, argnums=(0, 1, 2))(x, w, z0))
        )(x, w, tuple(z0))

    s1, g1 = run(1)
    for k in (5, None):
        s, g = run(k)
        np.testing.assert_array_equal(np.asarray(s), np.asarray(s1))
        _close(g, g1, 1e-12)
    assert _call(model, x[:0], z0, w, save_every=4).shape == (0, 3, N)


# ---- modules -----------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_module_trains_w_rec_as_brainpy_state(model):
    """A training step's loss and gradient w.r.t. w_rec (a ParamState), the
    states left behind, against brainpy.state with a ``Linear`` recurrence."""
    dt = PARAMS[model]["dt"]
    p = {k: v for k, v in PARAMS[model].items() if k not in ("dt", "tau")}
    x, _ = _inputs(14, model)
    w0 = jnp.asarray(_weights(14))
    tau0 = jnp.linspace(1.5, 3.0, N)
    target = jax.random.uniform(jax.random.PRNGKey(15), x.shape)
    mg = (sg.MultiGaussianGrad(), braintools.surrogate.MultiGaussianGrad())
    with brainstate.environ.context(dt=dt):
        ours = getattr(neuron, CLASSES[model])(N, tau=tau0, **p, spk_fun=mg[0], w_rec=w0)
        ours.init_state(batch_size=3)
        inits = {f"{n}_initializer": braintools.init.Constant(0.0) for n in STATES[model]}
        theirs = getattr(brainpy.state, CLASSES[model])(N, tau=tau0, **p, **inits, spk_fun=mg[1])
        rec = brainstate.nn.Linear(N, N, b_init=None)
        rec.weight.value = {"weight": w0}
        theirs.init_state(batch_size=3)

        def step(xt):
            inp = xt + rec(theirs.get_spike())
            if model == "cuba_lif":
                theirs.add_delta_input("x", inp)
                return theirs(jnp.zeros_like(xt))
            return theirs(inp)

        def loss_ours():
            ours.reset_state(batch_size=3)
            return jnp.mean((ours(x) - target) ** 2)

        def loss_theirs():
            theirs.reset_state(batch_size=3)
            return jnp.mean((brainstate.transform.for_loop(step, x) - target) ** 2)

        ours_params = ours.states(brainstate.ParamState)
        theirs_params = {"w": rec.weight}
        g_ours, l_ours = brainstate.transform.jit(
            lambda: brainstate.transform.grad(loss_ours, grad_states=ours_params, return_value=True)()
        )()
        g_theirs, l_theirs = brainstate.transform.grad(loss_theirs, grad_states=theirs_params, return_value=True)()
    assert isinstance(ours.w_rec, brainstate.ParamState) and len(ours_params) == 1
    np.testing.assert_allclose(float(l_ours), float(l_theirs), rtol=1e-6)
    (g_w,) = jax.tree.leaves(g_ours)
    assert np.abs(np.asarray(g_theirs["w"]["weight"])).max() > 0
    _close(g_w, g_theirs["w"]["weight"], 1e-5)
    for n in STATES[model]:
        np.testing.assert_allclose(np.asarray(getattr(ours, n).value), np.asarray(getattr(theirs, n).value), atol=1e-5)


def test_module_w_rec_initializers():
    with brainstate.environ.context(dt=0.5):
        a = neuron.LIF((2, 4), w_rec=braintools.init.Constant(0.25))
        b = neuron.ALIF(4, w_rec=lambda shape: jnp.full(shape, 0.25))
        state = brainstate.ParamState(jnp.full((4, 4), 0.25))
        c = neuron.CubaLIF(4, w_rec=state)
        assert c.w_rec is state
        for m in (a, b, c):
            assert isinstance(m.w_rec, brainstate.ParamState)
            np.testing.assert_array_equal(np.asarray(m.w_rec.value), np.full((4, 4), 0.25))
        assert neuron.LIF(4).w_rec is None


# ---- errors --------------------------------------------------------------------------


@pytest.mark.parametrize("fn", ["lif", "alif", "cuba_lif"])
@pytest.mark.parametrize(
    "w, error, match",
    [
        (np.zeros((N + 1, N), np.float32), ValueError, r"\[n, n\] = \[12, 12\]"),
        (np.zeros((N,), np.float32), ValueError, r"\[n, n\] = \[12, 12\]"),
        (np.zeros((N, N, 1), np.float32), ValueError, r"\[n, n\] = \[12, 12\]"),
        (1.0, ValueError, r"got shape \[\]"),
        (np.zeros((N, N), bool), TypeError, "floating"),
        (np.zeros((N, N), np.int32), TypeError, "floating"),
        (np.zeros((N, N), np.complex64), TypeError, "floating"),
        (True, TypeError, "floating"),
        ("w", TypeError, "floating"),
        (np.full((N, N), np.nan, np.float32), ValueError, "finite"),
        (np.where(np.eye(N) > 0, np.inf, 0.0).astype(np.float32), ValueError, "finite"),
    ],
)
def test_bad_w_rec_raises(fn, w, error, match):
    x = jnp.ones((5, 2, N))
    with pytest.raises(error, match=match) as info:
        getattr(neuron, fn)(x, dt=0.5, w_rec=w)
    assert f"spikegrad.neuron.{fn}" in str(info.value)


@pytest.mark.parametrize(
    "w, error",
    [(jnp.zeros((N, N + 1)), ValueError), (jnp.zeros((N, N), jnp.int32), TypeError), (jnp.zeros(()), ValueError)],
)
def test_bad_w_rec_raises_at_trace_time(w, error):
    with pytest.raises(error, match="spikegrad.neuron.lif: w_rec"):
        jax.jit(lambda x, w: neuron.lif(x, dt=0.5, w_rec=w))(jnp.ones((5, N)), w)
    # A traced non-finite value cannot be checked; it gives NaN states, not a crash.
    s, (v,) = jax.jit(lambda w: neuron.lif(jnp.ones((3, N)), dt=0.5, w_rec=w, return_states=True))(
        jnp.full((N, N), jnp.nan)
    )
    assert s.shape == (3, N) and np.isnan(np.asarray(v[-1])).all()


def test_w_rec_needs_a_neuron_axis():
    with pytest.raises(ValueError, match="spikegrad.neuron.lif: w_rec needs a neuron axis"):
        neuron.lif(jnp.ones(5), dt=0.5, w_rec=jnp.zeros((1, 1)))


def test_bad_module_w_rec_raises_at_construction():
    with brainstate.environ.context(dt=0.5):
        with pytest.raises(ValueError, match=r"spikegrad.neuron.ALIF: w_rec must have shape \[n, n\] = \[4, 4\]"):
            neuron.ALIF((3, 4), w_rec=jnp.zeros((3, 3)))
        with pytest.raises(TypeError, match="spikegrad.neuron.LIF: w_rec"):
            neuron.LIF(4, w_rec=brainstate.ParamState(jnp.zeros((4, 4), jnp.int32)))
        with pytest.raises(ValueError, match="spikegrad.neuron.CubaLIF: w_rec must be finite"):
            neuron.CubaLIF(4, w_rec=lambda shape: jnp.full(shape, jnp.inf))


@pytest.mark.parametrize("save_every", [0, -1, 1.5, True])
def test_bad_save_every_raises_with_w_rec(save_every):
    with pytest.raises(ValueError, match="save_every"):
        neuron.lif(jnp.ones((5, N)), dt=0.5, w_rec=jnp.eye(N), save_every=save_every)


def test_float64_weights_under_enable_x64_context():
    """The weight is cast to the compute dtype (x's, widened for halves)."""
    with enable_x64():
        w = jnp.asarray(_weights(20, dtype=np.float64))
        s = neuron.lif(jnp.ones((4, N), jnp.float32) * 2.0, dt=0.5, w_rec=w)
        assert s.dtype == jnp.float32
