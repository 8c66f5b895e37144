"""Fused multi-step spiking neurons: the whole time loop of a population in one
op, forward and backward (BPTT). ``lif`` is brainpy.state's LIF over a
time-major sequence; ``LIF`` is a brainstate module around it.

``LIF`` is imported on first use: brainstate is not a dependency of spikegrad,
and importing it resets jax's float64 setting, which ``import spikegrad`` must
leave alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lif import lif

if TYPE_CHECKING:
    from ._module import LIF

__all__ = ["lif", "LIF"]


def __getattr__(name: str):
    if name == "LIF":
        try:
            from ._module import LIF
        except ImportError as e:
            raise ImportError(
                f"spikegrad.neuron.LIF is a brainstate module and needs brainstate ({e}); "
                "install it with `pip install brainstate`. spikegrad.neuron.lif works without it."
            ) from e
        return LIF
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
