"""One description per neuron model: its states, parameters, folded kernel
constants and one step, in jnp.

Every backend runs the same description: the ``lax.scan`` form (user
surrogates, other platforms), the Pallas kernels (the step and ``g'`` traced
inside the kernel body) and, on CPU, the Rust kernels (``src/neurons/``,
which implement the same step by hand and are checked against this one).

A model's step from the state ``z`` (a tuple of arrays, ``states`` order)
with input ``x``::

    s  = spike(u(c, z))             # the spike of the previous state
    z' = step(c, z, x, s, hard)     # reset, then exponential-Euler decay
    out = spike(u(c, z'))           # the step's output spike

``c`` is the tuple of kernel constants (``consts`` order), folded from the
user's parameters by ``fold`` (differentiable: gradients w.r.t. ``tau`` reach
it through ``decay = exp(-dt/tau)``). Under hard reset the reset factor
``V - V_reset`` is not differentiated w.r.t. ``V`` (brainpy.state's
``stop_gradient``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax.numpy as jnp
from jax import lax

from ._exprel import exprel

__all__ = ["NeuronModel", "MODELS", "LIF_MODEL", "ALIF_MODEL", "CUBA_LIF_MODEL", "model", "decay_terms"]
__all__ += ["COBA_LIF_MODEL", "EXP_IF_MODEL", "ADEX_IF_MODEL"]


def decay_terms(dt, tau, xp=jnp):
    """``(exp(-dt/tau), 1 - exp(-dt/tau))``, the second without cancellation."""
    ratio = -dt / tau
    return xp.exp(ratio), -xp.expm1(ratio)


def _reset(c_th, c_reset, v, s, hard):
    """The potential after the reset by the spike ``s``."""
    factor = (lax.stop_gradient(v) - c_reset) if hard else (c_th - c_reset)
    return v - factor * s


@dataclass(frozen=True)
class NeuronModel:
    #: Registry name, also the kernels' ``model`` attribute (permanent).
    name: str
    #: brainpy.state class name.
    class_name: str
    #: State names, in order (``V`` first).
    states: tuple[str, ...]
    #: User parameters with brainpy.state's defaults (``dt`` excluded).
    params: dict
    #: Kernel constant names, in order.
    consts: tuple[str, ...]
    #: ``fold(dt, p, xp) -> tuple of constants`` from a parameter dict.
    fold: Callable
    #: ``u(c, z)``: the surrogate's argument.
    u: Callable
    #: ``step(c, z, x, s, hard) -> z'``.
    step: Callable

    @property
    def n_states(self) -> int:
        return len(self.states)

    @property
    def n_consts(self) -> int:
        return len(self.consts)


# ---- LIF: brainpy.state.LIF ---------------------------------------------------
# c = (decay, bias, drive, V_th, V_reset); z = (V,)
# V' = decay (V - reset s) + bias + drive x, bias = (1 - decay) V_rest, drive = (1 - decay) R


def _lif_fold(dt, p, xp=jnp):
    decay, one_minus = decay_terms(dt, p["tau"], xp)
    return decay, one_minus * p["V_rest"], one_minus * p["R"], p["V_th"], p["V_reset"]


def _lif_u(c, z):
    return (z[0] - c[3]) / (c[3] - c[4])


def _lif_step(c, z, x, s, hard):
    decay, bias, drive, v_th, v_reset = c
    return (decay * _reset(v_th, v_reset, z[0], s, hard) + (bias + drive * x),)


LIF_MODEL = NeuronModel(
    name="lif",
    class_name="LIF",
    states=("V",),
    params=dict(tau=5.0, R=1.0, V_th=1.0, V_reset=0.0, V_rest=0.0),
    consts=("decay", "bias", "drive", "V_th", "V_reset"),
    fold=_lif_fold,
    u=_lif_u,
    step=_lif_step,
)

# ---- ALIF: brainpy.state.ALIF -------------------------------------------------
# c = (decay, bias, drive, V_th, V_reset, decay_a, beta); z = (V, a)
# u = (V - V_th - beta a)/(V_th - V_reset); a' = decay_a (a + s)


def _alif_fold(dt, p, xp=jnp):
    decay, one_minus = decay_terms(dt, p["tau"], xp)
    decay_a, _ = decay_terms(dt, p["tau_a"], xp)
    return decay, one_minus * p["V_rest"], one_minus * p["R"], p["V_th"], p["V_reset"], decay_a, p["beta"]


def _alif_u(c, z):
    return (z[0] - c[3] - c[6] * z[1]) / (c[3] - c[4])


def _alif_step(c, z, x, s, hard):
    decay, bias, drive, v_th, v_reset, decay_a, _ = c
    v = decay * _reset(v_th, v_reset, z[0], s, hard) + (bias + drive * x)
    return v, decay_a * (z[1] + s)


ALIF_MODEL = NeuronModel(
    name="alif",
    class_name="ALIF",
    states=("V", "a"),
    params=dict(tau=5.0, tau_a=100.0, R=1.0, V_th=1.0, V_reset=0.0, V_rest=0.0, beta=0.1),
    consts=("decay", "bias", "drive", "V_th", "V_reset", "decay_a", "beta"),
    fold=_alif_fold,
    u=_alif_u,
    step=_alif_step,
)

# ---- CubaLIF: brainpy.state.CubaLIF, input as delta input to g -----------------
# c = (decay, bias, drive, V_th, V_reset, decay_syn); z = (V, g)
# g' = decay_syn g + x; V' = decay (V - reset s) + bias + drive g'


def _cuba_fold(dt, p, xp=jnp):
    decay, one_minus = decay_terms(dt, p["tau"], xp)
    decay_syn, _ = decay_terms(dt, p["tau_syn"], xp)
    return decay, one_minus * p["V_rest"], one_minus * p["R"], p["V_th"], p["V_reset"], decay_syn


def _cuba_step(c, z, x, s, hard):
    decay, bias, drive, v_th, v_reset, decay_syn = c
    g = decay_syn * z[1] + x
    v = decay * _reset(v_th, v_reset, z[0], s, hard) + (bias + drive * g)
    return v, g


CUBA_LIF_MODEL = NeuronModel(
    name="cuba_lif",
    class_name="CubaLIF",
    states=("V", "g"),
    params=dict(tau=5.0, tau_syn=5.0, R=1.0, V_th=1.0, V_reset=0.0, V_rest=0.0),
    consts=("decay", "bias", "drive", "V_th", "V_reset", "decay_syn"),
    fold=_cuba_fold,
    u=_lif_u,
    step=_cuba_step,
)

# ---- the exponential-Euler models: brainpy.state's exp_euler_step written out ----
# V' = U + dt exprel(dt J) f(U), J = df/dV at U, with h = dt/tau folded once:
# dt f = h F, dt J = h j. J depends on the state, and gradients flow through it.


def _exp_euler(h, u, f, j):
    return u + h * exprel(h * j) * f


def _exp_euler_h(dt, p, xp=jnp):
    return dt / p["tau"]


# ---- CobaLIF: brainpy.state.CobaLIF, input as delta input to g ---------------------
# c = (h, V_rest, R, E, V_th, V_reset, decay_syn); z = (V, g)
# g' = decay_syn g + x; F = -(U - V_rest) + R g' (E - U), j = -(1 + R g')


def _coba_fold(dt, p, xp=jnp):
    decay_syn, _ = decay_terms(dt, p["tau_syn"], xp)
    return _exp_euler_h(dt, p, xp), p["V_rest"], p["R"], p["E"], p["V_th"], p["V_reset"], decay_syn


def _coba_u(c, z):
    return (z[0] - c[4]) / (c[4] - c[5])


def _coba_step(c, z, x, s, hard):
    h, v_rest, r, e_rev, v_th, v_reset, decay_syn = c
    g = decay_syn * z[1] + x
    u = _reset(v_th, v_reset, z[0], s, hard)
    q = r * g
    return _exp_euler(h, u, q * (e_rev - u) - (u - v_rest), -(1.0 + q)), g


COBA_LIF_MODEL = NeuronModel(
    name="coba_lif",
    class_name="CobaLIF",
    states=("V", "g"),
    params=dict(tau=5.0, tau_syn=5.0, E=0.0, R=1.0, V_th=1.0, V_reset=0.0, V_rest=0.0),
    consts=("h", "V_rest", "R", "E", "V_th", "V_reset", "decay_syn"),
    fold=_coba_fold,
    u=_coba_u,
    step=_coba_step,
)

# ---- ExpIF: brainpy.state.ExpIF ------------------------------------------------------
# c = (h, V_rest, R, V_th, V_reset, V_T, delta_T); z = (V,)
# a = (U - V_T)/delta_T, F = -(U - V_rest) + delta_T exp(min(a, 20)) + R x,
# j = -1 + exp(a) [a < 20] (the clamped exponent's slope is 0)

#: brainpy.state's clamp of the exponent.
EXP_CLAMP = 20.0


def _exp_if_fold(dt, p, xp=jnp):
    return _exp_euler_h(dt, p, xp), p["V_rest"], p["R"], p["V_th"], p["V_reset"], p["V_T"], p["delta_T"]


def _exp_if_v(c, u, current):
    """``V'`` from the reset potential and the current term (shared with AdExIF)."""
    h, v_rest, _, _, _, v_t, delta_t = c[:7]
    a = (u - v_t) / delta_t
    below = a < EXP_CLAMP
    e = jnp.exp(jnp.minimum(a, EXP_CLAMP))
    f = delta_t * e + current - (u - v_rest)
    return _exp_euler(h, u, f, jnp.where(below, e, 0.0) - 1.0)


def _exp_if_step(c, z, x, s, hard):
    u = _reset(c[3], c[4], z[0], s, hard)
    return (_exp_if_v(c, u, c[2] * x),)


EXP_IF_MODEL = NeuronModel(
    name="exp_if",
    class_name="ExpIF",
    states=("V",),
    params=dict(tau=10.0, R=1.0, V_th=-30.0, V_reset=-68.0, V_rest=-65.0, V_T=-59.9, delta_T=3.48),
    consts=("h", "V_rest", "R", "V_th", "V_reset", "V_T", "delta_T"),
    fold=_exp_if_fold,
    u=_lif_u,
    step=_exp_if_step,
)

# ---- AdExIF: brainpy.state.AdExIF -------------------------------------------------
# c = ExpIF's + (k_w, a, b), k_w = 1 - exp(-dt/tau_w); z = (V, w)
# w1 = w + b s; V' = ExpIF's step with the current R (x - w1);
# w' = w1 + k_w (a (V' - V_rest) - w1)  (exponential Euler with J = -1/tau_w: exact)


def _adex_fold(dt, p, xp=jnp):
    _, k_w = decay_terms(dt, p["tau_w"], xp)
    return (*_exp_if_fold(dt, p, xp), k_w, p["a"], p["b"])


def _adex_step(c, z, x, s, hard):
    v_rest, r, k_w, a, b = c[1], c[2], c[7], c[8], c[9]
    w1 = z[1] + b * s
    v = _exp_if_v(c, _reset(c[3], c[4], z[0], s, hard), r * (x - w1))
    return v, w1 + k_w * (a * (v - v_rest) - w1)


ADEX_IF_MODEL = NeuronModel(
    name="adex_if",
    class_name="AdExIF",
    states=("V", "w"),
    params=dict(
        tau=10.0, tau_w=30.0, R=1.0, V_th=-55.0, V_reset=-68.0, V_rest=-65.0, V_T=-59.9, delta_T=3.48, a=1.0, b=1.0
    ),
    consts=("h", "V_rest", "R", "V_th", "V_reset", "V_T", "delta_T", "k_w", "a", "b"),
    fold=_adex_fold,
    u=_lif_u,
    step=_adex_step,
)

#: Every model, by registry name.
MODELS = {m.name: m for m in (LIF_MODEL, ALIF_MODEL, CUBA_LIF_MODEL, COBA_LIF_MODEL, EXP_IF_MODEL, ADEX_IF_MODEL)}


def model(name: str) -> NeuronModel:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"spikegrad.neuron: unknown neuron model {name!r}; known: {sorted(MODELS)}") from None
