"""The fused neurons' Pallas kernels run per shard of neurons under ``jit``.

A ``pallas_call`` is built for its whole operands: the neuron count is part
of the kernel's grid and masks. XLA's partitioners cannot split such a call,
so given operands sharded over the neurons they would gather them and run the
whole kernel on every device. Here a pass is wrapped in jax's
``custom_partitioning`` instead (``lower``): when XLA partitions the program
it asks the rule's ``partition`` for each device's computation, which builds
the kernel for one shard of neurons (the neuron axes keep the sharding of the
first operand sharded over them, ``_shardings``; time is never split), so
each device runs the kernel on its own neurons with no collective. The Shardy
rule (``_shardy_rule``) maps each neuron axis of every operand and result to
one factor and the time axes to factors that stay replicated; GSPMD asks the
rule's ``infer`` for the results' shardings.

The wrapper is left out where there is nothing to split: a program for one
device, inside ``shard_map`` (each device already has its block), neurons of
rank 0 or with a zero or symbolic dimension, and programs lowered for
``jax.export`` (a serialized program cannot call back into this process to
partition; there XLA gathers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from jax._src.lib import xla_client as xc
from jax._src.sharding_impls import GSPMDSharding
from jax.experimental.custom_partitioning import custom_partitioning
from jax.interpreters import mlir

from .._custom_partitioned import program_devices, with_devices
from .._partitioned_ffi import SEQUENCE, STATE

__all__ = ["lower"]


def _is_sequence(shape, role, neurons) -> bool:
    """A sequence ``[k, *neurons]`` (not a ``(0,)`` placeholder)."""
    return role == SEQUENCE and len(shape) == 1 + len(neurons) and tuple(shape[1:]) == tuple(neurons)


def _neuron_tiles(sharding, shape, lead: int, neurons):
    """``(tiles, devices)``: how ``sharding`` of an array ``shape`` splits the
    neuron axes (its axes from ``lead`` on), as tile counts per neuron axis
    and the device array ``[*tiles, rest]`` (time tiles and replicas in
    ``rest``); an axis whose tiles do not divide its size left whole. None
    when it splits no neuron axis."""
    if sharding is None:  # GSPMD may not have decided an operand's sharding yet
        return None
    hlo = sharding._to_xla_hlo_sharding(len(shape))
    if hlo.is_replicated() or not hlo.is_tiled() or hlo.is_manual():
        return None
    dims = list(hlo.tile_assignment_dimensions())
    devices = np.asarray(hlo.tile_assignment_devices()).reshape(dims)
    neuron_axes = [lead + i for i, n in enumerate(neurons) if dims[lead + i] > 1 and n % dims[lead + i] == 0]
    if not neuron_axes:
        return None
    rest = [a for a in range(len(dims)) if a not in neuron_axes]
    tiles = [dims[lead + i] if lead + i in neuron_axes else 1 for i in range(len(neurons))]
    devices = devices.transpose(neuron_axes + rest).reshape(*tiles, -1)
    return tiles, devices


def _hlo(tiles, devices, lead: int):
    """The tiled sharding: ``lead`` whole leading axes, the neuron tiles, the
    rest of the devices replicas."""
    op = xc.OpSharding()
    op.type = xc.OpSharding.Type.OTHER
    rest = devices.shape[-1]
    op.tile_assignment_dimensions = [1] * lead + list(tiles) + ([rest] if rest > 1 else [])
    op.tile_assignment_devices = [int(d) for d in devices.reshape(-1)]
    op.replicate_on_last_tile_dim = rest > 1
    return xc.HloSharding.from_proto(op)


def _shardings(devices, arg_shapes, in_roles, shapes, roles, neurons) -> list:
    """The shardings of arrays ``shapes`` (of ``roles``) for the neuron split of
    the first operand that splits its neurons; all replicated if none does."""
    split = None
    for s, role in zip(arg_shapes, in_roles):
        lead = 1 if _is_sequence(s.shape, role, neurons) else 0
        if lead or (role == STATE and tuple(s.shape) == tuple(neurons)):
            try:
                split = _neuron_tiles(s.sharding, s.shape, lead, neurons)
            except Exception:  # noqa: BLE001 (an error here would abort XLA: replicate instead)
                split = None
        if split is not None:
            break
    out = []
    for shape, role in zip(shapes, roles):
        if split is None or not (role == STATE or _is_sequence(shape, role, neurons)):
            out.append(GSPMDSharding.get_replicated(devices))
        else:
            out.append(GSPMDSharding(devices, _hlo(*split, 0 if role == STATE else 1)))
    return out


def _shardy_rule(in_shapes, in_roles, out_shapes, out_roles, neurons) -> tuple[str, list[str]]:
    """The einsum-like Shardy rule and its factors that need replication."""
    replicated = []

    def mapping(shape, role):
        if role == STATE:
            factors = [f"n{i}" for i in range(len(neurons))]
        elif _is_sequence(shape, role, neurons):
            factors = [f"t{shape[0]}", *(f"n{i}" for i in range(len(neurons)))]
        else:
            factors = [f"p{i}_{d}" for i, d in enumerate(shape)]
        replicated.extend(f for f in factors if not f.startswith("n") and f not in replicated)
        return " ".join(factors)

    ins = ", ".join(mapping(s, r) for s, r in zip(in_shapes, in_roles))
    outs = ", ".join(mapping(s, r) for s, r in zip(out_shapes, out_roles))
    return f"{ins} -> {outs}", replicated


def lower(ctx, fn: Callable, operand_roles: Sequence[str], result_roles: Sequence[str], *operands):
    """Lower ``fn`` (flat operands -> list of flat results, one pass of the
    Pallas kernels) so that XLA runs it per shard of neurons.

    Args:
      ctx: the lowering rule's context.
      fn: the pass; it is traced again on a shard's shapes when XLA
        partitions the program.
      operand_roles, result_roles: ``SEQUENCE`` (``[k, *neurons]`` or a
        ``(0,)`` placeholder) or ``STATE`` (``[*neurons]``) for each operand
        and result; the first state gives the neurons' shape.
      operands: the lowered operands.

    Returns:
      The lowered results, as ``mlir.lower_fun`` gives them.

    Example:
      ``return lower(ctx, fn, [SEQUENCE, STATE], [SEQUENCE], x, v0)``
    """
    neurons = tuple(ctx.avals_in[list(operand_roles).index(STATE)].shape)
    devices = program_devices(ctx)
    plain = mlir.lower_fun(lambda *args: list(fn(*args)), multiple_results=True)
    if devices is None or not neurons or not all(isinstance(d, int) and d > 0 for d in neurons):
        return plain(ctx, *operands)
    in_shapes = [tuple(a.shape) for a in ctx.avals_in]
    out_shapes = [tuple(a.shape) for a in ctx.avals_out]

    def infer(mesh, arg_shapes, result_shape):
        return _shardings(devices, arg_shapes, operand_roles, out_shapes, result_roles, neurons)

    def partition(mesh, arg_shapes, result_shape):
        args = _shardings(devices, arg_shapes, operand_roles, in_shapes, operand_roles, neurons)
        results = _shardings(devices, arg_shapes, operand_roles, out_shapes, result_roles, neurons)
        return mesh, (lambda *a: list(fn(*a))), results, tuple(args)

    rule, replicated = _shardy_rule(in_shapes, operand_roles, out_shapes, result_roles, neurons)
    wrapped = custom_partitioning(lambda *args: list(fn(*args)))
    wrapped.def_partition(
        partition=partition,
        infer_sharding_from_operands=infer,
        sharding_rule=rule,
        need_replication_factors=tuple(replicated),
    )
    return mlir.lower_fun(wrapped, multiple_results=True)(with_devices(ctx, devices), *operands)
