"""Fused multi-step spiking neurons: the whole time loop of a population in one
op, forward and backward (BPTT). ``lif`` is brainpy.state's LIF over a
time-major sequence; ``LIF`` is a brainstate module around it."""

from ._lif import lif
from ._module import LIF

__all__ = ["lif", "LIF"]
