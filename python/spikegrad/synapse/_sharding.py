"""The synapse kernels run per shard under ``jit`` (``lower_matmul``,
``lower_wgrad``).

An FFI custom call is opaque to XLA's partitioners: given sharded operands
they would gather them and run the whole product on every device. Here the
kernel is wrapped in jax's ``custom_partitioning`` instead; when XLA
partitions the program, the rule's ``partition`` picks each operand's
sharding from the ones it was given and returns the per-device computation:

* ``s @ w``, ``[..., n_in] x [n_in, n_out] -> [..., n_out]``: the leading
  axes of ``s`` keep its split (the batch), ``n_out`` keeps the split of
  ``w``'s dim 1; each device runs the kernel on its block with no
  collective. ``n_in`` is replicated (gathered if it was split): a split
  contraction would need a sum over devices of whole output blocks.
* ``s^T @ ct``, ``[..., n_in] x [..., n_out] -> [n_in, n_out]``: ``n_in``
  and ``n_out`` keep their splits, and a batch split stays too: each device
  runs the kernel on its rows and one all-reduce (a ``psum`` over the
  devices holding the other rows) adds the partial products, which moves
  one ``[n_in, n_out]`` block instead of gathering the batch. (For float16
  and bfloat16 each partial product is rounded before the sum, where one
  device rounds once.)

Splits whose tile count does not divide the axis are dropped (that axis is
replicated). The Shardy rule names the same factors (``n_in`` needs
replication); GSPMD asks ``infer`` for the result's sharding. Nothing is
wrapped where there is nothing to split (``program_devices``: one device,
``shard_map``, ``jax.export``) or where a shape is symbolic.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import numpy as np
from jax import lax
from jax._src.lib import xla_client as xc
from jax._src.sharding_impls import GSPMDSharding
from jax.experimental.custom_partitioning import custom_partitioning
from jax.interpreters import mlir
from jax.sharding import Mesh

from .._custom_partitioned import program_devices, with_devices

__all__ = ["lower_matmul", "lower_wgrad", "per_block"]

#: The one axis of the mesh the partitioned wgrad names for its all-reduce.
_AXIS = "spikegrad_devices"


def _cells(sharding, shape, n: int):
    """Each device's tile index along every axis of an array ``shape`` split
    by ``sharding``, as ``{device position: index tuple}``; axes whose tile
    count does not divide them count as whole. All zeros when the sharding
    is unknown, replicated or not a plain tiling."""
    whole = {d: (0,) * len(shape) for d in range(n)}
    try:
        hlo = sharding._to_xla_hlo_sharding(len(shape))
        if hlo.is_replicated() or not hlo.is_tiled() or hlo.is_manual():
            return whole
        dims = list(hlo.tile_assignment_dimensions())
        devices = np.asarray(hlo.tile_assignment_devices()).reshape(dims)
    except Exception:  # noqa: BLE001 (an error here would abort XLA: replicate instead)
        return whole
    keep = [i < len(shape) and dims[i] > 1 and shape[i] % dims[i] == 0 for i in range(len(shape))]
    cells = {}
    for index in np.ndindex(*dims):
        cells[int(devices[index])] = tuple(index[i] if keep[i] else 0 for i in range(len(shape)))
    return cells if len(cells) == n else whole


def _counts(cells) -> tuple[int, ...]:
    """Tile counts per axis of a cell map."""
    return tuple(max(c[i] for c in cells.values()) + 1 for i in range(len(next(iter(cells.values())))))


def _is_tiling(cells) -> bool:
    """Whether every combination of tile indices has the same number of
    devices (so the map is a tiling with replicas)."""
    count = Counter(cells.values())
    return len(count) == math.prod(_counts(cells)) and len(set(count.values())) == 1


def _join(*parts):
    """The cell map of the concatenated indices of ``parts`` (all over the
    same devices), or None if that is not a tiling."""
    cells = {d: sum((p[d] for p in parts), ()) for d in parts[0]}
    return cells if _is_tiling(cells) else None


def _sharding(devices, cells):
    """The sharding over ``devices`` that gives each device its cell."""
    counts = _counts(cells)
    if math.prod(counts) == 1:
        return GSPMDSharding.get_replicated(devices)
    groups: dict[tuple, list[int]] = {}
    for d in sorted(cells):
        groups.setdefault(cells[d], []).append(d)
    rest = len(devices) // math.prod(counts)
    op = xc.OpSharding()
    op.type = xc.OpSharding.Type.OTHER
    op.tile_assignment_dimensions = list(counts) + ([rest] if rest > 1 else [])
    op.tile_assignment_devices = [d for index in np.ndindex(*counts) for d in groups[index]]
    op.replicate_on_last_tile_dim = rest > 1
    return GSPMDSharding(devices, xc.HloSharding.from_proto(op))


def _project(cells, axes):
    """The cell map restricted to ``axes`` (in that order)."""
    return {d: tuple(c[a] for a in axes) for d, c in cells.items()}


def _zeros(cells, k: int):
    """The cell map of ``k`` whole axes over the same devices."""
    return {d: (0,) * k for d in cells}


def _matmul_cells(devices, s_arg, w_arg):
    """Cells of ``(s, w, out)`` for ``s @ w``: ``s``'s batch split, ``w``'s
    ``n_out`` split where the two combine to a tiling, ``n_in`` whole."""
    n, rank = len(devices), len(s_arg.shape)
    batch = _project(_cells(s_arg.sharding, s_arg.shape, n), range(rank - 1))
    n_out = _project(_cells(w_arg.sharding, w_arg.shape, n), [1])
    if _join(batch, n_out) is None:
        n_out = _zeros(batch, 1)
    return _join(batch, _zeros(batch, 1)), _join(_zeros(batch, 1), n_out), _join(batch, n_out)


def _wgrad_cells(devices, s_arg, c_arg):
    """Cells of ``(s, ct, out)`` for ``s^T @ ct`` and the batch cells: the
    split of ``s`` (batch and ``n_in``), ``ct``'s ``n_out`` split where it
    combines with it to a tiling."""
    n, rank = len(devices), len(s_arg.shape)
    s_cells = _cells(s_arg.sharding, s_arg.shape, n)
    batch, n_in = _project(s_cells, range(rank - 1)), _project(s_cells, [rank - 1])
    n_out = _project(_cells(c_arg.sharding, c_arg.shape, n), [rank - 1])
    if _join(batch, n_in, n_out) is None:
        n_out = _zeros(batch, 1)
    return _join(batch, n_in), _join(batch, n_out), _join(n_in, n_out), batch


def _sum_groups(batch, out):
    """Device groups for the all-reduce: per output cell and replica, one
    device of each batch cell."""
    by_cell: dict[tuple, dict[tuple, list[int]]] = {}
    for d in sorted(batch):
        by_cell.setdefault(out[d], {}).setdefault(batch[d], []).append(d)
    groups = []
    for per_batch in by_cell.values():
        rows = [per_batch[b] for b in sorted(per_batch)]
        groups.extend(list(g) for g in zip(*rows))
    return groups


def per_block(ctx) -> bool:
    """Whether a kernel lowered in ``ctx`` is wrapped to run per block: the
    program spans several devices (``program_devices``) and every shape is
    static.

    Args:
      ctx: a lowering rule's context.

    Returns:
      True to lower with ``lower_matmul`` / ``lower_wgrad``.

    Example:
      ``if per_block(ctx): return lower_matmul(ctx, kernel, s, w)``
    """
    static = all(isinstance(d, int) for a in (*ctx.avals_in, *ctx.avals_out) for d in a.shape)
    return static and program_devices(ctx) is not None


def _batch_factors(ctx) -> str:
    """The Shardy factors of the leading axes of the spikes, each followed by
    a space."""
    return "".join(f"b{i} " for i in range(len(ctx.avals_in[0].shape) - 1))


def lower_matmul(ctx, kernel: Callable, s, w):
    """Lower ``kernel(s, w)`` (``s @ w`` on whatever block it is given) so
    that XLA runs it per block of the batch and of ``n_out``.

    Args:
      ctx: the lowering rule's context.
      kernel: traced again on each device's block shapes.
      s, w: the lowered operands.

    Call it only where ``per_block(ctx)``.

    Returns:
      The lowered result, as ``mlir.lower_fun`` gives it.

    Example:
      ``return lower_matmul(ctx, lambda s, w: spike_matmul_p.bind(s, w, lowering="native"), s, w)``
    """
    devices = program_devices(ctx)
    batch = _batch_factors(ctx)

    def infer(mesh, arg_shapes, result_shape):
        return _sharding(devices, _matmul_cells(devices, *arg_shapes)[2])

    def partition(mesh, arg_shapes, result_shape):
        s_cells, w_cells, out_cells = _matmul_cells(devices, *arg_shapes)
        args = (_sharding(devices, s_cells), _sharding(devices, w_cells))
        return mesh, kernel, _sharding(devices, out_cells), args

    wrapped = custom_partitioning(kernel)
    wrapped.def_partition(
        partition=partition,
        infer_sharding_from_operands=infer,
        sharding_rule=f"{batch}k, k n -> {batch}n",
        need_replication_factors=("k",),
    )
    return mlir.lower_fun(wrapped, multiple_results=False)(with_devices(ctx, devices), s, w)


def lower_wgrad(ctx, kernel: Callable, s, c):
    """Lower ``kernel(s, c)`` (``s^T @ c`` on whatever block it is given) so
    that XLA runs it per block of the batch, ``n_in`` and ``n_out``, adding
    the batch blocks' partial products with one all-reduce.

    Args:
      ctx: the lowering rule's context.
      kernel: traced again on each device's block shapes.
      s, c: the lowered operands.

    Call it only where ``per_block(ctx)``.

    Returns:
      The lowered result, as ``mlir.lower_fun`` gives it.

    Example:
      ``return lower_wgrad(ctx, lambda s, c: spike_matmul_wgrad_p.bind(s, c, lowering="native"), s, c)``
    """
    devices = program_devices(ctx)
    batch = _batch_factors(ctx)

    def infer(mesh, arg_shapes, result_shape):
        return _sharding(devices, _wgrad_cells(devices, *arg_shapes)[2])

    def partition(mesh, arg_shapes, result_shape):
        s_cells, c_cells, out_cells, batch_cells = _wgrad_cells(devices, *arg_shapes)
        args = (_sharding(devices, s_cells), _sharding(devices, c_cells))
        if math.prod(_counts(batch_cells)) == 1:
            return mesh, kernel, _sharding(devices, out_cells), args
        groups = _sum_groups(batch_cells, out_cells)
        flat = Mesh(np.asarray(devices), (_AXIS,))

        def summed(s, c):
            return lax.psum(kernel(s, c), _AXIS, axis_index_groups=groups)

        return flat, summed, _sharding(devices, out_cells), args

    wrapped = custom_partitioning(kernel)
    wrapped.def_partition(
        partition=partition,
        infer_sharding_from_operands=infer,
        sharding_rule=f"{batch}k, {batch}n -> k n",
    )
    return mlir.lower_fun(wrapped, multiple_results=False)(with_devices(ctx, devices), s, c)
