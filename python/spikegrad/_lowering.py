"""Lowerings of the primitives: on CPU the Rust FFI targets or XLA-native jnp
code, as the lowering setting chooses (``_policy``); XLA-native jnp code on
every other platform (GPU, TPU). Both compute the same function: the step
bit for bit, the gradient within the documented accuracy budgets.

The CPU custom calls are lowered so that the SPMD partitioners (GSPMD and
Shardy) run one call per shard with no collective (see ``_partitioned_ffi``);
the jnp lowering is elementwise XLA and partitions natively.

Half-precision inputs are widened to float32, computed, and rounded once, on
every platform.
"""

from __future__ import annotations

import numpy as np
from jax.interpreters import mlir

from . import _ffi  # noqa: F401  (the targets must be registered before use)
from ._formulas import check_params, xla_grad
from ._partitioned_ffi import elementwise_ffi_lowering
from ._policy import resolve
from ._primitives import spike_p, surrogate_grad_p, xla_spike

_heaviside_ffi = elementwise_ffi_lowering("spikegrad_heaviside")
_grad_ffi = elementwise_ffi_lowering("spikegrad_surrogate_grad")


def _spike_cpu(ctx, x, *, surrogate, params, lowering):
    if resolve(lowering, "spike", surrogate, ctx.avals_in[0].size) == "xla":
        return _spike_xla_lowering(ctx, x, surrogate=surrogate, params=params, lowering=lowering)
    return _heaviside_ffi(ctx, x)


def _grad_cpu(ctx, x, t, *, surrogate, params, lowering):
    if resolve(lowering, "grad", surrogate, ctx.avals_in[0].size, ctx.avals_in[0].dtype) == "xla":
        return _grad_xla_lowering(ctx, x, t, surrogate=surrogate, params=params, lowering=lowering)
    return _grad_ffi(ctx, x, t, surrogate=surrogate, params=np.asarray(params, dtype=np.float64))


def _spike_xla(x, *, surrogate, params, lowering=None):
    check_params(surrogate, params)
    return xla_spike(x)


_spike_xla_lowering = mlir.lower_fun(_spike_xla, multiple_results=False)
_grad_xla_lowering = mlir.lower_fun(xla_grad, multiple_results=False)

mlir.register_lowering(spike_p, _spike_cpu, platform="cpu")
mlir.register_lowering(surrogate_grad_p, _grad_cpu, platform="cpu")
mlir.register_lowering(spike_p, _spike_xla_lowering)
mlir.register_lowering(surrogate_grad_p, _grad_xla_lowering)
