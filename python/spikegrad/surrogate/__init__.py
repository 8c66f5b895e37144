"""Surrogate-gradient spike functions with the names of ``braintools.surrogate``:
``import spikegrad.surrogate as surrogate`` replaces
``import braintools.surrogate as surrogate``."""

from ._base import NativeSurrogate, Surrogate
from ._impl import GaussianGrad, MultiGaussianGrad, gaussian_grad, multi_gaussian_grad

__all__ = [
    "Surrogate",
    "NativeSurrogate",
    "GaussianGrad",
    "gaussian_grad",
    "MultiGaussianGrad",
    "multi_gaussian_grad",
]
