"""Native name -> jnp formula of g'(x), for every native surrogate.

The native kernels (Rust, CPU) and these jnp formulas compute the same
function. The formulas serve the platforms without the FFI targets (GPU, TPU),
the path for traced parameters, and ``Surrogate.surrogate_grad``. Each
``NativeSurrogate`` subclass adds its own when it is defined. (The Rust name
table of kernels, ``src/registry.rs``, is "the registry"; this is only its
XLA-native counterpart.)
"""

from __future__ import annotations

from collections.abc import Callable

import jax

Formula = Callable[..., jax.Array]

_FORMULAS: dict[str, Formula] = {}


def register_formula(name: str, formula: Formula) -> None:
    _FORMULAS[name] = formula


def formula(name: str) -> Formula:
    try:
        return _FORMULAS[name]
    except KeyError:
        raise ValueError(f"spikegrad: unknown surrogate {name!r}; known: {sorted(_FORMULAS)}") from None
