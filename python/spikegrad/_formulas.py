"""Native name -> jnp formula of g'(x), for every native surrogate.

The native kernels (Rust, CPU) and these jnp formulas compute the same
function. The formulas serve the platforms without the FFI targets (GPU, TPU),
the path for traced parameters, ``Surrogate.surrogate_grad``, and the
derivative of g'(x) (second derivatives under braintools 0.4's rules). Each
``NativeSurrogate`` subclass adds its own when it is defined. (The Rust name
table of kernels, ``src/registry.rs``, is "the registry"; this is only its
XLA-native counterpart.)
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from . import _native

Formula = Callable[..., jax.Array]

_FORMULAS: dict[str, Formula] = {}


def register_formula(name: str, formula: Formula) -> None:
    _FORMULAS[name] = formula


def formula(name: str) -> Formula:
    try:
        return _FORMULAS[name]
    except KeyError:
        raise ValueError(f"spikegrad: unknown surrogate {name!r}; known: {sorted(_FORMULAS)}") from None


def _compute_dtype(dtype):
    return jnp.float32 if jnp.dtype(dtype).itemsize < 4 else dtype


def check_params(surrogate, params) -> None:
    """The kernel's parameter check, also for XLA code: a parameter made invalid
    after construction (``f.sigma = -1``) is a ValueError on every path, never
    a silent wrong answer."""
    _native.check_params(surrogate, [float(p) for p in params])


def xla_grad(x, t, *, surrogate, params, lowering=None):
    """``t * g'(x)`` in jnp, widened like the native kernels."""
    check_params(surrogate, params)
    ct = _compute_dtype(x.dtype)
    g = formula(surrogate)(x.astype(ct), *params)
    return (t.astype(ct) * g).astype(x.dtype)
