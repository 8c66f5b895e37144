"""Lowerings of the primitives: the Rust FFI targets on CPU, XLA-native jnp
code on every other platform (GPU, TPU), which compute the same function.

The CPU custom calls are lowered so that the SPMD partitioners (GSPMD and
Shardy) run one call per shard with no collective (see ``_partitioned_ffi``);
the jnp lowering is elementwise XLA and partitions natively.

Half-precision inputs are widened to float32, computed, and rounded once, on
every platform.
"""

from __future__ import annotations

import os

import numpy as np
from jax.interpreters import mlir

from . import _ffi  # noqa: F401  (the targets must be registered before use)
from ._formulas import xla_grad
from ._partitioned_ffi import elementwise_ffi_lowering
from ._primitives import spike_p, surrogate_grad_p, xla_spike

_heaviside_ffi = elementwise_ffi_lowering("spikegrad_heaviside")
_grad_ffi = elementwise_ffi_lowering("spikegrad_surrogate_grad")


def _size_knob(name: str) -> int:
    raw = os.environ.get(name, "0")
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"spikegrad: {name} must be an integer element count, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"spikegrad: {name} must be >= 0, got {value}")
    return value


# Opt-in: arrays with fewer elements than these lower to fused XLA code instead
# of the FFI call on CPU. By default (0) every CPU call runs the Rust kernels.
# Inside a compiled loop a custom call costs about 0.12-0.17 us and cannot fuse
# with its neighbours, while a fused XLA op on a few elements costs 0.01-0.03 us
# (benchmarks/bench.py; README "Performance"). The step is bitwise identical
# either way; the gradient then differs from the kernel's only by rounding.
# Read once, at import.
SPIKE_FFI_MIN_SIZE = _size_knob("SPIKEGRAD_SPIKE_FFI_MIN_SIZE")
GRAD_FFI_MIN_SIZE = _size_knob("SPIKEGRAD_GRAD_FFI_MIN_SIZE")


def _spike_cpu(ctx, x, *, surrogate, params):
    if ctx.avals_in[0].size < SPIKE_FFI_MIN_SIZE:
        return _spike_xla_lowering(ctx, x, surrogate=surrogate, params=params)
    return _heaviside_ffi(ctx, x)


def _grad_cpu(ctx, x, t, *, surrogate, params):
    if ctx.avals_in[0].size < GRAD_FFI_MIN_SIZE:
        return _grad_xla_lowering(ctx, x, t, surrogate=surrogate, params=params)
    return _grad_ffi(ctx, x, t, surrogate=surrogate, params=np.asarray(params, dtype=np.float64))


def _spike_xla(x, *, surrogate, params):
    return xla_spike(x)


_spike_xla_lowering = mlir.lower_fun(_spike_xla, multiple_results=False)
_grad_xla_lowering = mlir.lower_fun(xla_grad, multiple_results=False)

mlir.register_lowering(spike_p, _spike_cpu, platform="cpu")
mlir.register_lowering(surrogate_grad_p, _grad_cpu, platform="cpu")
mlir.register_lowering(spike_p, _spike_xla_lowering)
mlir.register_lowering(surrogate_grad_p, _grad_xla_lowering)
