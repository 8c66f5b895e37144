"""Fused multi-step spiking neurons: the whole time loop of a population in one
op, forward and backward (BPTT). ``lif``, ``alif`` and ``cuba_lif`` are
brainpy.state's LIF, ALIF and CubaLIF over a time-major sequence; ``LIF``,
``ALIF`` and ``CubaLIF`` are brainstate modules around them.

The modules are imported on first use: brainstate is not a dependency of
spikegrad, and importing it resets jax's float64 setting, which ``import
spikegrad`` must leave alone.

Examples
--------
>>> import jax
>>> import jax.numpy as jnp
>>> from spikegrad.neuron import lif
>>> x = jnp.full((10, 3), 1.5)  # T=10 steps, 3 neurons
>>> print(lif(x, dt=1.0, tau=2.0).sum(axis=0))  # spikes per neuron
[4. 4. 4.]
>>> print(jax.grad(lambda x: lif(x, dt=1.0, tau=2.0).sum())(x).shape)  # BPTT
(10, 3)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._functions import adex_if, alif, coba_lif, cuba_lif, exp_if, gif, if_, lif, lif_ref
from ._fused import DEFAULT_SAVE_EVERY

if TYPE_CHECKING:
    from ._module import ALIF, IF, LIF, AdExIF, CobaLIF, CubaLIF, ExpIF, Gif, LIFRef

__all__ = ["lif", "alif", "cuba_lif", "LIF", "ALIF", "CubaLIF", "DEFAULT_SAVE_EVERY"]
__all__ += ["if_", "lif_ref", "gif", "IF", "LIFRef", "Gif"]
__all__ += ["coba_lif", "exp_if", "adex_if", "CobaLIF", "ExpIF", "AdExIF"]

_MODULES = ("LIF", "ALIF", "CubaLIF")
_MODULES += ("IF", "LIFRef", "Gif")
_MODULES += ("CobaLIF", "ExpIF", "AdExIF")


def __getattr__(name: str):
    if name in _MODULES:
        try:
            from . import _module
        except ImportError as e:
            raise ImportError(
                f"spikegrad.neuron.{name} is a brainstate module and needs brainstate ({e}); "
                "install it with `pip install brainstate`. The functions lif, alif and cuba_lif work without it."
            ) from e
        return getattr(_module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
