"""Lowerings of the synapse primitives.

On CPU, the lowering setting (``spikegrad.lowering``, the primitives' static
``lowering`` parameter) chooses: ``xla`` (and ``pallas``, which has no
synapse kernel) gives XLA's dot; ``native`` the Rust kernels as the FFI custom
calls ``spikegrad_spike_matmul`` / ``spikegrad_spike_matmul_wgrad``; ``auto``
the kernels, except where the product is so small that the custom call's
fixed cost outweighs the work (``AUTO_MIN_WORK``). Every other platform
lowers to XLA's dot.

Under ``jit`` with operands sharded over several devices, the kernels run
per shard (``_sharding``): spikes split over the batch and a weight split
over ``n_out`` stay split, with no collective for the product and one
all-reduce of ``[n_in, n_out]`` blocks for a weight gradient over a split
batch; a split ``n_in`` (the contraction) is gathered. XLA's dot, where it
is chosen, is partitioned by XLA itself.
"""

from __future__ import annotations

import math

import jax
from jax.interpreters import mlir

from .. import _ffi  # noqa: F401  (the targets must be registered before use)
from ._primitives import dense_matmul, dense_wgrad, spike_matmul_p, spike_matmul_wgrad_p
from ._sharding import lower_matmul, lower_wgrad, per_block

__all__ = ["AUTO_MIN_WORK", "use_kernel"]

#: ``auto`` runs the kernel when the dense product has at least this many
#: multiply-adds (per call); below, XLA's dot (docs/perf.md, "Event-driven
#: synapse").
AUTO_MIN_WORK = 1 << 12


def use_kernel(lowering: str, work) -> bool:
    """Whether a CPU call with the setting ``lowering`` and ``work`` dense
    multiply-adds (an int, or symbolic under shape polymorphism: large) runs
    the Rust kernel."""
    if lowering in ("xla", "pallas"):
        return False
    if lowering == "native" or not isinstance(work, int):
        return True
    return work >= AUTO_MIN_WORK


def _work(*shapes):
    """Dense multiply-adds: the product of every distinct dimension."""
    try:
        return math.prod(int(d) for d in shapes[0][:-1]) * int(shapes[0][-1]) * int(shapes[1][-1])
    except TypeError:  # symbolic dimensions
        return None


_matmul_xla = mlir.lower_fun(lambda s, w, *, lowering: dense_matmul(s, w), multiple_results=False)
_wgrad_xla = mlir.lower_fun(lambda s, c, *, lowering: dense_wgrad(s, c), multiple_results=False)
_matmul_ffi = jax.ffi.ffi_lowering("spikegrad_spike_matmul")
_wgrad_ffi = jax.ffi.ffi_lowering("spikegrad_spike_matmul_wgrad")


# The kernels on one device's blocks when XLA partitions the program: the
# primitives bound again, with the kernel chosen; their context then is one
# device's, so they lower to the custom calls.
def _matmul_block(s, w):
    return spike_matmul_p.bind(s, w, lowering="native")


def _wgrad_block(s, c):
    return spike_matmul_wgrad_p.bind(s, c, lowering="native")


def _matmul_cpu(ctx, s, w, *, lowering):
    a_s, a_w = ctx.avals_in
    if use_kernel(lowering, _work(a_s.shape, a_w.shape)):
        if per_block(ctx):
            return lower_matmul(ctx, _matmul_block, s, w)
        return _matmul_ffi(ctx, s, w)
    return _matmul_xla(ctx, s, w, lowering=lowering)


def _wgrad_cpu(ctx, s, c, *, lowering):
    a_s, a_c = ctx.avals_in
    if use_kernel(lowering, _work(a_s.shape, a_c.shape)):
        if per_block(ctx):
            return lower_wgrad(ctx, _wgrad_block, s, c)
        return _wgrad_ffi(ctx, s, c)
    return _wgrad_xla(ctx, s, c, lowering=lowering)


mlir.register_lowering(spike_matmul_p, _matmul_cpu, platform="cpu")
mlir.register_lowering(spike_matmul_wgrad_p, _wgrad_cpu, platform="cpu")
mlir.register_lowering(spike_matmul_p, _matmul_xla)
mlir.register_lowering(spike_matmul_wgrad_p, _wgrad_xla)
