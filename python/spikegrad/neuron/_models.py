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
from dataclasses import dataclass, field

import jax.numpy as jnp
from jax import lax

from ._exprel import exprel, exprel_fold

__all__ = ["NeuronModel", "MODELS", "LIF_MODEL", "ALIF_MODEL", "CUBA_LIF_MODEL", "model", "decay_terms"]
__all__ += ["IF_MODEL", "LIF_REF_MODEL", "GIF_MODEL", "with_refractory"]
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
    #: Initial state values where the caller gives none (brainpy.state's
    #: initializers), by state name; absent states start at 0.
    init: dict = field(default_factory=dict)
    #: Parameters that must be >= 0 (those that must be > 0 are ``_fused.POSITIVE``).
    non_negative: frozenset = frozenset()

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
    init=dict(V=-65.0),
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
    init=dict(V=-65.0),
)

#: Every model, by registry name.
MODELS = {m.name: m for m in (LIF_MODEL, ALIF_MODEL, CUBA_LIF_MODEL, COBA_LIF_MODEL, EXP_IF_MODEL, ADEX_IF_MODEL)}


def model(name: str) -> NeuronModel:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"spikegrad.neuron: unknown neuron model {name!r}; known: {sorted(MODELS)}") from None


# ---- IF: brainpy.state.IF ------------------------------------------------------
# c = (decay, drive, V_th); z = (V,)
# u = (V - V_th)/V_th; V' = decay (V - r s) + drive x, r = V_th (soft) or V (hard)


def _if_fold(dt, p, xp=jnp):
    decay, one_minus = decay_terms(dt, p["tau"], xp)
    return decay, one_minus * p["R"], p["V_th"]


def _if_u(c, z):
    return (z[0] - c[2]) / c[2]


def _if_step(c, z, x, s, hard):
    decay, drive, v_th = c
    return (decay * _reset(v_th, 0.0, z[0], s, hard) + drive * x,)


IF_MODEL = NeuronModel(
    name="if",
    class_name="IF",
    states=("V",),
    params=dict(tau=5.0, R=1.0, V_th=1.0),
    consts=("decay", "drive", "V_th"),
    fold=_if_fold,
    u=_if_u,
    step=_if_step,
)

# ---- The refractory period of brainpy.state's *Ref models -----------------------
# One more state r, the time since the last spike (inf: none yet), and three more
# constants (dt, tau_ref, 1/dt: a multiplication per step, not a division).
# Each step: e = (round(r (1/dt)) + 1) dt, the time since
# the last spike at this step (a step count times dt, so it does not drift);
# while e < tau_ref the held states (the reset ones) replace the step's; then
# r' = 0 where the new state fired, else e. brainpy.state keeps the absolute
# time of the last spike instead, which a continued sequence would have to
# carry along with the absolute time. Not differentiated (brainpy.state's
# stop_gradient): the mask is a select, r has no tangent.


def _round(y):
    """``y`` to the nearest integer, ties to even, as the Rust kernels round it
    (adding and subtracting ``1.5 * 2^mantissa bits``): the same bits on every
    backend, and Triton, which has no ``round``, lowers it."""
    magic = 1.5 * 2.0 ** jnp.finfo(y.dtype).nmant
    return (y + magic) - magic


def with_refractory(base: NeuronModel, *, name: str, class_name: str, held: Callable, fired: Callable) -> NeuronModel:
    """``base`` with brainpy.state's refractory period, as its ``*Ref`` class.

    Args:
      base: the model without refractory period.
      name, class_name: the new model's registry and brainpy.state class names.
      held: ``held(c, z, s, hard)``, the base states during the period (from
        the base constants and state; e.g. LIF's reset ``V``).
      fired: ``fired(c, z')``, where a spike time is recorded (brainpy.state's
        ``V >= V_th``).

    Returns:
      The description with states ``base.states + ("r",)``, parameters
      ``base.params`` and ``tau_ref`` (5.0), constants ``base.consts`` and
      ``("dt", "tau_ref", "inv_dt")``.
    """
    nc = base.n_consts

    def fold(dt, p, xp=jnp):
        return (*base.fold(dt, p, xp), dt, p["tau_ref"], 1.0 / dt)

    def u(c, z):
        return base.u(c[:nc], z[:-1])

    def step(c, z, x, s, hard):
        cb, (dt, tau_ref, inv_dt) = c[:nc], c[nc:]
        zb, r = z[:-1], lax.stop_gradient(z[-1])
        dt, tau_ref, inv_dt = (lax.stop_gradient(a) for a in (dt, tau_ref, inv_dt))
        e = (_round(r * inv_dt) + 1) * dt
        refractory = e < tau_ref
        new = tuple(jnp.where(refractory, h, n) for h, n in zip(held(cb, zb, s, hard), base.step(cb, zb, x, s, hard)))
        return (*new, lax.stop_gradient(jnp.where(fired(cb, new), jnp.zeros_like(e), e)))

    return NeuronModel(
        name=name,
        class_name=class_name,
        states=(*base.states, "r"),
        params=dict(base.params, tau_ref=5.0),
        consts=(*base.consts, "dt", "tau_ref", "inv_dt"),
        fold=fold,
        u=u,
        step=step,
        init=dict(base.init, r=float("inf")),
        non_negative=base.non_negative | {"tau_ref"},
    )


# ---- LIFRef: brainpy.state.LIFRef ------------------------------------------------
# c = (LIF's constants, dt, tau_ref, 1/dt); z = (V, r); V holds its reset value while refractory.

LIF_REF_MODEL = with_refractory(
    LIF_MODEL,
    name="lif_ref",
    class_name="LIFRef",
    held=lambda c, z, s, hard: (_reset(c[3], c[4], z[0], s, hard),),
    fired=lambda c, z: z[0] >= c[3],
)

# ---- Gif: brainpy.state.Gif --------------------------------------------------------
# c = (decay, bias, drive, V_reset, decay_1, decay_2, R1, R2, A1, A2, V_th_reset,
#      decay_th, th_gain, th_bias); z = (V, I1, I2, V_th)
# u = (V - V_th)/(V_th - V_reset). The reset (s the spike of z): U = V - r s with
# r = V_th - V_reset (soft) or V - V_reset (hard); I_j -> I_j + s (R_j I_j + A_j - I_j);
# V_th -> V_th + s (max(V_th_reset, V_th) - V_th). Then each exponential-Euler step
# is exact (constant Jacobians): I_j' = exp(-k_j dt) I_j,
# V_th' = exp(-b dt) V_th + th_gain U + th_bias (th_gain = a dt exprel(-b dt),
# th_bias = (1 - exp(-b dt)) V_th_inf - th_gain V_rest), V' = LIF's step of U with
# the input I1' + I2' + x.


def _gif_fold(dt, p, xp=jnp):
    decay, one_minus = decay_terms(dt, p["tau"], xp)
    rate = p["b"] * dt
    gain = p["a"] * dt * exprel_fold(-rate, xp)
    return (
        decay,
        one_minus * p["V_rest"],
        one_minus * p["R"],
        p["V_reset"],
        xp.exp(-p["k1"] * dt),
        xp.exp(-p["k2"] * dt),
        p["R1"],
        p["R2"],
        p["A1"],
        p["A2"],
        p["V_th_reset"],
        xp.exp(-rate),
        gain,
        -xp.expm1(-rate) * p["V_th_inf"] - gain * p["V_rest"],
    )


def _gif_u(c, z):
    return (z[0] - z[3]) / (z[3] - c[3])


def _gif_step(c, z, x, s, hard):
    decay, bias, drive, v_reset, d1, d2, r1, r2, a1, a2, th_reset, decay_th, th_gain, th_bias = c
    v, i1, i2, th = z
    u = _reset(th, v_reset, v, s, hard)
    i1 = d1 * (i1 + s * (r1 * i1 + a1 - i1))
    i2 = d2 * (i2 + s * (r2 * i2 + a2 - i2))
    th = decay_th * (th + s * (jnp.maximum(th_reset, th) - th)) + th_gain * u + th_bias
    return decay * u + (bias + drive * (i1 + i2 + x)), i1, i2, th


GIF_MODEL = NeuronModel(
    name="gif",
    class_name="Gif",
    states=("V", "I1", "I2", "V_th"),
    params=dict(
        R=20.0,
        tau=20.0,
        V_rest=-70.0,
        V_reset=-70.0,
        V_th_inf=-50.0,
        V_th_reset=-60.0,
        a=0.0,
        b=0.01,
        k1=0.2,
        k2=0.02,
        R1=0.0,
        R2=1.0,
        A1=0.0,
        A2=0.0,
    ),
    consts=(
        "decay",
        "bias",
        "drive",
        "V_reset",
        "decay_1",
        "decay_2",
        "R1",
        "R2",
        "A1",
        "A2",
        "V_th_reset",
        "decay_th",
        "th_gain",
        "th_bias",
    ),
    fold=_gif_fold,
    u=_gif_u,
    step=_gif_step,
    init=dict(V=-70.0, V_th=-50.0),
)

MODELS.update({m.name: m for m in (IF_MODEL, LIF_REF_MODEL, GIF_MODEL)})
