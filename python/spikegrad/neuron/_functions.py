"""The fused neurons as functions of a whole time-major input sequence: thin
wrappers over ``_fused.run``, one per model of ``_models``."""

from __future__ import annotations

from ._fused import run
from ._models import ALIF_MODEL, CUBA_LIF_MODEL, LIF_MODEL

__all__ = ["lif", "alif", "cuba_lif"]

_COMMON_DOC = """
    Args (common to the fused neurons):
      x: time-major input ``[T, *shape]``, float16/bfloat16/float32/float64
        (half precision is computed in float32).
      dt and the model's parameters: Python/NumPy scalars, per-neuron arrays
        broadcastable to ``shape``, or traced values (jit arguments, a
        ``brainstate.ParamState``'s value); all run the fused kernels and are
        differentiable.
      spk_fun: a surrogate (``spikegrad.surrogate``; default ``ReluGrad()``,
        as brainpy.state), or any callable spike function (then the update
        runs as a ``lax.scan``).
      spk_reset: ``'soft'`` (subtract ``V_th - V_reset``) or ``'hard'``
        (``V_reset``; the reset factor is not differentiated w.r.t. ``V``).
      save_every: the BPTT checkpoint stride ``K``: the forward pass of a
        gradient keeps the states every ``K`` steps and the backward pass
        recomputes the steps in between (1: save every step; None: the
        package default ``DEFAULT_SAVE_EVERY``, 16). A positive int.
      return_states: also return the every-step state sequences, in model
        order (each ``[T, *shape]``, in the compute dtype). A sequence
        continues from their last rows.
"""


def lif(
    x,
    v0=None,
    *,
    dt,
    tau=5.0,
    R=1.0,
    V_th=1.0,
    V_reset=0.0,
    V_rest=0.0,
    spk_fun=None,
    spk_reset="soft",
    return_v=False,
    save_every=None,
    return_states=False,
):
    """brainpy.state's ``LIF`` over the time-major input current ``x`` ``[T, *shape]``.

    Each step, with ``delta = V_th - V_reset`` and ``a = exp(-dt/tau)``:
    ``s = spk_fun((V - V_th)/delta)``; the reset subtracts ``delta * s``
    (``'soft'``) or ``(stop_gradient(V) - V_reset) * s`` (``'hard'``); then
    ``V = a V + (1 - a)(V_rest + R x_t)`` and the output is
    ``spk_fun((V - V_th)/delta)``.

    ``v0``: initial potential, broadcastable to ``shape`` (default 0).
    ``return_v``: also return the potentials ``[V_1..V_T]``: ``(spikes, v)``.

    Returns the spikes in x's dtype, ``(spikes, v)`` with ``return_v``,
    ``(spikes, (v,))`` with ``return_states``.
    """
    if return_v and return_states:
        raise ValueError("spikegrad.neuron.lif: give return_v or return_states, not both")
    out = run(
        LIF_MODEL,
        x,
        {"v0": v0},
        dict(dt=dt, tau=tau, R=R, V_th=V_th, V_reset=V_reset, V_rest=V_rest),
        fn="spikegrad.neuron.lif",
        spk_fun=spk_fun,
        spk_reset=spk_reset,
        save_every=save_every,
        return_states=bool(return_v or return_states),
    )
    if return_v:
        spikes, (v,) = out
        return spikes, v
    return out


def alif(
    x,
    v0=None,
    a0=None,
    *,
    dt,
    tau=5.0,
    tau_a=100.0,
    R=1.0,
    V_th=1.0,
    V_reset=0.0,
    V_rest=0.0,
    beta=0.1,
    spk_fun=None,
    spk_reset="soft",
    return_states=False,
    save_every=None,
):
    """brainpy.state's ``ALIF`` (adaptive threshold) over the input current ``x`` ``[T, *shape]``.

    States ``(V, a)``. Each step, with ``delta = V_th - V_reset`` and
    ``u = (V - V_th - beta a)/delta``: ``s = spk_fun(u)``; ``V`` is reset as
    in ``lif`` and decays towards ``V_rest + R x_t`` (``exp(-dt/tau)``);
    ``a = exp(-dt/tau_a) (a + s)``; the output is ``spk_fun(u)`` of the new
    state.

    ``v0``, ``a0``: initial states, broadcastable to ``shape`` (default 0).

    Returns the spikes in x's dtype, or ``(spikes, (V, a))`` with ``return_states``.
    """
    return run(
        ALIF_MODEL,
        x,
        {"v0": v0, "a0": a0},
        dict(dt=dt, tau=tau, tau_a=tau_a, R=R, V_th=V_th, V_reset=V_reset, V_rest=V_rest, beta=beta),
        fn="spikegrad.neuron.alif",
        spk_fun=spk_fun,
        spk_reset=spk_reset,
        save_every=save_every,
        return_states=return_states,
    )


def cuba_lif(
    x,
    v0=None,
    g0=None,
    *,
    dt,
    tau=5.0,
    tau_syn=5.0,
    R=1.0,
    V_th=1.0,
    V_reset=0.0,
    V_rest=0.0,
    spk_fun=None,
    spk_reset="soft",
    return_states=False,
    save_every=None,
):
    """brainpy.state's ``CubaLIF`` (current-based synapse) driven by ``x`` ``[T, *shape]``
    as its delta input: each step ``g = exp(-dt/tau_syn) g + x_t`` (what a
    projection's ``add_delta_input`` does), then ``V`` is reset as in ``lif``
    and decays towards ``V_rest + R g`` (``exp(-dt/tau)``); the output is
    ``spk_fun((V - V_th)/(V_th - V_reset))``.

    ``v0``, ``g0``: initial states, broadcastable to ``shape`` (default 0).

    Returns the spikes in x's dtype, or ``(spikes, (V, g))`` with ``return_states``.
    """
    return run(
        CUBA_LIF_MODEL,
        x,
        {"v0": v0, "g0": g0},
        dict(dt=dt, tau=tau, tau_syn=tau_syn, R=R, V_th=V_th, V_reset=V_reset, V_rest=V_rest),
        fn="spikegrad.neuron.cuba_lif",
        spk_fun=spk_fun,
        spk_reset=spk_reset,
        save_every=save_every,
        return_states=return_states,
    )


for _f in (lif, alif, cuba_lif):
    _f.__doc__ += _COMMON_DOC
