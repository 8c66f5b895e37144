"""``SpikeLinear``: ``brainstate.nn.Linear`` with the event-driven product."""

from __future__ import annotations

import brainstate
from brainstate.nn import init

from ._functions import spike_matmul

__all__ = ["SpikeLinear"]

#: brainstate.nn.Linear's default weight initializer (one shared instance, as there).
_KAIMING_NORMAL = init.KaimingNormal()


class SpikeLinear(brainstate.nn.Module):
    """A linear layer whose input is spikes: ``y = spike_matmul(x, W) + b``.

    A drop-in for ``brainstate.nn.Linear`` where the input is spikes (bool or
    float, ``[..., in_size[-1]]``): the same constructor, the same parameter
    layout (``self.weight``, a ``ParamState`` holding ``{"weight": [in, out]}``
    and, unless ``b_init`` is None, ``"bias": [out]``), created by the same
    initializer calls in the same order, so the same random seed gives the
    same parameters and the same parameters the same outputs and gradients.
    Only the product differs: it reads only the nonzero spikes
    (``spike_matmul``). Plain arrays only (no brainunit quantities).

    Parameters
    ----------
    in_size : int or tuple of int
        The input size; its last entry is ``n_in``.
    out_size : int or tuple of int
        The output size; its last entry is ``n_out``, the others equal
        ``in_size``'s.
    w_init : callable or ArrayLike, default ``KaimingNormal()``
        The weight's initializer or value, ``[n_in, n_out]``.
    b_init : callable, ArrayLike or None, default None
        The bias's initializer or value, ``[n_out]``; None: no bias
        (``brainstate.nn.Linear``'s default is ``ZeroInit()``).
    w_mask : ArrayLike, callable or None, optional
        A mask multiplied into the weight at every call.
    name : str, optional
        The module's name.
    param_type : type, default ``brainstate.ParamState``
        The state class of the parameters.

    Raises
    ------
    ValueError
        For ``in_size`` and ``out_size`` whose leading entries differ, or (at
        call time) spikes whose last axis is not ``n_in``.
    TypeError
        At call time, for integer or complex spikes, or a weight that is not
        float16/bfloat16/float32/float64.

    Examples
    --------
    >>> import brainstate, jax.numpy as jnp
    >>> from spikegrad.synapse import SpikeLinear
    >>> layer = SpikeLinear(4, 3, b_init=brainstate.nn.init.ZeroInit())
    >>> print(layer(jnp.array([[1.0, 0.0, 0.0, 1.0]])).shape, sorted(layer.weight.value))
    (1, 3) ['bias', 'weight']
    """

    def __init__(
        self,
        in_size,
        out_size,
        w_init=_KAIMING_NORMAL,
        b_init=None,
        w_mask=None,
        name=None,
        param_type=brainstate.ParamState,
    ):
        super().__init__(name=name)
        self.in_size = in_size
        self.out_size = out_size
        if tuple(self.in_size[:-1]) != tuple(self.out_size[:-1]):
            raise ValueError(
                f"SpikeLinear: the leading entries of in_size {self.in_size} and out_size {self.out_size} must be equal"
            )
        self.w_mask = init.param(w_mask, self.in_size + self.out_size)
        # The same calls in the same order as brainstate.nn.Linear: the same
        # random keys give the same parameters.
        params = dict(weight=init.param(w_init, (self.in_size[-1], self.out_size[-1]), allow_none=False))
        if b_init is not None:
            params["bias"] = init.param(b_init, self.out_size[-1], allow_none=False)
        self.weight = param_type(params)

    def update(self, x):
        """``spike_matmul(x, weight) (+ bias)`` for spikes ``x`` ``[..., n_in]``."""
        params = self.weight.value
        weight = params["weight"]
        if self.w_mask is not None:
            weight = weight * self.w_mask
        y = spike_matmul(x, weight)
        if "bias" in params:
            y = y + params["bias"]
        return y
