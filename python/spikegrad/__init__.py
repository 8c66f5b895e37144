"""spikegrad: surrogate-gradient spike functions for JAX.

The forward pass is the exact Heaviside step; the derivative is a smooth
surrogate. On CPU both run as Rust kernels behind XLA FFI custom calls, with
forward- and reverse-mode autodiff, vmap, jit and the rest. A drop-in for
``braintools.surrogate``::

    import spikegrad.surrogate as surrogate
    spike = surrogate.MultiGaussianGrad()
"""

from . import (
    _ffi,  # noqa: F401  (registers the FFI targets)
    neuron,
    surrogate,
)
from ._primitives import spike, surrogate_grad_apply
from .surrogate import MultiGaussianGrad, Surrogate, multi_gaussian_grad

__version__ = "0.1.0"

__all__ = [
    "MultiGaussianGrad",
    "Surrogate",
    "multi_gaussian_grad",
    "neuron",
    "spike",
    "surrogate",
    "surrogate_grad_apply",
]
