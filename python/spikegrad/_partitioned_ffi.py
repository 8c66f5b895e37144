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

Time-major calls (the fused neurons: sequences ``[T, *shape]``, states
``[*shape]``) are split over the neurons, never over time, the same way: each
sequence is passed as a ``[*shape, T]`` view whose layout keeps the memory
time-major (the transposes on either side are bitcasts; a sequence of
another length, such as the checkpoints kept every ``stride`` steps, likewise
with a time factor of its own), each state as ``[*shape, 1]``,
``num_batch_dims`` is the rank of ``shape``, and the Shardy rule marks the
time factors as needing replication. The kernels take the step count from
the element counts, so they read both views alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
from jax.interpreters import mlir
from jaxlib.mlir import ir
from jaxlib.mlir.dialects import sdy, stablehlo

__all__ = ["elementwise_ffi_lowering", "time_major_ffi_lowering", "SEQUENCE", "STATE"]


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


#: Roles of a time-major call's operands and results.
SEQUENCE, STATE = "sequence", "state"


def _transpose(value: ir.Value, permutation: Sequence[int]) -> ir.Value:
    return stablehlo.transpose(value, ir.DenseI64ArrayAttr.get(list(permutation)))


def _time_major_rule(num_operands: int, views, shape: Sequence[int], steps: int):
    """Neuron dimension ``i`` is factor ``i`` everywhere; the time dimension of
    the sequences of ``steps`` steps (the views with a layout) is factor
    ``rank``; a sequence of another length (checkpoints, one per ``stride``
    steps) has a time factor of its own per length, and each other trailing
    size (1 for states, 0 for placeholders) one of its own too. None but the
    neuron factors may be sharded."""
    rank = len(shape)
    factor_sizes = [*shape, steps]
    own = {}  # (is a time axis, size) -> factor index
    factors = []
    for vshape, layout in views:
        if layout and vshape[-1] == steps:
            factors.append(rank)
            continue
        key = (bool(layout), vshape[-1])
        if key not in own:
            own[key] = len(factor_sizes)
            factor_sizes.append(vshape[-1])
        factors.append(own[key])
    neurons = [sdy.DimMappingAttr.get(factor_indices=[i]) for i in range(rank)]
    maps = [
        sdy.TensorMappingAttr.get(dim_mappings=[*neurons, sdy.DimMappingAttr.get(factor_indices=[f])]) for f in factors
    ]
    return sdy.OpShardingRuleAttr.get(
        factor_sizes=factor_sizes,
        operand_mappings=maps[:num_operands],
        result_mappings=maps[num_operands:],
        need_replication_factors=list(range(rank, len(factor_sizes))),
        is_custom=True,
    )


def _view_aval(aval, vshape: Sequence[int], layout):
    """``aval`` with the view's shape, and its sharding (explicit axes) moved
    along: time last for a sequence (a view with a layout), an unsharded
    trailing dimension for a state, none at all for a placeholder."""
    sharding = getattr(aval, "sharding", None)
    spec = getattr(sharding, "spec", None)
    if spec is None:
        return aval.update(shape=tuple(vshape))
    spec = (*spec, *(None,) * (aval.ndim - len(spec)))
    if layout:
        spec = (*spec[1:], spec[0])
    elif tuple(aval.shape) == tuple(vshape[:-1]):
        spec = (*spec, None)
    else:
        spec = (None,) * len(vshape)
    return aval.update(shape=tuple(vshape), sharding=sharding.update(spec=jax.sharding.PartitionSpec(*spec)))


def time_major_ffi_lowering(
    target: str, operand_roles: Sequence[str], result_roles: Sequence[str], aliases: dict[int, int] | None = None
) -> Callable:
    """A lowering rule calling the time-major FFI ``target`` per shard of neurons.

    ``operand_roles``/``result_roles`` say which are sequences ``[T, *shape]``
    and which states ``[*shape]``; a sequence may also be a ``(0,)``
    placeholder (an absent array), or have a time length of its own (the
    checkpoints ``[ceil(T/stride), *shape]``: their own time factor and view).
    The first operand must be a sequence of ``T`` steps and some operand a
    state. ``aliases`` maps operands to the results that reuse their buffers
    (same shape and role). Keyword parameters go to the target as attributes.
    """
    unpartitioned = jax.ffi.ffi_lowering(target, operand_output_aliases=aliases)
    first_state = list(operand_roles).index(STATE)

    def rule(ctx, *operands, **attributes):
        shape = tuple(ctx.avals_in[first_state].shape)
        steps = ctx.avals_in[0].shape[0]
        dims = (*shape, steps)
        if not shape or 0 in dims or not all(isinstance(d, int) for d in dims) or _single_device(ctx):
            return unpartitioned(ctx, *operands, **attributes)
        rank = len(shape)
        time_major = (*range(rank - 1, -1, -1), rank)  # minor-to-major of a [*shape, T] view

        def view(aval, role):
            """The view's shape and layout; None: the default layout."""
            if role == STATE:
                return (*shape, 1), None
            if tuple(aval.shape) == (0,):
                return (*shape, 0), None
            return (*shape, aval.shape[0]), time_major

        ins = [view(a, r) for a, r in zip(ctx.avals_in, operand_roles)]
        outs = [view(a, r) for a, r in zip(ctx.avals_out, result_roles)]
        to_view = (*range(1, rank + 1), 0)
        args = [
            _transpose(op, to_view) if layout else _reshape(op, vshape) for op, (vshape, layout) in zip(operands, ins)
        ]
        call = jax.ffi.ffi_lowering(
            target,
            operand_output_aliases=aliases,
            operand_layouts=[layout for _, layout in ins],
            result_layouts=[layout for _, layout in outs],
            extra_attributes={
                "mhlo.frontend_attributes": ir.DictAttr.get({"num_batch_dims": ir.StringAttr.get(str(rank))}),
                "sdy.sharding_rule": _time_major_rule(len(operands), [*ins, *outs], shape, steps),
            },
        )
        view_ctx = ctx.replace(
            avals_in=[_view_aval(a, *view) for a, view in zip(ctx.avals_in, ins)],
            avals_out=[_view_aval(a, *view) for a, view in zip(ctx.avals_out, outs)],
        )
        results = call(view_ctx, *args, **attributes)
        from_view = (rank, *range(rank))
        return [
            _transpose(res, from_view) if layout else _reshape(res, aval.shape)
            for res, aval, (_, layout) in zip(results, ctx.avals_out, outs)
        ]

    return rule
