"""spikegrad: surrogate-gradient spike functions for JAX.

The forward pass is the exact Heaviside step; the derivative is a smooth
surrogate. On CPU both run as Rust kernels behind XLA FFI custom calls, with
forward- and reverse-mode autodiff, vmap, jit and the rest. A drop-in for
``braintools.surrogate``::

    import spikegrad.surrogate as surrogate
    spike = surrogate.MultiGaussianGrad()

Where braintools 0.3 and 0.4 differ, spikegrad follows the installed release
(``braintools_rules``, ``set_braintools_rules``; docs/braintools_versions.md).
On CPU each op runs either the Rust kernel or fusable XLA code, whichever is
faster in context; ``set_lowering`` / ``lowering`` choose explicitly.
"""

from . import (
    _ffi,  # noqa: F401  (registers the FFI targets)
    _native,
    neuron,
    surrogate,
    synapse,
)
from ._policy import get_lowering, lowering, set_lowering
from ._primitives import spike, surrogate_grad_apply
from ._rules import braintools_rules, braintools_rules_in_force, set_braintools_rules
from .surrogate import MultiGaussianGrad, Surrogate, multi_gaussian_grad

# Cargo.toml holds the one version number; the extension is compiled with it.
__version__: str = _native.__version__

__all__ = [
    "MultiGaussianGrad",
    "Surrogate",
    "braintools_rules",
    "braintools_rules_in_force",
    "get_lowering",
    "lowering",
    "multi_gaussian_grad",
    "neuron",
    "set_braintools_rules",
    "set_lowering",
    "spike",
    "surrogate",
    "surrogate_grad_apply",
    "synapse",
]
