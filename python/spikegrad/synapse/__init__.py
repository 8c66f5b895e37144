"""Event-driven synapses: products of spikes and a dense weight that cost
about the number of nonzero spikes.

``spike_matmul(spikes, weight)`` is ``spikes @ weight``, forward and
backward, with a Rust kernel on CPU that reads only the nonzero spikes.
``SpikeLinear`` is a brainstate module around it, laid out like
``brainstate.nn.Linear``.

``SpikeLinear`` is imported on first use: brainstate is not a dependency of
spikegrad, and importing it resets jax's float64 setting, which ``import
spikegrad`` must leave alone.

Examples
--------
>>> import jax.numpy as jnp
>>> from spikegrad.synapse import spike_matmul
>>> print(spike_matmul(jnp.array([True, False, True]), jnp.ones((3, 2))))
[2. 2.]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._functions import spike_matmul

if TYPE_CHECKING:
    from ._module import SpikeLinear

__all__ = ["spike_matmul", "SpikeLinear"]


def __getattr__(name: str):
    if name == "SpikeLinear":
        try:
            from . import _module
        except ImportError as e:
            raise ImportError(
                f"spikegrad.synapse.SpikeLinear is a brainstate module and needs brainstate ({e}); "
                "install it with `pip install brainstate`. spike_matmul works without it."
            ) from e
        return _module.SpikeLinear
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
