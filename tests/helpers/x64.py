"""float64 in jax for a block of code, across jax versions."""

import jax


def enable_x64():
    """Context manager turning float64 on (``jax.enable_x64`` since jax 0.9,
    ``jax.experimental.enable_x64`` before)."""
    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(True)
    from jax.experimental import enable_x64 as legacy

    return legacy()
