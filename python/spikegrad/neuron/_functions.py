"""The fused neurons as functions of a whole time-major input sequence: thin
wrappers over ``_fused.run``, one per model of ``_models``."""

from __future__ import annotations

from ._doc_blocks import filled
from ._fused import run
from ._models import (
    ADEX_IF_MODEL,
    ALIF_MODEL,
    COBA_LIF_MODEL,
    CUBA_LIF_MODEL,
    EXP_IF_MODEL,
    GIF_MODEL,
    IF_MODEL,
    LIF_MODEL,
    LIF_REF_MODEL,
)

__all__ = ["lif", "alif", "cuba_lif"]
__all__ += ["if_", "lif_ref", "gif"]
__all__ += ["coba_lif", "exp_if", "adex_if"]


@filled
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
    w_rec=None,
):
    """brainpy.state's ``LIF`` over the time-major input current ``x`` ``[T, *shape]``, in one fused op.

    Each step, with ``delta = V_th - V_reset`` and ``a = exp(-dt/tau)``:
    ``s = spk_fun((V - V_th)/delta)``; the reset subtracts ``delta * s``
    (``'soft'``) or ``(stop_gradient(V) - V_reset) * s`` (``'hard'``); then
    ``V = a V + (1 - a)(V_rest + R x_t)`` and the output is
    ``spk_fun((V - V_th)/delta)``. ``grad``, ``vjp``, ``jvp``, ``jacfwd`` and
    ``jacrev`` work with respect to ``x``, ``v0`` and every parameter (BPTT in
    one kernel), and so do ``vmap``, ``jit`` and ``checkpoint``.

    Parameters
    ----------
    {x}
    v0 : ArrayLike, optional
        The initial potential, broadcastable to ``shape`` (default 0).
    {dt}
    tau : float or ArrayLike, default 5.0
        The membrane time constant (> 0).
    R : float or ArrayLike, default 1.0
        The membrane resistance.
    V_th : float or ArrayLike, default 1.0
        The firing threshold.
    V_reset : float or ArrayLike, default 0.0
        The reset potential (must differ from ``V_th``).
    V_rest : float or ArrayLike, default 0.0
        The resting potential.
    {keywords}
    return_v : bool, default False
        Also return the potentials ``V_1 .. V_T``.
    return_states : bool, default False
        Also return the state sequences, as ``(v,)``.

    Returns
    -------
    jax.Array or tuple
        The spikes ``[T, *shape]`` in ``x``'s dtype; ``(spikes, v)`` with
        ``return_v``; ``(spikes, (v,))`` with ``return_states``. A sequence
        continues from ``v[-1]``.

    Raises
    ------
    {type_error}
    ValueError
        For a scalar ``x`` (it must be time-major), an initial state or
        parameter that does not broadcast to ``shape``, a non-finite
        parameter, ``dt`` or a time constant ``<= 0``, ``V_th == V_reset``,
        a bad ``spk_reset`` or ``save_every``, a ``w_rec`` that is not
        ``[n, n]`` or not finite.
        Also for ``return_v`` and ``return_states`` together.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from spikegrad.neuron import lif
    >>> x = jnp.full((4, 2), 2.0)  # T=4 steps, 2 neurons
    >>> spikes, v = lif(x, dt=1.0, tau=2.0, return_v=True)
    >>> print(spikes[:, 0], v.shape)
    [0. 1. 0. 1.] (4, 2)
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
        w_rec=w_rec,
    )
    if return_v:
        spikes, (v,) = out
        return spikes, v
    return out


@filled
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
    w_rec=None,
):
    """brainpy.state's ``ALIF`` (adaptive threshold) over the input current ``x`` ``[T, *shape]``, in one fused op.

    States ``(V, a)``. Each step, with ``delta = V_th - V_reset`` and
    ``u = (V - V_th - beta a)/delta``: ``s = spk_fun(u)``; ``V`` is reset as
    in ``lif`` and decays towards ``V_rest + R x_t`` (``exp(-dt/tau)``);
    ``a = exp(-dt/tau_a) (a + s)``; the output is ``spk_fun(u)`` of the new
    state. Differentiable and transformable as ``lif``.

    Parameters
    ----------
    {x}
    v0 : ArrayLike, optional
        The initial potential, broadcastable to ``shape`` (default 0).
    a0 : ArrayLike, optional
        The initial adaptation, broadcastable to ``shape`` (default 0).
    {dt}
    tau : float or ArrayLike, default 5.0
        The membrane time constant (> 0).
    tau_a : float or ArrayLike, default 100.0
        The adaptation time constant (> 0).
    R : float or ArrayLike, default 1.0
        The membrane resistance.
    V_th : float or ArrayLike, default 1.0
        The firing threshold, raised by ``beta * a``.
    V_reset : float or ArrayLike, default 0.0
        The reset potential (must differ from ``V_th``).
    V_rest : float or ArrayLike, default 0.0
        The resting potential.
    beta : float or ArrayLike, default 0.1
        The adaptation's weight on the threshold.
    {keywords}
    return_states : bool, default False
        Also return the state sequences ``(V, a)``.

    Returns
    -------
    jax.Array or tuple
        The spikes ``[T, *shape]`` in ``x``'s dtype, or ``(spikes, (V, a))``
        with ``return_states``.

    Raises
    ------
    {type_error}
    ValueError
        For a scalar ``x`` (it must be time-major), an initial state or
        parameter that does not broadcast to ``shape``, a non-finite
        parameter, ``dt`` or a time constant ``<= 0``, ``V_th == V_reset``,
        a bad ``spk_reset`` or ``save_every``, a ``w_rec`` that is not
        ``[n, n]`` or not finite.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from spikegrad.neuron import alif
    >>> spikes, (v, a) = alif(jnp.full((6, 3), 2.0), dt=1.0, tau=2.0, beta=0.5, return_states=True)
    >>> print(spikes.shape, a.shape)
    (6, 3) (6, 3)
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
        w_rec=w_rec,
    )


@filled
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
    w_rec=None,
):
    """brainpy.state's ``CubaLIF`` (current-based synapse) driven by ``x`` ``[T, *shape]``, in one fused op.

    ``x`` is the synaptic delta input: each step ``g = exp(-dt/tau_syn) g + x_t``
    (what a projection's ``add_delta_input`` does), then ``V`` is reset as in
    ``lif`` and decays towards ``V_rest + R g`` (``exp(-dt/tau)``); the output
    is ``spk_fun((V - V_th)/(V_th - V_reset))``. Differentiable and
    transformable as ``lif``.

    Parameters
    ----------
    {x}
    v0 : ArrayLike, optional
        The initial potential, broadcastable to ``shape`` (default 0).
    g0 : ArrayLike, optional
        The initial synaptic current, broadcastable to ``shape`` (default 0).
    {dt}
    tau : float or ArrayLike, default 5.0
        The membrane time constant (> 0).
    tau_syn : float or ArrayLike, default 5.0
        The synaptic time constant (> 0).
    R : float or ArrayLike, default 1.0
        The membrane resistance.
    V_th : float or ArrayLike, default 1.0
        The firing threshold.
    V_reset : float or ArrayLike, default 0.0
        The reset potential (must differ from ``V_th``).
    V_rest : float or ArrayLike, default 0.0
        The resting potential.
    {keywords}
    return_states : bool, default False
        Also return the state sequences ``(V, g)``.

    Returns
    -------
    jax.Array or tuple
        The spikes ``[T, *shape]`` in ``x``'s dtype, or ``(spikes, (V, g))``
        with ``return_states``.

    Raises
    ------
    {type_error}
    ValueError
        For a scalar ``x`` (it must be time-major), an initial state or
        parameter that does not broadcast to ``shape``, a non-finite
        parameter, ``dt`` or a time constant ``<= 0``, ``V_th == V_reset``,
        a bad ``spk_reset`` or ``save_every``, a ``w_rec`` that is not
        ``[n, n]`` or not finite.

    Examples
    --------
    >>> import jax
    >>> import jax.numpy as jnp
    >>> from spikegrad.neuron import cuba_lif
    >>> x = jnp.zeros((8, 5)).at[0].set(3.0)  # one input pulse at t=0
    >>> grad = jax.grad(lambda x: cuba_lif(x, dt=1.0, tau_syn=2.0).sum())(x)  # BPTT
    >>> print(grad.shape)
    (8, 5)
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
        w_rec=w_rec,
    )


@filled
def if_(
    x,
    v0=None,
    *,
    dt,
    tau=5.0,
    R=1.0,
    V_th=1.0,
    spk_fun=None,
    spk_reset="soft",
    return_states=False,
    save_every=None,
    w_rec=None,
):
    """brainpy.state's ``IF`` (integrate-and-fire) over the input current ``x`` ``[T, *shape]``, in one fused op.

    State ``V``. Each step, with ``a = exp(-dt/tau)``: ``s = spk_fun((V - V_th)/V_th)``;
    the reset subtracts ``V_th s`` (``'soft'``) or ``stop_gradient(V) s``
    (``'hard'``, to 0); then ``V = a V + (1 - a) R x_t`` (brainpy.state's
    exponential-Euler step of ``tau V' = -V + R x``) and the output is
    ``spk_fun((V - V_th)/V_th)``. Differentiable and transformable as ``lif``.

    Parameters
    ----------
    {x}
    v0 : ArrayLike, optional
        The initial potential, broadcastable to ``shape`` (default 0).
    {dt}
    tau : float or ArrayLike, default 5.0
        The membrane time constant (> 0).
    R : float or ArrayLike, default 1.0
        The membrane resistance.
    V_th : float or ArrayLike, default 1.0
        The firing threshold (nonzero: it is also the spike scale).
    {keywords}
    return_states : bool, default False
        Also return the state sequences, in the order named above.

    Returns
    -------
    jax.Array or tuple
        The spikes ``[T, *shape]`` in ``x``'s dtype, or ``(spikes, (V,))``
        with ``return_states``.

    Raises
    ------
    {type_error}
    ValueError
        For a scalar ``x``, an initial state or parameter that does not
        broadcast to ``shape``, a non-finite parameter, ``dt`` or ``tau``
        ``<= 0``, ``V_th == 0``, a bad ``spk_reset``, ``save_every`` or ``w_rec``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from spikegrad.neuron import if_
    >>> spikes, (v,) = if_(jnp.full((4, 2), 2.0), dt=1.0, tau=2.0, return_states=True)
    >>> print(spikes[:, 0], v.shape)
    [0. 1. 0. 1.] (4, 2)
    """
    return run(
        IF_MODEL,
        x,
        {"v0": v0},
        dict(dt=dt, tau=tau, R=R, V_th=V_th),
        fn="spikegrad.neuron.if_",
        spk_fun=spk_fun,
        spk_reset=spk_reset,
        save_every=save_every,
        return_states=return_states,
        w_rec=w_rec,
    )


@filled
def lif_ref(
    x,
    v0=None,
    r0=None,
    *,
    dt,
    tau=5.0,
    tau_ref=5.0,
    R=1.0,
    V_th=1.0,
    V_reset=0.0,
    V_rest=0.0,
    spk_fun=None,
    spk_reset="soft",
    return_states=False,
    save_every=None,
    w_rec=None,
):
    """brainpy.state's ``LIFRef`` (LIF with a refractory period) over the input ``x`` ``[T, *shape]``, in one fused op.

    States ``(V, r)``, ``r`` the time since the last spike (``inf``: none
    yet). Each step is ``lif``'s, except that while the time since the last
    spike, ``e = (round(r/dt) + 1) dt``, is ``< tau_ref`` the potential holds
    its reset value (the step's input is ignored); ``r`` becomes 0 where the
    new ``V >= V_th``, else ``e``. This is brainpy.state's ``LIFRef`` stepped
    with ``t = i dt``; it keeps the time since the last spike instead of its
    absolute time, so a sequence continued from the returned states equals
    one run. The refractory mask and ``r`` are not differentiated
    (brainpy.state's ``stop_gradient``): ``tau_ref``'s gradient is 0.

    Parameters
    ----------
    {x}
    v0 : ArrayLike, optional
        The initial potential, broadcastable to ``shape`` (default 0).
    r0 : ArrayLike, optional
        The initial time since the last spike (default ``inf``, never spiked).
    {dt}
    tau : float or ArrayLike, default 5.0
        The membrane time constant (> 0).
    tau_ref : float or ArrayLike, default 5.0
        The refractory period (>= 0; 0 gives ``lif``).
    R : float or ArrayLike, default 1.0
        The membrane resistance.
    V_th : float or ArrayLike, default 1.0
        The firing threshold.
    V_reset : float or ArrayLike, default 0.0
        The reset potential (must differ from ``V_th``).
    V_rest : float or ArrayLike, default 0.0
        The resting potential.
    {keywords}
    return_states : bool, default False
        Also return the state sequences, in the order named above.

    Returns
    -------
    jax.Array or tuple
        The spikes ``[T, *shape]`` in ``x``'s dtype, or ``(spikes, (V, r))``
        with ``return_states``.

    Raises
    ------
    {type_error}
    ValueError
        For a scalar ``x``, an initial state or parameter that does not
        broadcast to ``shape``, a non-finite parameter, ``dt`` or ``tau``
        ``<= 0``, ``tau_ref < 0``, ``V_th == V_reset``, a bad ``spk_reset``,
        ``save_every`` or ``w_rec``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from spikegrad.neuron import lif_ref
    >>> spikes, (v, r) = lif_ref(jnp.full((6, 1), 3.0), dt=1.0, tau=2.0, tau_ref=2.0, return_states=True)
    >>> print(spikes[:, 0], r[:, 0])  # one step held after each spike
    [1. 0. 1. 0. 1. 0.] [0. 1. 0. 1. 0. 1.]
    """
    return run(
        LIF_REF_MODEL,
        x,
        {"v0": v0, "r0": r0},
        dict(dt=dt, tau=tau, tau_ref=tau_ref, R=R, V_th=V_th, V_reset=V_reset, V_rest=V_rest),
        fn="spikegrad.neuron.lif_ref",
        spk_fun=spk_fun,
        spk_reset=spk_reset,
        save_every=save_every,
        return_states=return_states,
        w_rec=w_rec,
    )


@filled
def gif(
    x,
    v0=None,
    i1_0=None,
    i2_0=None,
    v_th0=None,
    *,
    dt,
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
    spk_fun=None,
    spk_reset="soft",
    return_states=False,
    save_every=None,
    w_rec=None,
):
    """brainpy.state's ``Gif`` (generalized integrate-and-fire) over the input ``x`` ``[T, *shape]``, in one fused op.

    States ``(V, I1, I2, V_th)``: two internal currents and a moving
    threshold. Each step, in brainpy.state's order:
    ``s = spk_fun((V - V_th)/(V_th - V_reset))`` of the state's own ``V_th``;
    the reset ``V -> V - (V_th - V_reset) s`` (``'hard'``:
    ``(stop_gradient(V) - V_reset) s``), ``I_j -> I_j + s (R_j I_j + A_j - I_j)``,
    ``V_th -> V_th + s (max(V_th_reset, V_th) - V_th)``; then ``I_j`` decay
    (``exp(-k_j dt)``), ``V_th`` steps towards ``V_th_inf + (a/b)(V - V_rest)``
    with the reset ``V`` (rate ``b``), and ``V`` decays towards
    ``V_rest + R (I1 + I2 + x_t)`` (``exp(-dt/tau)``), each as brainpy.state's
    exponential-Euler step. Differentiable and transformable as ``lif``.

    Parameters
    ----------
    {x}
    v0 : ArrayLike, optional
        The initial potential (default -70, brainpy.state's).
    i1_0 : ArrayLike, optional
        The initial ``I1`` (default 0).
    i2_0 : ArrayLike, optional
        The initial ``I2`` (default 0).
    v_th0 : ArrayLike, optional
        The initial threshold (default -50, brainpy.state's).
    {dt}
    R : float or ArrayLike, default 20.0
        The membrane resistance.
    tau : float or ArrayLike, default 20.0
        The membrane time constant (> 0).
    V_rest : float or ArrayLike, default -70.0
        The resting potential.
    V_reset : float or ArrayLike, default -70.0
        The reset potential.
    V_th_inf : float or ArrayLike, default -50.0
        The threshold's resting value.
    V_th_reset : float or ArrayLike, default -60.0
        The threshold's lower bound at a spike.
    a : float or ArrayLike, default 0.0
        The threshold's coupling to ``V - V_rest``.
    b : float or ArrayLike, default 0.01
        The threshold's relaxation rate (0 allowed).
    k1 : float or ArrayLike, default 0.2
        ``I1``'s decay rate.
    k2 : float or ArrayLike, default 0.02
        ``I2``'s decay rate.
    R1 : float or ArrayLike, default 0.0
        ``I1``'s factor at a spike.
    R2 : float or ArrayLike, default 1.0
        ``I2``'s factor at a spike.
    A1 : float or ArrayLike, default 0.0
        ``I1``'s increment at a spike.
    A2 : float or ArrayLike, default 0.0
        ``I2``'s increment at a spike.
    {keywords}
    return_states : bool, default False
        Also return the state sequences, in the order named above.

    Returns
    -------
    jax.Array or tuple
        The spikes ``[T, *shape]`` in ``x``'s dtype, or
        ``(spikes, (V, I1, I2, V_th))`` with ``return_states``.

    Raises
    ------
    {type_error}
    ValueError
        For a scalar ``x``, an initial state or parameter that does not
        broadcast to ``shape``, a non-finite parameter, ``dt`` or ``tau``
        ``<= 0``, a bad ``spk_reset``, ``save_every`` or ``w_rec``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from spikegrad.neuron import gif
    >>> spikes, (v, i1, i2, v_th) = gif(jnp.full((40, 2), 1.5), dt=1.0, A2=0.5, return_states=True)
    >>> print(int(spikes.sum()) > 0, v_th.shape)
    True (40, 2)
    """
    return run(
        GIF_MODEL,
        x,
        {"v0": v0, "i1_0": i1_0, "i2_0": i2_0, "v_th0": v_th0},
        dict(
            dt=dt,
            R=R,
            tau=tau,
            V_rest=V_rest,
            V_reset=V_reset,
            V_th_inf=V_th_inf,
            V_th_reset=V_th_reset,
            a=a,
            b=b,
            k1=k1,
            k2=k2,
            R1=R1,
            R2=R2,
            A1=A1,
            A2=A2,
        ),
        fn="spikegrad.neuron.gif",
        spk_fun=spk_fun,
        spk_reset=spk_reset,
        save_every=save_every,
        return_states=return_states,
        w_rec=w_rec,
    )


@filled
def coba_lif(
    x,
    v0=None,
    g0=None,
    *,
    dt,
    tau=5.0,
    tau_syn=5.0,
    E=0.0,
    R=1.0,
    V_th=1.0,
    V_reset=0.0,
    V_rest=0.0,
    spk_fun=None,
    spk_reset="soft",
    return_states=False,
    save_every=None,
    w_rec=None,
):
    """brainpy.state's ``CobaLIF`` (conductance-based synapse) driven by ``x`` ``[T, *shape]``, in one fused op.

    ``x`` is the delta input to the conductance: each step
    ``g = exp(-dt/tau_syn) g + x_t``; then ``V``, reset as in ``lif``, takes
    brainpy.state's exponential-Euler step ``V + dt exprel(dt J) f(V)`` with
    ``f(V) = (-(V - V_rest) + R g (E - V))/tau`` and ``J = -(1 + R g)/tau``
    (which depends on ``g``: gradients flow through it); the output is
    ``spk_fun((V - V_th)/(V_th - V_reset))``. Differentiable and
    transformable as ``lif``.

    Parameters
    ----------
    {x}
    v0 : ArrayLike, optional
        The initial potential, broadcastable to ``shape`` (default 0).
    g0 : ArrayLike, optional
        The initial conductance, broadcastable to ``shape`` (default 0).
    {dt}
    tau : float or ArrayLike, default 5.0
        The membrane time constant (> 0).
    tau_syn : float or ArrayLike, default 5.0
        The conductance's time constant (> 0).
    E : float or ArrayLike, default 0.0
        The synaptic reversal potential.
    R : float or ArrayLike, default 1.0
        The membrane resistance.
    V_th : float or ArrayLike, default 1.0
        The firing threshold.
    V_reset : float or ArrayLike, default 0.0
        The reset potential (must differ from ``V_th``).
    V_rest : float or ArrayLike, default 0.0
        The resting potential.
    {keywords}
    return_states : bool, default False
        Also return the state sequences ``(V, g)``.

    Returns
    -------
    jax.Array or tuple
        The spikes ``[T, *shape]`` in ``x``'s dtype, or ``(spikes, (V, g))``
        with ``return_states``.

    Raises
    ------
    {type_error}
    ValueError
        For a scalar ``x``, an initial state or parameter that does not
        broadcast to ``shape``, a non-finite parameter, ``dt``, ``tau`` or
        ``tau_syn`` ``<= 0``, ``V_th == V_reset``, a bad ``spk_reset``,
        ``save_every`` or ``w_rec``.

    Examples
    --------
    >>> import jax
    >>> import jax.numpy as jnp
    >>> from spikegrad.neuron import coba_lif
    >>> x = jnp.zeros((8, 4)).at[0].set(2.0)  # one conductance pulse at t=0
    >>> spikes, (v, g) = coba_lif(x, dt=1.0, E=3.0, return_states=True)
    >>> print(spikes.sum(axis=0), g.shape)
    [2. 2. 2. 2.] (8, 4)
    >>> print(jax.grad(lambda x: coba_lif(x, dt=1.0, E=3.0).sum())(x).shape)  # BPTT
    (8, 4)
    """
    return run(
        COBA_LIF_MODEL,
        x,
        {"v0": v0, "g0": g0},
        dict(dt=dt, tau=tau, tau_syn=tau_syn, E=E, R=R, V_th=V_th, V_reset=V_reset, V_rest=V_rest),
        fn="spikegrad.neuron.coba_lif",
        spk_fun=spk_fun,
        spk_reset=spk_reset,
        save_every=save_every,
        return_states=return_states,
        w_rec=w_rec,
    )


@filled
def exp_if(
    x,
    v0=None,
    *,
    dt,
    tau=10.0,
    R=1.0,
    V_th=-30.0,
    V_reset=-68.0,
    V_rest=-65.0,
    V_T=-59.9,
    delta_T=3.48,
    spk_fun=None,
    spk_reset="soft",
    return_states=False,
    save_every=None,
    w_rec=None,
):
    """brainpy.state's ``ExpIF`` (exponential integrate-and-fire) driven by ``x`` ``[T, *shape]``, in one fused op.

    Each step ``V``, reset as in ``lif``, takes brainpy.state's
    exponential-Euler step ``V + dt exprel(dt J) f(V)`` with
    ``f(V) = (-(V - V_rest) + delta_T exp(min(a, 20)) + R x_t)/tau``,
    ``a = (V - V_T)/delta_T``, and ``J = (-1 + exp(a) [a < 20])/tau`` (the
    exponent is clamped at 20, where its slope becomes 0; ``J`` depends on
    ``V`` and gradients flow through it). The output is
    ``spk_fun((V - V_th)/(V_th - V_reset))``. Differentiable and
    transformable as ``lif``. As in brainpy.state, the step runs away
    (to ``inf``) where ``dt J`` passes about 700 (float64) or 88 (float32),
    between ``V_T`` and the clamp: the threshold and reset keep ``V`` below.

    Parameters
    ----------
    {x}
    v0 : ArrayLike, optional
        The initial potential, broadcastable to ``shape`` (default -65.0,
        brainpy.state's).
    {dt}
    tau : float or ArrayLike, default 10.0
        The membrane time constant (> 0).
    R : float or ArrayLike, default 1.0
        The membrane resistance.
    V_th : float or ArrayLike, default -30.0
        The firing threshold.
    V_reset : float or ArrayLike, default -68.0
        The reset potential (must differ from ``V_th``).
    V_rest : float or ArrayLike, default -65.0
        The resting potential.
    V_T : float or ArrayLike, default -59.9
        The threshold of the exponential term.
    delta_T : float or ArrayLike, default 3.48
        The slope factor of the exponential term (> 0).
    {keywords}
    return_states : bool, default False
        Also return the state sequences, as ``(V,)``.

    Returns
    -------
    jax.Array or tuple
        The spikes ``[T, *shape]`` in ``x``'s dtype, or ``(spikes, (V,))``
        with ``return_states``.

    Raises
    ------
    {type_error}
    ValueError
        For a scalar ``x``, an initial state or parameter that does not
        broadcast to ``shape``, a non-finite parameter, ``dt``, ``tau`` or
        ``delta_T`` ``<= 0``, ``V_th == V_reset``, a bad ``spk_reset``,
        ``save_every`` or ``w_rec``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from spikegrad.neuron import exp_if
    >>> x = jnp.full((200, 3), 10.0)  # 20 ms of a constant current at dt = 0.1
    >>> spikes, (v,) = exp_if(x, dt=0.1, spk_reset="hard", return_states=True)
    >>> print(spikes.sum(axis=0), v.shape)
    [1. 1. 1.] (200, 3)
    """
    return run(
        EXP_IF_MODEL,
        x,
        {"v0": v0},
        dict(dt=dt, tau=tau, R=R, V_th=V_th, V_reset=V_reset, V_rest=V_rest, V_T=V_T, delta_T=delta_T),
        fn="spikegrad.neuron.exp_if",
        spk_fun=spk_fun,
        spk_reset=spk_reset,
        save_every=save_every,
        return_states=return_states,
        w_rec=w_rec,
    )


@filled
def adex_if(
    x,
    v0=None,
    w0=None,
    *,
    dt,
    tau=10.0,
    tau_w=30.0,
    R=1.0,
    V_th=-55.0,
    V_reset=-68.0,
    V_rest=-65.0,
    V_T=-59.9,
    delta_T=3.48,
    a=1.0,
    b=1.0,
    spk_fun=None,
    spk_reset="soft",
    return_states=False,
    save_every=None,
    w_rec=None,
):
    """brainpy.state's ``AdExIF`` (adaptive exponential IF) driven by ``x`` ``[T, *shape]``, in one fused op.

    States ``(V, w)``. Each step, with ``s`` the spike of the previous
    state: the adaptation current is bumped first, ``w1 = w + b s``; ``V``,
    reset as in ``lif``, takes ``exp_if``'s exponential-Euler step with the
    current ``R (x_t - w1)``; then ``w`` steps towards ``a (V - V_rest)``
    with the new ``V``: ``w = w1 + (1 - exp(-dt/tau_w)) (a (V - V_rest) - w1)``.
    The output is ``spk_fun((V - V_th)/(V_th - V_reset))``. Differentiable
    and transformable as ``lif``; runs away as ``exp_if`` does.

    Parameters
    ----------
    {x}
    v0 : ArrayLike, optional
        The initial potential, broadcastable to ``shape`` (default -65.0,
        brainpy.state's).
    w0 : ArrayLike, optional
        The initial adaptation current, broadcastable to ``shape`` (default 0).
    {dt}
    tau : float or ArrayLike, default 10.0
        The membrane time constant (> 0).
    tau_w : float or ArrayLike, default 30.0
        The adaptation time constant (> 0).
    R : float or ArrayLike, default 1.0
        The membrane resistance.
    V_th : float or ArrayLike, default -55.0
        The firing threshold.
    V_reset : float or ArrayLike, default -68.0
        The reset potential (must differ from ``V_th``).
    V_rest : float or ArrayLike, default -65.0
        The resting potential.
    V_T : float or ArrayLike, default -59.9
        The threshold of the exponential term.
    delta_T : float or ArrayLike, default 3.48
        The slope factor of the exponential term (> 0).
    a : float or ArrayLike, default 1.0
        The subthreshold coupling of ``w`` to ``V``.
    b : float or ArrayLike, default 1.0
        The increment of ``w`` per spike.
    {keywords}
    return_states : bool, default False
        Also return the state sequences ``(V, w)``.

    Returns
    -------
    jax.Array or tuple
        The spikes ``[T, *shape]`` in ``x``'s dtype, or ``(spikes, (V, w))``
        with ``return_states``.

    Raises
    ------
    {type_error}
    ValueError
        For a scalar ``x``, an initial state or parameter that does not
        broadcast to ``shape``, a non-finite parameter, ``dt``, ``tau``,
        ``tau_w`` or ``delta_T`` ``<= 0``, ``V_th == V_reset``, a bad
        ``spk_reset``, ``save_every`` or ``w_rec``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from spikegrad.neuron import adex_if
    >>> x = jnp.full((300, 2), 20.0)  # 30 ms of a constant current at dt = 0.1
    >>> spikes, (v, w) = adex_if(x, dt=0.1, spk_reset="hard", return_states=True)
    >>> print(spikes.sum(axis=0), w.shape)
    [4. 4.] (300, 2)
    """
    return run(
        ADEX_IF_MODEL,
        x,
        {"v0": v0, "w0": w0},
        dict(
            dt=dt,
            tau=tau,
            tau_w=tau_w,
            R=R,
            V_th=V_th,
            V_reset=V_reset,
            V_rest=V_rest,
            V_T=V_T,
            delta_T=delta_T,
            a=a,
            b=b,
        ),
        fn="spikegrad.neuron.adex_if",
        spk_fun=spk_fun,
        spk_reset=spk_reset,
        save_every=save_every,
        return_states=return_states,
        w_rec=w_rec,
    )
