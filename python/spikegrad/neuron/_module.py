"""brainstate modules around the fused neurons: ``LIF``, ``ALIF``, ``CubaLIF``.

One base class (``FusedNeuron``) serves every model of ``_models``: it holds
the parameters and one ``brainstate.HiddenState`` per model state (``V``,
``a``, ``g``), and its call runs a whole sequence with ``_fused.run``,
leaving the states at the last step. Each model's class only spells out
brainpy.state's constructor."""

from __future__ import annotations

from typing import ClassVar

import brainstate
import jax.numpy as jnp

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
    NeuronModel,
)
from ._recurrent import check_w_rec

__all__ = ["FusedNeuron", "LIF", "ALIF", "CubaLIF"]
__all__ += ["IF", "LIFRef", "Gif"]
__all__ += ["CobaLIF", "ExpIF", "AdExIF"]


def _value(p):
    """A parameter's value: a ``brainstate.State`` (e.g. a ``ParamState``)
    is read, so that transforms over it (``brainstate.transform.grad``) trace it."""
    return p.value if isinstance(p, brainstate.State) else p


class FusedNeuron(brainstate.nn.Module):
    """A population of ``model`` neurons whose call runs a whole sequence.

    ``init_state(batch_size)`` creates one ``brainstate.HiddenState`` per
    model state, from its initializer (a value broadcastable to ``in_size``,
    or a callable ``init(shape)`` such as a braintools initializer); calling
    the module with ``x`` ``[T, *batch, *in_size]`` returns the spikes
    ``[T, ...]`` and leaves the states at the last step. ``dt`` comes from
    ``brainstate.environ``. A parameter may be a scalar, an array
    broadcastable to ``in_size`` (per neuron) or a ``brainstate.ParamState``
    holding either, which ``brainstate.transform.grad`` then trains.
    ``w_rec`` (None: feed-forward) is the recurrent weight ``[n, n]``,
    ``n = in_size[-1]``, held as ``self.w_rec``, a ``brainstate.ParamState``.
    """

    model: ClassVar[NeuronModel]

    def __init__(self, in_size, *, params: dict, initializers: dict, spk_fun, spk_reset, save_every, name, w_rec=None):
        super().__init__(name=name)
        if spk_reset not in ("soft", "hard"):
            raise ValueError(
                f"spikegrad.neuron.{type(self).__name__}: spk_reset must be 'soft' or 'hard', got {spk_reset!r}"
            )
        self.in_size = in_size
        self.out_size = in_size
        self.varshape = (in_size,) if isinstance(in_size, int) else tuple(in_size)
        for key, value in params.items():
            setattr(self, key, value)
        self._param_names = tuple(params)
        self._initializers = dict(initializers)
        self.spk_fun = spk_fun
        self.spk_reset = spk_reset
        self.save_every = save_every
        self.w_rec = None if w_rec is None else self._recurrent_weight(w_rec)

    def _recurrent_weight(self, w_rec) -> brainstate.ParamState:
        """``w_rec`` (an array, ``init(shape)`` or a ``ParamState``) as a
        checked ``ParamState`` of shape ``[n, n]``."""
        fn = f"spikegrad.neuron.{type(self).__name__}"
        n = self.varshape[-1] if self.varshape else None
        if isinstance(w_rec, brainstate.State):
            check_w_rec(fn, w_rec.value, self.varshape)
            return w_rec
        value = w_rec((n, n)) if callable(w_rec) and n is not None else w_rec
        return brainstate.ParamState(check_w_rec(fn, value, self.varshape))

    def _initial(self, state: str, batch_size):
        shape = self.varshape if batch_size is None else (batch_size, *self.varshape)
        # A state without an initializer (LIFRef's r) starts at the model's default.
        init = self._initializers.get(state, self.model.init.get(state, 0.0))
        value = init(shape) if callable(init) else init
        return jnp.broadcast_to(jnp.asarray(value, brainstate.environ.dftype()), shape)

    def init_state(self, batch_size=None, **kwargs):
        for state in self.model.states:
            setattr(self, state, brainstate.HiddenState(self._initial(state, batch_size)))

    def reset_state(self, batch_size=None, **kwargs):
        for state in self.model.states:
            getattr(self, state).value = self._initial(state, batch_size)

    def update(self, x):
        hidden = [getattr(self, state) for state in self.model.states]
        params = {"dt": brainstate.environ.get_dt()}
        params.update({k: _value(getattr(self, k)) for k in self._param_names})
        spikes, last = run(
            self.model,
            x,
            {state: h.value for state, h in zip(self.model.states, hidden)},
            params,
            fn=f"spikegrad.neuron.{type(self).__name__}",
            spk_fun=self.spk_fun,
            spk_reset=self.spk_reset,
            save_every=self.save_every,
            final_states=True,
            w_rec=None if self.w_rec is None else self.w_rec.value,
        )
        for h, value in zip(hidden, last):
            h.value = value.astype(h.value.dtype)
        return spikes


@filled
class LIF(FusedNeuron):
    """brainpy.state's ``LIF`` (unitless) whose call runs a whole sequence with ``spikegrad.neuron.lif``.

    State ``V``, a ``brainstate.HiddenState``.
    A parameter may be a scalar, an array broadcastable to ``in_size`` (per
    neuron) or a ``brainstate.ParamState`` holding either, which
    ``brainstate.transform.grad`` then trains.

    Parameters
    ----------
    in_size : int or tuple of int
        The population's shape.
    R, tau, V_th, V_reset, V_rest : float, ArrayLike or brainstate.ParamState
        As in ``spikegrad.neuron.lif`` (defaults 1.0, 5.0, 1.0, 0.0, 0.0).
    V_initializer : ArrayLike or callable, default 0.0
        The initial ``V``: a value broadcastable to ``in_size``, or ``init(shape)``.
    {module_keywords}
    v0 : ArrayLike or callable, optional
        Another name for ``V_initializer``.

    {module_call}

    Examples
    --------
    >>> import brainstate
    >>> import jax.numpy as jnp
    >>> from spikegrad.neuron import LIF
    >>> with brainstate.environ.context(dt=1.0):
    ...     layer = LIF(3, tau=brainstate.ParamState(jnp.full(3, 2.0)))
    ...     layer.init_state(batch_size=2)
    ...     spikes = layer(jnp.full((5, 2, 3), 2.0))  # T=5, batch 2
    >>> print(spikes.shape, layer.V.value.shape)
    (5, 2, 3) (2, 3)
    """

    model = LIF_MODEL

    def __init__(
        self,
        in_size,
        R=1.0,
        tau=5.0,
        V_th=1.0,
        V_reset=0.0,
        V_rest=0.0,
        V_initializer=0.0,
        spk_fun=None,
        spk_reset="soft",
        name=None,
        *,
        v0=None,
        save_every=None,
        w_rec=None,
    ):
        super().__init__(
            in_size,
            params=dict(R=R, tau=tau, V_th=V_th, V_reset=V_reset, V_rest=V_rest),
            initializers={"V": V_initializer if v0 is None else v0},
            spk_fun=spk_fun,
            spk_reset=spk_reset,
            save_every=save_every,
            name=name,
            w_rec=w_rec,
        )


@filled
class ALIF(FusedNeuron):
    """brainpy.state's ``ALIF`` (unitless) whose call runs a whole sequence with ``spikegrad.neuron.alif``.

    States ``V`` and ``a``, ``brainstate.HiddenState`` objects.
    A parameter may be a scalar, an array broadcastable to ``in_size`` (per
    neuron) or a ``brainstate.ParamState`` holding either, which
    ``brainstate.transform.grad`` then trains.

    Parameters
    ----------
    in_size : int or tuple of int
        The population's shape.
    R, tau, tau_a, V_th, V_reset, V_rest, beta : float, ArrayLike or brainstate.ParamState
        As in ``spikegrad.neuron.alif`` (defaults 1.0, 5.0, 100.0, 1.0, 0.0, 0.0, 0.1).
    V_initializer : ArrayLike or callable, default 0.0
        The initial ``V``: a value broadcastable to ``in_size``, or ``init(shape)``.
    a_initializer : ArrayLike or callable, default 0.0
        The initial ``a``: a value broadcastable to ``in_size``, or ``init(shape)``.
    {module_keywords}

    {module_call}

    Examples
    --------
    >>> import brainstate
    >>> import jax.numpy as jnp
    >>> from spikegrad.neuron import ALIF
    >>> with brainstate.environ.context(dt=1.0):
    ...     layer = ALIF(4, beta=0.5)
    ...     layer.init_state()
    ...     spikes = layer(jnp.full((6, 4), 2.0))
    >>> print(spikes.shape, layer.a.value.shape)
    (6, 4) (4,)
    """

    model = ALIF_MODEL

    def __init__(
        self,
        in_size,
        R=1.0,
        tau=5.0,
        tau_a=100.0,
        V_th=1.0,
        V_reset=0.0,
        V_rest=0.0,
        beta=0.1,
        spk_fun=None,
        spk_reset="soft",
        V_initializer=0.0,
        a_initializer=0.0,
        name=None,
        *,
        save_every=None,
        w_rec=None,
    ):
        super().__init__(
            in_size,
            params=dict(R=R, tau=tau, tau_a=tau_a, V_th=V_th, V_reset=V_reset, V_rest=V_rest, beta=beta),
            initializers={"V": V_initializer, "a": a_initializer},
            spk_fun=spk_fun,
            spk_reset=spk_reset,
            save_every=save_every,
            name=name,
            w_rec=w_rec,
        )


@filled
class CubaLIF(FusedNeuron):
    """brainpy.state's ``CubaLIF`` (unitless) whose call runs a whole sequence with ``spikegrad.neuron.cuba_lif``.

    The input enters the synaptic current ``g`` as a delta input each step,
    as from a projection. States ``V`` and ``g``, ``brainstate.HiddenState`` objects.
    A parameter may be a scalar, an array broadcastable to ``in_size`` (per
    neuron) or a ``brainstate.ParamState`` holding either, which
    ``brainstate.transform.grad`` then trains.

    Parameters
    ----------
    in_size : int or tuple of int
        The population's shape.
    R, tau, tau_syn, V_th, V_reset, V_rest : float, ArrayLike or brainstate.ParamState
        As in ``spikegrad.neuron.cuba_lif`` (defaults 1.0, 5.0, 5.0, 1.0, 0.0, 0.0).
    V_initializer : ArrayLike or callable, default 0.0
        The initial ``V``: a value broadcastable to ``in_size``, or ``init(shape)``.
    g_initializer : ArrayLike or callable, default 0.0
        The initial ``g``: a value broadcastable to ``in_size``, or ``init(shape)``.
    {module_keywords}

    {module_call}

    Examples
    --------
    >>> import brainstate
    >>> import jax.numpy as jnp
    >>> from spikegrad.neuron import CubaLIF
    >>> with brainstate.environ.context(dt=1.0):
    ...     layer = CubaLIF(4, tau_syn=2.0)
    ...     layer.init_state()
    ...     spikes = layer(jnp.zeros((6, 4)).at[0].set(3.0))
    >>> print(spikes.shape, layer.g.value.shape)
    (6, 4) (4,)
    """

    model = CUBA_LIF_MODEL

    def __init__(
        self,
        in_size,
        R=1.0,
        tau=5.0,
        tau_syn=5.0,
        V_th=1.0,
        V_reset=0.0,
        V_rest=0.0,
        V_initializer=0.0,
        g_initializer=0.0,
        spk_fun=None,
        spk_reset="soft",
        name=None,
        *,
        save_every=None,
        w_rec=None,
    ):
        super().__init__(
            in_size,
            params=dict(R=R, tau=tau, tau_syn=tau_syn, V_th=V_th, V_reset=V_reset, V_rest=V_rest),
            initializers={"V": V_initializer, "g": g_initializer},
            spk_fun=spk_fun,
            spk_reset=spk_reset,
            save_every=save_every,
            name=name,
            w_rec=w_rec,
        )


@filled
class IF(FusedNeuron):
    """brainpy.state's ``IF`` (unitless) whose call runs a whole sequence with ``spikegrad.neuron.if_``.

    State ``V``, a ``brainstate.HiddenState``. A parameter may be a scalar,
    an array broadcastable to ``in_size`` or a ``brainstate.ParamState``, as
    in ``LIF``.

    Parameters
    ----------
    in_size : int or tuple of int
        The population's shape.
    R, tau, V_th : float, ArrayLike or brainstate.ParamState
        As in ``spikegrad.neuron.if_`` (defaults 1.0, 5.0, 1.0).
    V_initializer : ArrayLike or callable, default 0.0
        The initial ``V``: a value broadcastable to ``in_size``, or ``init(shape)``.
    {module_keywords}

    {module_call}

    Examples
    --------
    >>> import brainstate
    >>> import jax.numpy as jnp
    >>> from spikegrad.neuron import IF
    >>> with brainstate.environ.context(dt=1.0):
    ...     layer = IF(3, tau=2.0)
    ...     layer.init_state(batch_size=2)
    ...     spikes = layer(jnp.full((5, 2, 3), 3.0))
    >>> print(spikes.shape, layer.V.value.shape)
    (5, 2, 3) (2, 3)
    """

    model = IF_MODEL

    def __init__(
        self,
        in_size,
        R=1.0,
        tau=5.0,
        V_th=1.0,
        V_initializer=0.0,
        spk_fun=None,
        spk_reset="soft",
        name=None,
        *,
        save_every=None,
        w_rec=None,
    ):
        super().__init__(
            in_size,
            params=dict(R=R, tau=tau, V_th=V_th),
            initializers={"V": V_initializer},
            spk_fun=spk_fun,
            spk_reset=spk_reset,
            save_every=save_every,
            name=name,
            w_rec=w_rec,
        )


@filled
class LIFRef(FusedNeuron):
    """brainpy.state's ``LIFRef`` (unitless) whose call runs a whole sequence with ``spikegrad.neuron.lif_ref``.

    States ``V`` and ``r`` (the time since the last spike, ``inf`` after
    ``init_state``: brainpy.state's ``last_spike_time`` of -1e7 made
    relative), ``brainstate.HiddenState`` objects. A second call continues
    the refractory period where the first left it. A parameter may be a
    scalar, an array broadcastable to ``in_size`` or a
    ``brainstate.ParamState``, as in ``LIF``.

    Parameters
    ----------
    in_size : int or tuple of int
        The population's shape.
    R, tau, tau_ref, V_th, V_reset, V_rest : float, ArrayLike or brainstate.ParamState
        As in ``spikegrad.neuron.lif_ref`` (defaults 1.0, 5.0, 5.0, 1.0, 0.0, 0.0).
    V_initializer : ArrayLike or callable, default 0.0
        The initial ``V``: a value broadcastable to ``in_size``, or ``init(shape)``.
    {module_keywords}

    {module_call}

    Examples
    --------
    >>> import brainstate
    >>> import jax.numpy as jnp
    >>> from spikegrad.neuron import LIFRef
    >>> with brainstate.environ.context(dt=1.0):
    ...     layer = LIFRef(2, tau=2.0, tau_ref=2.0)
    ...     layer.init_state()
    ...     first = layer(jnp.full((3, 2), 3.0))
    ...     second = layer(jnp.full((3, 2), 3.0))  # continues the refractory period
    >>> print(first[:, 0], second[:, 0])
    [1. 0. 1.] [0. 1. 0.]
    """

    model = LIF_REF_MODEL

    def __init__(
        self,
        in_size,
        R=1.0,
        tau=5.0,
        tau_ref=5.0,
        V_th=1.0,
        V_reset=0.0,
        V_rest=0.0,
        V_initializer=0.0,
        spk_fun=None,
        spk_reset="soft",
        name=None,
        *,
        save_every=None,
        w_rec=None,
    ):
        super().__init__(
            in_size,
            params=dict(R=R, tau=tau, tau_ref=tau_ref, V_th=V_th, V_reset=V_reset, V_rest=V_rest),
            initializers={"V": V_initializer},
            spk_fun=spk_fun,
            spk_reset=spk_reset,
            save_every=save_every,
            name=name,
            w_rec=w_rec,
        )


@filled
class Gif(FusedNeuron):
    """brainpy.state's ``Gif`` (unitless) whose call runs a whole sequence with ``spikegrad.neuron.gif``.

    States ``V``, ``I1``, ``I2`` and ``V_th``, ``brainstate.HiddenState``
    objects. A parameter may be a scalar, an array broadcastable to
    ``in_size`` or a ``brainstate.ParamState``, as in ``LIF``.

    Parameters
    ----------
    in_size : int or tuple of int
        The population's shape.
    R, tau, V_rest, V_reset, V_th_inf, V_th_reset : float, ArrayLike or brainstate.ParamState
        As in ``spikegrad.neuron.gif`` (defaults 20.0, 20.0, -70.0, -70.0, -50.0,
        -60.0).
    V_th_initializer : ArrayLike or callable, default -50.0
        The initial ``V_th``: a value broadcastable to ``in_size``, or ``init(shape)``.
    a, b, k1, k2, R1, R2, A1, A2 : float, ArrayLike or brainstate.ParamState
        As in ``spikegrad.neuron.gif`` (defaults 0, 0.01, 0.2, 0.02, 0, 1, 0, 0).
    V_initializer : ArrayLike or callable, default -70.0
        The initial ``V``.
    I1_initializer : ArrayLike or callable, default 0.0
        The initial ``I1``.
    I2_initializer : ArrayLike or callable, default 0.0
        The initial ``I2``.
    {module_keywords}

    {module_call}

    Examples
    --------
    >>> import brainstate
    >>> import jax.numpy as jnp
    >>> from spikegrad.neuron import Gif
    >>> with brainstate.environ.context(dt=1.0):
    ...     layer = Gif(4, A2=0.5)
    ...     layer.init_state()
    ...     spikes = layer(jnp.full((30, 4), 1.5))
    >>> print(spikes.shape, layer.V_th.value.shape)
    (30, 4) (4,)
    """

    model = GIF_MODEL

    def __init__(
        self,
        in_size,
        R=20.0,
        tau=20.0,
        V_rest=-70.0,
        V_reset=-70.0,
        V_th_inf=-50.0,
        V_th_reset=-60.0,
        V_th_initializer=-50.0,
        a=0.0,
        b=0.01,
        k1=0.2,
        k2=0.02,
        R1=0.0,
        R2=1.0,
        A1=0.0,
        A2=0.0,
        V_initializer=-70.0,
        I1_initializer=0.0,
        I2_initializer=0.0,
        spk_fun=None,
        spk_reset="soft",
        name=None,
        *,
        save_every=None,
        w_rec=None,
    ):
        super().__init__(
            in_size,
            params=dict(
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
            initializers={"V": V_initializer, "I1": I1_initializer, "I2": I2_initializer, "V_th": V_th_initializer},
            spk_fun=spk_fun,
            spk_reset=spk_reset,
            save_every=save_every,
            name=name,
            w_rec=w_rec,
        )


@filled
class CobaLIF(FusedNeuron):
    """brainpy.state's ``CobaLIF`` (unitless) whose call runs a whole sequence with ``spikegrad.neuron.coba_lif``.

    The input enters the conductance ``g`` as a delta input each step, as
    from a projection. States ``V`` and ``g``, ``brainstate.HiddenState`` objects.
    A parameter may be a scalar, an array broadcastable to ``in_size`` (per
    neuron) or a ``brainstate.ParamState`` holding either, which
    ``brainstate.transform.grad`` then trains.

    Parameters
    ----------
    in_size : int or tuple of int
        The population's shape.
    R, tau, tau_syn, E, V_th, V_reset, V_rest : float, ArrayLike or brainstate.ParamState
        As in ``spikegrad.neuron.coba_lif`` (defaults 1.0, 5.0, 5.0, 0.0, 1.0, 0.0, 0.0).
    V_initializer : ArrayLike or callable, default 0.0
        The initial ``V``: a value broadcastable to ``in_size``, or ``init(shape)``.
    g_initializer : ArrayLike or callable, default 0.0
        The initial ``g``: a value broadcastable to ``in_size``, or ``init(shape)``.
    {module_keywords}

    {module_call}

    Examples
    --------
    >>> import brainstate
    >>> import jax.numpy as jnp
    >>> from spikegrad.neuron import CobaLIF
    >>> with brainstate.environ.context(dt=1.0):
    ...     layer = CobaLIF(4, E=3.0)
    ...     layer.init_state()
    ...     spikes = layer(jnp.zeros((6, 4)).at[0].set(2.0))
    >>> print(spikes.shape, layer.g.value.shape)
    (6, 4) (4,)
    """

    model = COBA_LIF_MODEL

    def __init__(
        self,
        in_size,
        R=1.0,
        tau=5.0,
        tau_syn=5.0,
        E=0.0,
        V_th=1.0,
        V_reset=0.0,
        V_rest=0.0,
        V_initializer=0.0,
        g_initializer=0.0,
        spk_fun=None,
        spk_reset="soft",
        name=None,
        *,
        save_every=None,
        w_rec=None,
    ):
        super().__init__(
            in_size,
            params=dict(R=R, tau=tau, tau_syn=tau_syn, E=E, V_th=V_th, V_reset=V_reset, V_rest=V_rest),
            initializers={"V": V_initializer, "g": g_initializer},
            spk_fun=spk_fun,
            spk_reset=spk_reset,
            save_every=save_every,
            name=name,
            w_rec=w_rec,
        )


@filled
class ExpIF(FusedNeuron):
    """brainpy.state's ``ExpIF`` (unitless) whose call runs a whole sequence with ``spikegrad.neuron.exp_if``.

    State ``V``, a ``brainstate.HiddenState``.
    A parameter may be a scalar, an array broadcastable to ``in_size`` (per
    neuron) or a ``brainstate.ParamState`` holding either, which
    ``brainstate.transform.grad`` then trains.

    Parameters
    ----------
    in_size : int or tuple of int
        The population's shape.
    R, tau, V_th, V_reset, V_rest, V_T, delta_T : float, ArrayLike or brainstate.ParamState
        As in ``spikegrad.neuron.exp_if`` (defaults 1.0, 10.0, -30.0, -68.0,
        -65.0, -59.9, 3.48).
    V_initializer : ArrayLike or callable, default -65.0
        The initial ``V``: a value broadcastable to ``in_size``, or ``init(shape)``.
    {module_keywords}

    {module_call}

    Examples
    --------
    >>> import brainstate
    >>> import jax.numpy as jnp
    >>> from spikegrad.neuron import ExpIF
    >>> with brainstate.environ.context(dt=0.1):
    ...     layer = ExpIF(3, spk_reset="hard")
    ...     layer.init_state()
    ...     spikes = layer(jnp.full((200, 3), 10.0))
    >>> print(spikes.sum(axis=0), layer.V.value.shape)
    [1. 1. 1.] (3,)
    """

    model = EXP_IF_MODEL

    def __init__(
        self,
        in_size,
        R=1.0,
        tau=10.0,
        V_th=-30.0,
        V_reset=-68.0,
        V_rest=-65.0,
        V_T=-59.9,
        delta_T=3.48,
        V_initializer=-65.0,
        spk_fun=None,
        spk_reset="soft",
        name=None,
        *,
        save_every=None,
        w_rec=None,
    ):
        super().__init__(
            in_size,
            params=dict(R=R, tau=tau, V_th=V_th, V_reset=V_reset, V_rest=V_rest, V_T=V_T, delta_T=delta_T),
            initializers={"V": V_initializer},
            spk_fun=spk_fun,
            spk_reset=spk_reset,
            save_every=save_every,
            name=name,
            w_rec=w_rec,
        )


@filled
class AdExIF(FusedNeuron):
    """brainpy.state's ``AdExIF`` (unitless) whose call runs a whole sequence with ``spikegrad.neuron.adex_if``.

    States ``V`` and ``w``, ``brainstate.HiddenState`` objects.
    A parameter may be a scalar, an array broadcastable to ``in_size`` (per
    neuron) or a ``brainstate.ParamState`` holding either, which
    ``brainstate.transform.grad`` then trains.

    Parameters
    ----------
    in_size : int or tuple of int
        The population's shape.
    R, tau, tau_w, V_th, V_reset, V_rest, V_T, delta_T, a, b : float, ArrayLike or brainstate.ParamState
        As in ``spikegrad.neuron.adex_if`` (defaults 1.0, 10.0, 30.0, -55.0,
        -68.0, -65.0, -59.9, 3.48, 1.0, 1.0).
    V_initializer : ArrayLike or callable, default -65.0
        The initial ``V``: a value broadcastable to ``in_size``, or ``init(shape)``.
    w_initializer : ArrayLike or callable, default 0.0
        The initial ``w``: a value broadcastable to ``in_size``, or ``init(shape)``.
    {module_keywords}

    {module_call}

    Examples
    --------
    >>> import brainstate
    >>> import jax.numpy as jnp
    >>> from spikegrad.neuron import AdExIF
    >>> with brainstate.environ.context(dt=0.1):
    ...     layer = AdExIF(2, spk_reset="hard")
    ...     layer.init_state()
    ...     spikes = layer(jnp.full((300, 2), 20.0))
    >>> print(spikes.sum(axis=0), layer.w.value.shape)
    [4. 4.] (2,)
    """

    model = ADEX_IF_MODEL

    def __init__(
        self,
        in_size,
        R=1.0,
        tau=10.0,
        tau_w=30.0,
        V_th=-55.0,
        V_reset=-68.0,
        V_rest=-65.0,
        V_T=-59.9,
        delta_T=3.48,
        a=1.0,
        b=1.0,
        V_initializer=-65.0,
        w_initializer=0.0,
        spk_fun=None,
        spk_reset="soft",
        name=None,
        *,
        save_every=None,
        w_rec=None,
    ):
        super().__init__(
            in_size,
            params=dict(
                R=R, tau=tau, tau_w=tau_w, V_th=V_th, V_reset=V_reset, V_rest=V_rest, V_T=V_T, delta_T=delta_T, a=a, b=b
            ),
            initializers={"V": V_initializer, "w": w_initializer},
            spk_fun=spk_fun,
            spk_reset=spk_reset,
            save_every=save_every,
            name=name,
            w_rec=w_rec,
        )
