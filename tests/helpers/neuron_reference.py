"""Independent references for the fused neurons (LIF, ALIF, CubaLIF, and
CobaLIF, ExpIF, AdExIF in ``EXP_EULER_MODELS``).

* ``numpy_run``: the model's loop in float64 NumPy, written in brainpy.state's
  own exponential-Euler form ``V' = U + (1 - a)(V_inf - U)``;
* ``scan_run``: the same loop as a plain ``lax.scan`` with any spike function
  (a braintools surrogate in the tests), differentiated by JAX;
* ``brainpy_run``: brainpy.state's class itself, stepped by
  ``brainstate.transform.for_loop`` under ``brainstate.environ.context(dt=...)``,
  as a pure function of ``(x, z0, params)`` (so ``jax.grad`` and ``jax.jvp``
  apply, also w.r.t. the parameters). CubaLIF is driven as a projection
  drives it: ``add_delta_input`` of ``x_t`` into ``g`` before each update.

The loops share one step per model (``STEPS``), written against ``xp``
(NumPy or jnp) and a ``stop_gradient`` (identity for NumPy).
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np

#: Parameters making a good share of neurons spike on ``inputs``' drive.
PARAMS = {
    "lif": dict(dt=0.5, tau=2.0, R=1.5, V_th=1.0, V_reset=-0.2, V_rest=0.1),
    "alif": dict(dt=0.5, tau=2.0, tau_a=8.0, R=1.5, V_th=1.0, V_reset=-0.2, V_rest=0.1, beta=0.3),
    "cuba_lif": dict(dt=0.5, tau=2.0, tau_syn=3.0, R=1.5, V_th=1.0, V_reset=-0.2, V_rest=0.1),
}
#: The models the parametrized tests run. ``SPIKEGRAD_TEST_SURROGATES=sample``
#: (the sampled stages of scripts/test.sh: the oldest jax, and Python 3.12's
#: releases) samples them too: LIF (one state) and ALIF (two states, a
#: threshold that moves); CubaLIF runs the same passes and jax machinery with
#: another step, and runs with the others in the full stage.
MODELS = ("lif", "alif") if os.environ.get("SPIKEGRAD_TEST_SURROGATES") == "sample" else tuple(PARAMS)
#: State names and initial-state argument names, in model order.
STATES = {"lif": ("V",), "alif": ("V", "a"), "cuba_lif": ("V", "g")}
Z0_NAMES = {"lif": ("v0",), "alif": ("v0", "a0"), "cuba_lif": ("v0", "g0")}
CLASSES = {"lif": "LIF", "alif": "ALIF", "cuba_lif": "CubaLIF"}
#: Input scale per model (CubaLIF integrates its input into g).
X_SCALE = {"lif": 3.0, "alif": 3.0, "cuba_lif": 1.2}

#: The models stepped by brainpy.state's exponential Euler with a state-dependent
#: ``J`` (tests/test_neuron_exp_euler.py), with parameters that make a good
#: share of them spike on ``inputs``' drive without the runaway of the
#: exponential within a step. The tables above hold them too; the sampled
#: stages run AdExIF (two states, the exponential).
EXP_EULER_PARAMS = {
    "coba_lif": dict(dt=0.5, tau=2.0, tau_syn=3.0, E=2.5, R=1.5, V_th=1.0, V_reset=-0.2, V_rest=0.1),
    "exp_if": dict(dt=0.05, tau=2.0, R=1.0, V_th=-50.0, V_reset=-68.0, V_rest=-65.0, V_T=-59.9, delta_T=3.48),
    "adex_if": dict(
        dt=0.05,
        tau=2.0,
        tau_w=20.0,
        R=1.0,
        V_th=-50.0,
        V_reset=-68.0,
        V_rest=-65.0,
        V_T=-59.9,
        delta_T=3.48,
        a=0.5,
        b=2.0,
    ),
}
EXP_EULER_MODELS = ("adex_if",) if os.environ.get("SPIKEGRAD_TEST_SURROGATES") == "sample" else tuple(EXP_EULER_PARAMS)
PARAMS.update(EXP_EULER_PARAMS)
STATES.update({"coba_lif": ("V", "g"), "exp_if": ("V",), "adex_if": ("V", "w")})
Z0_NAMES.update({"coba_lif": ("v0", "g0"), "exp_if": ("v0",), "adex_if": ("v0", "w0")})
CLASSES.update({"coba_lif": "CobaLIF", "exp_if": "ExpIF", "adex_if": "AdExIF"})
X_SCALE.update({"coba_lif": 1.0, "exp_if": 100.0, "adex_if": 100.0})


def _decay(xp, dt, tau):
    return -xp.expm1(-dt / tau)  # 1 - exp(-dt/tau), as brainpy's exprel form


def _reset(v, s, p, hard, stop):
    return v - ((stop(v) - p["V_reset"]) if hard else (p["V_th"] - p["V_reset"])) * s


def _lif_u(z, p):
    return (z[0] - p["V_th"]) / (p["V_th"] - p["V_reset"])


def _lif_step(xp, z, x, s, p, hard, stop):
    u = _reset(z[0], s, p, hard, stop)
    return (u + _decay(xp, p["dt"], p["tau"]) * (p["V_rest"] + p["R"] * x - u),)


def _alif_u(z, p):
    return (z[0] - p["V_th"] - p["beta"] * z[1]) / (p["V_th"] - p["V_reset"])


def _alif_step(xp, z, x, s, p, hard, stop):
    u = _reset(z[0], s, p, hard, stop)
    a = z[1] + s
    v = u + _decay(xp, p["dt"], p["tau"]) * (p["V_rest"] + p["R"] * x - u)
    return v, a - _decay(xp, p["dt"], p["tau_a"]) * a


def _cuba_step(xp, z, x, s, p, hard, stop):
    u = _reset(z[0], s, p, hard, stop)
    g = z[1] - _decay(xp, p["dt"], p["tau_syn"]) * z[1] + x
    return u + _decay(xp, p["dt"], p["tau"]) * (p["V_rest"] + p["R"] * g - u), g


def _exprel(xp, z):
    """``expm1(z)/z`` (1 at 0): brainpy.state's factor, at full precision."""
    safe = xp.where(z == 0, 1.0, z)
    return xp.where(z == 0, 1.0, xp.expm1(safe) / safe)


def _exp_euler(xp, f, j, v, dt):
    """brainpy.state's ``exp_euler_step``: ``v + dt exprel(dt J) f``."""
    return v + dt * _exprel(xp, dt * j) * f


def _coba_step(xp, z, x, s, p, hard, stop):
    u = _reset(z[0], s, p, hard, stop)
    g = z[1] - _decay(xp, p["dt"], p["tau_syn"]) * z[1] + x
    f = (-(u - p["V_rest"]) + p["R"] * (g * (p["E"] - u))) / p["tau"]
    return _exp_euler(xp, f, -(1.0 + p["R"] * g) / p["tau"], u, p["dt"]), g


def _exp_drift(xp, v, current, p):
    """ExpIF's drift at ``v`` and its derivative ``J`` (the clamped exponent's slope is 0)."""
    a = (v - p["V_T"]) / p["delta_T"]
    e = xp.exp(xp.minimum(a, 20.0))
    f = (-(v - p["V_rest"]) + p["delta_T"] * e + p["R"] * current) / p["tau"]
    return f, (-1.0 + xp.where(a < 20.0, e, 0.0)) / p["tau"]


def _exp_if_step(xp, z, x, s, p, hard, stop):
    u = _reset(z[0], s, p, hard, stop)
    return (_exp_euler(xp, *_exp_drift(xp, u, x, p), u, p["dt"]),)


def _adex_step(xp, z, x, s, p, hard, stop):
    u = _reset(z[0], s, p, hard, stop)
    w = z[1] + p["b"] * s
    v = _exp_euler(xp, *_exp_drift(xp, u, x - w, p), u, p["dt"])
    return v, _exp_euler(xp, (p["a"] * (v - p["V_rest"]) - w) / p["tau_w"], -1.0 / p["tau_w"], w, p["dt"])


#: model -> (u(z, p), step(xp, z, x, s, p, hard, stop))
STEPS = {"lif": (_lif_u, _lif_step), "alif": (_alif_u, _alif_step), "cuba_lif": (_lif_u, _cuba_step)}
STEPS.update({"coba_lif": (_lif_u, _coba_step), "exp_if": (_lif_u, _exp_if_step), "adex_if": (_lif_u, _adex_step)})


def _heaviside(u):
    return (u >= 0).astype(np.float64)


def numpy_run(model, x, z0, params, hard=False):
    """``(spikes, states)`` in float64 for time-major ``x``; ``z0`` a tuple
    (None entries: zeros)."""
    u_of, step = STEPS[model]
    x = np.asarray(x, np.float64)
    shape = x.shape[1:]
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    z = tuple(np.zeros(shape) if a is None else np.broadcast_to(np.asarray(a, np.float64), shape).copy() for a in z0)
    spikes, states = [], []
    for xt in x:
        s = _heaviside(u_of(z, p))
        z = tuple(np.broadcast_to(a, shape) for a in step(np, z, xt, s, p, hard, lambda v: v))
        states.append(z)
        spikes.append(_heaviside(u_of(z, p)))
    if not spikes:
        return np.zeros(x.shape), tuple(np.zeros(x.shape) for _ in z0)
    return np.stack(spikes), tuple(np.stack([st[i] for st in states]) for i in range(len(z0)))


def scan_run(model, x, z0, params, spk_fun, hard=False):
    """``(spikes, states)`` by a plain ``lax.scan``, differentiable w.r.t. ``x``,
    ``z0`` and ``params``."""
    u_of, step = STEPS[model]
    shape = x.shape[1:]
    z = tuple(jnp.broadcast_to(jnp.asarray(a, x.dtype), shape) for a in z0)

    def body(z, xt):
        s = spk_fun(u_of(z, params))
        zn = tuple(
            jnp.broadcast_to(a, shape).astype(x.dtype) for a in step(jnp, z, xt, s, params, hard, jax.lax.stop_gradient)
        )
        return zn, (spk_fun(u_of(zn, params)), zn)

    _, (spikes, states) = jax.lax.scan(body, z, x)
    return spikes, tuple(states)


def brainpy_run(model, x, z0, params, spk_fun, hard=False):
    """``(spikes, states)`` from brainpy.state's class stepped over ``x``."""
    import brainpy
    import brainstate
    import braintools

    p = dict(params)
    dt = p.pop("dt")
    names = STATES[model]
    with brainstate.environ.context(dt=dt):
        kwargs = {f"{n}_initializer": braintools.init.Constant(0.0) for n in names}
        neuron = getattr(brainpy.state, CLASSES[model])(
            x.shape[1:], **p, **kwargs, spk_fun=spk_fun, spk_reset="hard" if hard else "soft"
        )
        neuron.init_state()
        for n, a in zip(names, z0):
            if a is not None:
                getattr(neuron, n).value = jnp.broadcast_to(a, x.shape[1:]).astype(x.dtype)
            else:
                getattr(neuron, n).value = jnp.zeros(x.shape[1:], x.dtype)

        def step(xt):
            if model in ("cuba_lif", "coba_lif"):
                neuron.add_delta_input("x", xt)
                out = neuron(jnp.zeros_like(xt))
            else:
                out = neuron(xt)
            return out, tuple(getattr(neuron, n).value for n in names)

        return brainstate.transform.for_loop(step, x)


def inputs(key, T, shape, model="lif", dtype=np.float32):
    """A drive that makes a good share of neurons spike, and random initial states."""
    ks = jax.random.split(jax.random.PRNGKey(key), 4)
    x = jax.random.uniform(ks[0], (T, *shape), jnp.float32, -0.5, X_SCALE[model]).astype(dtype)
    v0 = jax.random.uniform(ks[1], shape, jnp.float32, -0.3, 1.2).astype(dtype)
    if model in ("exp_if", "adex_if"):  # mV: V from V_rest - 5 to V_th
        v0 = (-70.0 + 20.0 * jax.random.uniform(ks[1], shape, jnp.float32)).astype(dtype)
    extra = {
        "lif": (),
        "alif": (jax.random.uniform(ks[2], shape, jnp.float32, 0.0, 1.5).astype(dtype),),
        "cuba_lif": (jax.random.uniform(ks[3], shape, jnp.float32, -0.3, 0.8).astype(dtype),),
        "coba_lif": (jax.random.uniform(ks[3], shape, jnp.float32, 0.0, 0.8).astype(dtype),),
        "exp_if": (),
        "adex_if": (jax.random.uniform(ks[2], shape, jnp.float32, 0.0, 10.0).astype(dtype),),
    }[model]
    return x, (v0, *extra)


def per_neuron(model, shape, seed=0):
    """Per-neuron parameter arrays (some broadcast over leading axes) around ``PARAMS``."""
    rng = np.random.default_rng(seed)
    base = dict(PARAMS[model])
    spread = {
        "tau": rng.uniform(1.0, 4.0, shape[-1:]),
        "V_th": rng.uniform(0.8, 1.2, shape),
        "R": rng.uniform(1.0, 2.0, shape[-1:]),
        "V_reset": rng.uniform(-0.4, -0.1, shape),
        "V_rest": rng.uniform(-0.1, 0.2, shape[-1:]),
        "tau_a": rng.uniform(4.0, 12.0, shape[-1:]),
        "beta": rng.uniform(0.1, 0.5, shape),
        "tau_syn": rng.uniform(2.0, 5.0, shape),
    }
    if model in ("exp_if", "adex_if"):  # mV
        spread.update(
            tau=rng.uniform(3.0, 6.0, shape[-1:]),
            V_th=rng.uniform(-53.0, -49.0, shape),
            V_reset=rng.uniform(-70.0, -66.0, shape),
            V_rest=rng.uniform(-66.0, -63.0, shape[-1:]),
            V_T=rng.uniform(-61.0, -58.0, shape),
            delta_T=rng.uniform(2.5, 4.0, shape[-1:]),
            tau_w=rng.uniform(10.0, 30.0, shape),
            a=rng.uniform(0.2, 1.0, shape[-1:]),
            b=rng.uniform(1.0, 3.0, shape),
        )
    elif model == "coba_lif":
        spread["E"] = rng.uniform(2.0, 3.0, shape)
    return {k: (spread[k] if k in spread else v) for k, v in base.items()}


def away_from_threshold(u, margin):
    """Mask of surrogate arguments whose spike decision is robust to ``margin`` of rounding."""
    return np.abs(np.asarray(u, np.float64)) > margin
