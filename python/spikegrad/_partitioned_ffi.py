"""Lowering of an elementwise FFI call that the SPMD partitioners split into
one custom call per shard, with no collective.

A plain custom call is opaque to XLA's partitioners: given a sharded operand
they all-gather it and run the call on the whole array on every device. Two
things make each device run the call on its own shard instead:

* The target is registered as *batch partitionable*
  (``jax.ffi.register_ffi_target_as_batch_partitionable``, done in ``_ffi``).
  The SPMD partitioner then splits the leading ``num_batch_dims`` dimensions
  of such a call (a frontend attribute) like a batch, and keeps the remaining
  dimensions whole. It needs at least one dimension that is not a batch
  dimension, so the call is lowered on a view of the operands with one extra
  trailing unit dimension and ``num_batch_dims`` = the operands' rank: every
  real dimension may be sharded. The reshapes on either side are bitcasts.
* A Shardy sharding rule (``sdy.sharding_rule``) that maps dimension ``i`` of
  every operand and of the result to the same factor ``i``: Shardy propagates
  shardings through the call like through any elementwise op instead of
  stopping there. GSPMD ignores the attribute.

The operands and the result must all have the result's shape (true of both
spikegrad primitives). Shapes with symbolic dimensions (``jax.export`` shape
polymorphism) and programs for a single device get the plain, unpartitioned
call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
from jax.interpreters import mlir
from jaxlib.mlir import ir
from jaxlib.mlir.dialects import sdy, stablehlo

__all__ = ["elementwise_ffi_lowering"]


def _reshape(value: ir.Value, shape: Sequence[int]) -> ir.Value:
    element_type = ir.RankedTensorType(value.type).element_type
    return stablehlo.reshape(ir.RankedTensorType.get(list(shape), element_type), value)


def _elementwise_sharding_rule(num_operands: int, shape: Sequence[int]) -> ir.Attribute:
    """Dimension ``i`` of each operand and of the result is factor ``i``."""
    mapping = sdy.TensorMappingAttr.get(
        dim_mappings=[sdy.DimMappingAttr.get(factor_indices=[i]) for i in range(len(shape))]
    )
    return sdy.OpShardingRuleAttr.get(
        factor_sizes=list(shape),
        operand_mappings=[mapping] * num_operands,
        result_mappings=[mapping],
        is_custom=True,
    )


def _partitioning_attributes(num_operands: int, rank: int, view_shape: Sequence[int]):
    return {
        "mhlo.frontend_attributes": ir.DictAttr.get({"num_batch_dims": ir.StringAttr.get(str(rank))}),
        "sdy.sharding_rule": _elementwise_sharding_rule(num_operands, view_shape),
    }


def _single_device(ctx) -> bool:
    """A program for one device is never partitioned: the plain call avoids the
    reshapes, which XLA turns into a copy for some shapes with unit dimensions."""
    axis_context = ctx.module_context.axis_context
    return isinstance(axis_context, mlir.ShardingContext) and axis_context.num_devices == 1


def elementwise_ffi_lowering(target: str) -> Callable:
    """A lowering rule calling the elementwise FFI ``target`` per shard.

    Keyword parameters of the primitive are passed to the target as FFI
    attributes, as with ``jax.ffi.ffi_lowering``.
    """
    unpartitioned = jax.ffi.ffi_lowering(target)

    def rule(ctx, *operands, **attributes):
        (aval,) = ctx.avals_out
        shape = tuple(aval.shape)
        if any(a.shape != aval.shape for a in ctx.avals_in):
            raise TypeError(
                f"spikegrad: {target} is elementwise; operand shapes "
                f"{[a.shape for a in ctx.avals_in]} differ from the result's {shape}"
            )
        if not all(isinstance(d, int) for d in shape) or _single_device(ctx):
            return unpartitioned(ctx, *operands, **attributes)
        view = aval.update(shape=(*shape, 1))
        call = jax.ffi.ffi_lowering(
            target,
            extra_attributes=_partitioning_attributes(len(operands), len(shape), view.shape),
        )
        view_ctx = ctx.replace(avals_in=[view] * len(operands), avals_out=[view])
        (result,) = call(view_ctx, *(_reshape(op, view.shape) for op in operands), **attributes)
        return [_reshape(result, shape)]

    return rule
