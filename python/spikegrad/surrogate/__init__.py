"""Surrogate-gradient spike functions with the names of ``braintools.surrogate``:
``import spikegrad.surrogate as surrogate`` replaces
``import braintools.surrogate as surrogate``."""

from ._base import NativeSurrogate, Surrogate
from ._impl import *  # noqa: F401,F403
from ._impl import __all__ as _surrogates

__all__ = ["Surrogate", "NativeSurrogate", *_surrogates]
