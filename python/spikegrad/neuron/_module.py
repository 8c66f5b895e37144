"""``LIF``: a brainstate module holding the potential, stepping whole sequences
with the fused ``lif`` op."""

from __future__ import annotations

import brainstate
import jax.numpy as jnp

from ._lif import lif

__all__ = ["LIF"]


class LIF(brainstate.nn.Module):
    """brainpy.state's LIF neuron (unitless) whose call runs a whole sequence.

    ``V`` is a ``brainstate.HiddenState``. ``init_state(batch_size)`` sets it to
    ``v0``; calling the module with ``x`` ``[T, *batch, *in_size]`` returns the
    spikes ``[T, ...]`` and leaves ``V`` at ``V_T``. ``dt`` comes from
    ``brainstate.environ``, as for brainpy.state neurons. The parameters are
    those of :func:`spikegrad.neuron.lif`.
    """

    def __init__(
        self,
        in_size,
        R=1.0,
        tau=5.0,
        V_th=1.0,
        V_reset=0.0,
        V_rest=0.0,
        v0=0.0,
        spk_fun=None,
        spk_reset="soft",
        name=None,
    ):
        super().__init__(name=name)
        if spk_reset not in ("soft", "hard"):
            raise ValueError(f"spikegrad.neuron.LIF: spk_reset must be 'soft' or 'hard', got {spk_reset!r}")
        self.in_size = in_size
        self.out_size = in_size
        self.R, self.tau, self.V_th, self.V_reset, self.V_rest = R, tau, V_th, V_reset, V_rest
        self.v0 = v0
        self.spk_fun = spk_fun
        self.spk_reset = spk_reset

    def _initial(self, batch_size):
        shape = tuple(self.in_size) if batch_size is None else (batch_size, *self.in_size)
        return jnp.broadcast_to(jnp.asarray(self.v0, brainstate.environ.dftype()), shape)

    def init_state(self, batch_size=None, **kwargs):
        self.V = brainstate.HiddenState(self._initial(batch_size))

    def reset_state(self, batch_size=None, **kwargs):
        self.V.value = self._initial(batch_size)

    def update(self, x):
        spikes, v = lif(
            x,
            self.V.value,
            dt=brainstate.environ.get_dt(),
            tau=self.tau,
            R=self.R,
            V_th=self.V_th,
            V_reset=self.V_reset,
            V_rest=self.V_rest,
            spk_fun=self.spk_fun,
            spk_reset=self.spk_reset,
            return_v=True,
        )
        if v.shape[0]:
            self.V.value = v[-1].astype(self.V.value.dtype)
        return spikes
