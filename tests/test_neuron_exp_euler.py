"""The fused neurons stepped by brainpy.state's exponential Euler with a
state-dependent ``J`` (CobaLIF, ExpIF, AdExIF): values and gradients against
brainpy.state's classes themselves (float64 tightly; float32 against
brainpy.state's own float32 drift), past ExpIF's clamp, the Rust tangent and
transpose against JAX autodiff of the jnp description, transforms, the
recurrent scan, the modules, errors, and ``exprel`` near 0."""

from __future__ import annotations

import math

import brainstate
import braintools
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.neuron_reference import EXP_EULER_MODELS, PARAMS, brainpy_run, inputs
from helpers.x64 import enable_x64
from test_neuron_autodiff import _close, _params, _weights, fused
from test_neuron_recurrent import numpy_recurrent

import spikegrad
import spikegrad.surrogate as sg
from spikegrad import neuron
from spikegrad.neuron._exprel import exprel, exprel_slope

SHAPE = (3, 32)


def _states_close(got, want, rel):
    for a, b in zip(got, want, strict=True):
        b = np.asarray(b, np.float64)
        np.testing.assert_allclose(np.asarray(a, np.float64), b, rtol=0, atol=rel * np.abs(b).max())


def _loss(f, w, ws):
    """``(x, z0, p) -> ((loss, (spikes, states)), gradients)`` in one jitted program."""

    def scalar(x, z0, p):
        s, states = f(x, z0, p)
        return jnp.sum(w * s) + sum(jnp.sum(wi * z) for wi, z in zip(ws, states)), (s, states)

    return jax.jit(jax.value_and_grad(scalar, (0, 1, 2), has_aux=True))


#: Per model, the reset and the parameters (scalars or per-neuron arrays) it is compared with.
CASES = {"coba_lif": ("soft", "per_neuron"), "exp_if": ("soft", "scalar"), "adex_if": ("hard", "per_neuron")}


@pytest.mark.parametrize("model", EXP_EULER_MODELS)
def test_float64_matches_brainpy_state(model, x64):
    """Spikes identical, states within 1e-10 and gradients w.r.t. x, the
    initial states and every parameter within 1e-8 of brainpy.state's class."""
    reset, kind = CASES[model]
    x, z0 = inputs(21, 30, SHAPE, model, dtype=np.float64)
    params = _params(model, kind, SHAPE, jnp.float64)
    w, ws = _weights(5, x.shape, len(z0), jnp.float64)
    ours = fused(model, sg.Sigmoid(alpha=2.0), reset)
    theirs = lambda x, z0, p: brainpy_run(model, x, z0, p, braintools.surrogate.Sigmoid(alpha=2.0), reset == "hard")  # noqa: E731
    ((value, (s, z)), got) = _loss(ours, w, ws)(x, z0, params)
    ((want_value, (want_s, want_z)), want) = _loss(theirs, w, ws)(x, z0, params)
    np.testing.assert_array_equal(np.asarray(s), np.asarray(want_s))
    _states_close(z, want_z, 1e-10)
    assert float(np.sum(s)) > 0
    assert abs(float(value) - float(want_value)) <= 1e-10 * abs(float(want_value))
    _close(got, want, 1e-8)


@pytest.mark.parametrize("model", EXP_EULER_MODELS)
def test_float32_within_brainpy_states_own_drift(model):
    """float32 against brainpy.state in float64: spikes identical for at least
    90% of the neurons, values within max(1e-5, 10x) brainpy.state's own
    float32 drift (ExpIF and AdExIF amplify rounding at each spike)."""
    x, z0 = inputs(22, 40, SHAPE, model)
    p = PARAMS[model]
    spk = braintools.surrogate.ReluGrad()
    s32, z32 = brainpy_run(model, x, z0, p, spk)
    with enable_x64():
        s64, z64 = brainpy_run(model, *jax.tree.map(lambda a: np.asarray(a, np.float64), (x, z0)), p, spk)
        s64, z64 = np.asarray(s64), [np.asarray(a) for a in z64]
    s, z = getattr(neuron, model)(x, *z0, **p, return_states=True)
    assert s.dtype == jnp.float32
    same = np.all(np.asarray(s) == s64, axis=0)
    assert same.mean() >= 0.9 and float(np.sum(s64)) > 0
    for ours, bp32, ref in zip(z, z32, z64, strict=True):
        scale = np.abs(ref).max()
        drift = np.abs(np.asarray(bp32, np.float64) - ref)[:, same].max() / scale
        err = np.abs(np.asarray(ours, np.float64) - ref)[:, same].max() / scale
        assert err <= max(1e-5, 10 * drift), (err, drift)


def test_past_the_clamp(x64):
    """(V - V_T)/delta_T > 20 after a soft reset: the exponent is clamped and
    its slope is 0; AdExIF's values and gradients as brainpy.state's (ExpIF's
    step is the same function of the kernels and of the descriptions)."""
    model = "adex_if"
    x, (v0, *rest) = inputs(23, 6, (8,), model, dtype=np.float64)
    z0 = (v0 + 100.0, *rest)  # V - (V_th - V_reset) - V_T > 20 delta_T
    params = _params(model, "scalar", (8,), jnp.float64)
    w, ws = _weights(6, x.shape, len(z0), jnp.float64)
    ours = fused(model, sg.Sigmoid(), "soft")
    theirs = lambda x, z0, p: brainpy_run(model, x, z0, p, braintools.surrogate.Sigmoid())  # noqa: E731
    ((_, (s, z)), got) = _loss(ours, w, ws)(x, z0, params)
    ((_, (want_s, want_z)), want) = _loss(theirs, w, ws)(x, z0, params)
    np.testing.assert_array_equal(np.asarray(s), np.asarray(want_s))
    _states_close(z, want_z, 1e-10)
    assert np.all(np.isfinite(np.asarray(z[0]))) and np.abs(np.asarray(z[0])).max() > 1e6  # past the clamp
    _close(got, want, 1e-8)


@pytest.mark.parametrize("model", EXP_EULER_MODELS)
def test_rust_tangent_and_transpose_equal_the_description(model, x64):
    """The kernels' jvp and vjp (Rust) against JAX autodiff of the jnp
    description (the lowering setting ``xla``), w.r.t. everything, per-neuron
    parameters, hard reset; the BPTT with every step saved equals the default stride."""
    x, z0 = inputs(24, 20, (2, 16), model, dtype=np.float64)
    params = _params(model, "per_neuron", (2, 16), jnp.float64)
    primal = (x, z0, params)
    t = jax.tree.map(lambda a: jnp.cos(3.0 * a), primal)
    f = fused(model, sg.Sigmoid(alpha=2.0), "hard")
    ct = jax.tree.map(lambda a: jnp.sin(2.0 * a), f(*primal))

    def both(f):
        out, tangent = jax.jvp(f, primal, t)
        return out, tangent, jax.vjp(f, *primal)[1](ct)

    got = jax.jit(lambda: both(f))()
    with spikegrad.lowering("xla"):
        want = jax.jit(lambda: both(f))()
    np.testing.assert_array_equal(np.asarray(got[0][0]), np.asarray(want[0][0]))
    _close(got[1:], want[1:], 1e-10)
    every = jax.jit(lambda: jax.vjp(fused(model, sg.Sigmoid(alpha=2.0), "hard", save_every=1), *primal)[1](ct))()
    jax.tree.map(lambda a, b: np.testing.assert_array_equal(np.asarray(a), np.asarray(b)), every, got[2])


@pytest.mark.parametrize("model", EXP_EULER_MODELS)
def test_continued_sequences_vmap_and_the_module(model):
    """A sequence continued from the returned states equals one run; vmap
    equals the batched call; the brainstate module called twice (dt from
    environ) equals the function over the whole sequence."""
    x, z0 = inputs(25, 24, SHAPE, model)
    p = PARAMS[model]
    whole_s, whole_z = getattr(neuron, model)(x, *z0, **p, return_states=True)
    s1, z1 = getattr(neuron, model)(x[:10], *z0, **p, return_states=True)
    s2, _ = getattr(neuron, model)(x[10:], *(a[-1] for a in z1), **p, return_states=True)
    np.testing.assert_array_equal(np.concatenate([s1, s2]), np.asarray(whole_s))
    axes = (1, *(0 for _ in z0))  # the leading neuron axis of x [T, 3, 32] and of the states [3, 32]
    mapped = jax.vmap(lambda xb, *zb: getattr(neuron, model)(xb, *zb, **p), in_axes=axes, out_axes=1)(x, *z0)
    np.testing.assert_array_equal(np.asarray(mapped), np.asarray(whole_s))
    with brainstate.environ.context(dt=p["dt"]):
        layer = getattr(neuron, {"coba_lif": "CobaLIF", "exp_if": "ExpIF", "adex_if": "AdExIF"}[model])(
            SHAPE[1:], **{k: v for k, v in p.items() if k != "dt"}
        )
        layer.init_state(batch_size=SHAPE[0])
        for name, a in zip(layer.model.states, z0):
            getattr(layer, name).value = a
        out = jnp.concatenate([layer(x[:10]), layer(x[10:])])
    np.testing.assert_array_equal(np.asarray(out), np.asarray(whole_s))
    np.testing.assert_array_equal(np.asarray(layer.V.value), np.asarray(whole_z[0][-1]))


def test_module_defaults_are_brainpy_states():
    """ExpIF and AdExIF start at V = -65 (brainpy.state's V_initializer), also as functions."""
    x = jnp.zeros((3, 2))
    with brainstate.environ.context(dt=0.1):
        for cls, fn in [(neuron.ExpIF, neuron.exp_if), (neuron.AdExIF, neuron.adex_if)]:
            layer = cls(2)
            layer.init_state()
            np.testing.assert_array_equal(np.asarray(layer.V.value), [-65.0, -65.0])
            layer(x)
            _, (v, *_) = fn(x, dt=0.1, return_states=True)
            np.testing.assert_array_equal(np.asarray(layer.V.value), np.asarray(v[-1]))


def test_recurrent_scan(x64):
    """``w_rec=`` runs AdExIF in the recurrent lax.scan, as the NumPy loop
    (the scan is one function of the model description for every model)."""
    model = "adex_if"
    rng = np.random.default_rng(3)
    w = rng.normal(0.0, 0.3 * np.abs(PARAMS[model]["V_th"] - PARAMS[model]["V_reset"]), (SHAPE[1], SHAPE[1]))
    x, z0 = inputs(26, 20, SHAPE, model, dtype=np.float64)
    s, z = getattr(neuron, model)(x, *z0, **PARAMS[model], w_rec=w, return_states=True)
    want_s, want_z = numpy_recurrent(model, x, z0, PARAMS[model], w)
    np.testing.assert_array_equal(np.asarray(s), want_s)
    _states_close(z, want_z, 1e-10)
    assert float(np.sum(s)) > 0


@pytest.mark.parametrize("model", EXP_EULER_MODELS)
def test_bad_parameters(model):
    x = jnp.ones((4, 3))
    fn = getattr(neuron, model)
    positive = [k for k in ("dt", "tau", "tau_syn", "tau_w", "delta_T") if k in PARAMS[model]]
    for name in positive:
        for bad in (0.0, -1.0, np.array([1.0, 0.0, 1.0])):
            with pytest.raises(ValueError, match=f"{name} must be > 0"):
                fn(x, **(PARAMS[model] | {name: bad}))
        with pytest.raises(ValueError, match=f"{name} must be > 0"):
            jax.eval_shape(lambda x, name=name: fn(x, **(PARAMS[model] | {name: 0.0})), x)
    with pytest.raises(ValueError, match="finite"):
        jax.jit(lambda x: fn(x, **(PARAMS[model] | {"V_rest": np.nan})))(x)
    with pytest.raises(ValueError, match="V_th must differ"):
        fn(x, **(PARAMS[model] | {"V_reset": PARAMS[model]["V_th"]}))
    with pytest.raises(ValueError, match="does not broadcast"):
        fn(x, **(PARAMS[model] | {"tau": np.ones(4)}))
    with pytest.raises(ValueError, match="does not match"):
        fn(x, np.zeros(5), **PARAMS[model])


def _exprel64(z):
    """exprel and its slope in float64 NumPy: the closed forms away from 0, a long series near it."""
    z = np.asarray(z, np.float64)
    near = np.abs(z) < 0.1
    zs = np.where(near, 1.0, z)
    value = np.where(near, 0.0, np.expm1(zs) / zs)
    slope = np.where(near, 0.0, ((zs - 1.0) * np.exp(zs) + 1.0) / zs**2)
    vs, ss = np.zeros_like(z), np.zeros_like(z)
    for k in range(30):
        vs += z**k / math.factorial(k + 1)
        ss += (k + 1) * z**k / math.factorial(k + 2)
    return np.where(near, vs, value), np.where(near, ss, slope)


@pytest.mark.parametrize("dtype, tol", [(np.float32, 4e-6), (np.float64, 1e-14)])
def test_exprel_near_zero_and_its_slope(dtype, tol):
    """The jnp exprel (the descriptions') and its JVP against float64 NumPy,
    across the series' edge at |z| = 1 and down to 0 and subnormal z."""
    with enable_x64():
        z = np.concatenate([np.linspace(-30.0, 30.0, 2001), [0.0, -0.0, 1e-30, -1e-12, 1.0, -1.0, 1.0001, -0.9999]])
        z = z.astype(dtype)
        want_v, want_s = _exprel64(z.astype(np.float64))
        values = jax.jit(lambda z: (exprel(z), jax.vmap(jax.grad(exprel))(z), exprel_slope(z)))(jnp.asarray(z))
        got_v, got_s, slope = (np.asarray(a, np.float64) for a in values)
        np.testing.assert_allclose(got_v, want_v, rtol=tol)
        np.testing.assert_allclose(got_s, want_s, rtol=4 * tol)
        np.testing.assert_array_equal(got_s, slope)
        assert exprel(jnp.asarray(0.0, dtype)) == 1.0 and exprel_slope(jnp.asarray(0.0, dtype)) == 0.5
