"""Lowerings of the primitives: the Rust FFI targets on CPU, XLA-native jnp
code on every other platform (GPU, TPU), which compute the same function.

Half-precision inputs are widened to float32, computed, and rounded once, on
every platform.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.interpreters import mlir

from . import _ffi  # noqa: F401  (the targets must be registered before use)
from ._primitives import spike_p, surrogate_grad_p, xla_spike
from ._registry import formula

import jax

_heaviside_ffi = jax.ffi.ffi_lowering("spikegrad_heaviside")
_grad_ffi = jax.ffi.ffi_lowering("spikegrad_surrogate_grad")


# Arrays smaller than these lower to XLA code instead of the FFI call on CPU:
# a custom call costs about 0.12-0.17 us per call inside a compiled loop and
# cannot fuse with its neighbours, while a fused XLA op on a few elements costs
# 0.01-0.03 us (measured with benchmarks/bench.py; see docs/perf.md). The step is
# exact either way (bitwise identical); the gradient differs only by rounding.
SPIKE_FFI_MIN_SIZE = 1 << 16
GRAD_FFI_MIN_SIZE = 128


def _spike_cpu(ctx, x, *, surrogate, params):
    if ctx.avals_in[0].size < SPIKE_FFI_MIN_SIZE:
        return _spike_xla_lowering(ctx, x, surrogate=surrogate, params=params)
    return _heaviside_ffi(ctx, x)


def _grad_cpu(ctx, x, t, *, surrogate, params):
    if ctx.avals_in[0].size < GRAD_FFI_MIN_SIZE:
        return _grad_xla_lowering(ctx, x, t, surrogate=surrogate, params=params)
    return _grad_ffi(
        ctx, x, t, surrogate=surrogate, params=np.asarray(params, dtype=np.float64)
    )


def _compute_dtype(dtype):
    return jnp.float32 if jnp.dtype(dtype).itemsize < 4 else dtype


def xla_grad(x, t, *, surrogate, params):
    """``t * g'(x)`` in jnp, widened like the native kernels."""
    ct = _compute_dtype(x.dtype)
    g = formula(surrogate)(x.astype(ct), *params)
    return (t.astype(ct) * g).astype(x.dtype)


def _spike_xla(x, *, surrogate, params):
    return xla_spike(x)


_spike_xla_lowering = mlir.lower_fun(_spike_xla, multiple_results=False)
_grad_xla_lowering = mlir.lower_fun(xla_grad, multiple_results=False)

mlir.register_lowering(spike_p, _spike_cpu, platform="cpu")
mlir.register_lowering(surrogate_grad_p, _grad_cpu, platform="cpu")
mlir.register_lowering(spike_p, _spike_xla_lowering)
mlir.register_lowering(surrogate_grad_p, _grad_xla_lowering)
