"""Helpers shared by the lowerings that wrap a kernel in jax's
``custom_partitioning`` (the fused neurons' Pallas passes, the synapse's FFI
kernels): when a program spans several devices, XLA's partitioner calls back
into this process for each device's computation.
"""

from __future__ import annotations

import dataclasses

import jax
from jax.interpreters import mlir

__all__ = ["program_devices", "with_devices"]


def program_devices(ctx):
    """The program's devices where a partitioner will need them, else None.

    None for a program of one device, inside ``shard_map`` (each device
    already has its block) and for ``jax.export`` lowerings (a serialized
    program cannot call back into this process to partition).

    jit hands its device assignment to a lowering only for primitives on
    jax's list of those that need it, and putting the kernels there would
    refuse lowerings under an abstract mesh alone. ``custom_partitioning``
    needs a device list of the program's size only to make Python sharding
    objects of XLA's shardings; those refer to the program's devices by
    position, so any devices of that count serve.

    Args:
      ctx: a lowering rule's context.

    Returns:
      A tuple of devices, or None.

    Example:
      ``devices = program_devices(ctx)``
    """
    axis_context = ctx.module_context.axis_context
    if not isinstance(axis_context, mlir.ShardingContext) or axis_context.num_devices <= 1:
        return None
    if getattr(ctx.module_context.lowering_parameters, "for_export", False):
        return None
    if axis_context.device_assignment is not None:
        return tuple(axis_context.device_assignment)
    devices = jax.devices()
    return tuple(devices[: axis_context.num_devices]) if len(devices) >= axis_context.num_devices else None


def with_devices(ctx, devices):
    """``ctx`` with ``devices`` as its program's device assignment, which
    ``custom_partitioning``'s lowering requires.

    Args:
      ctx: a lowering rule's context.
      devices: the tuple ``program_devices(ctx)`` gave.

    Returns:
      The new context.

    Example:
      ``mlir.lower_fun(wrapped, multiple_results=True)(with_devices(ctx, devices), *args)``
    """
    axis_context = dataclasses.replace(ctx.module_context.axis_context, device_assignment=tuple(devices))
    return ctx.replace(module_context=ctx.module_context.replace(axis_context=axis_context))
