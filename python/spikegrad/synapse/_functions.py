"""``spike_matmul``: the checked, public entry to the event-driven product."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .. import _policy
from . import _lowering  # noqa: F401  (registers the lowerings)
from ._primitives import DTYPES, spike_matmul_p

__all__ = ["spike_matmul"]


def spike_matmul(spikes: ArrayLike, weight: ArrayLike) -> jax.Array:
    """``spikes @ weight``, reading only the nonzero spikes.

    On CPU a Rust kernel gathers, per row of ``spikes``, the nonzero entries
    and adds the scaled rows of ``weight``; the gradient with respect to
    ``weight`` (``spikes^T @ ct``) adds rows of the cotangent into the rows of
    the spiking inputs. Both cost about (nonzero spikes x ``n_out``) instead of
    (``batch`` x ``n_in`` x ``n_out``), are deterministic (the same bits on
    every run and thread count) and are exact for any spike values, not only
    0/1: the same as ``jnp.matmul`` up to the order of summation. The
    gradient with respect to ``spikes`` (``ct @ weight.T``) is XLA's dense
    dot. Other platforms, and the lowering setting ``"xla"``, use XLA's dot
    throughout. ``jit``, ``grad``, ``vjp``, ``jvp``, ``vmap``, ``checkpoint``
    and ``jax.export`` work.

    A spike that is exactly zero contributes nothing, so unlike a dense
    product a zero spike times an ``inf`` or NaN weight gives 0, not NaN
    (likewise for the weight gradient: a zero spike times an ``inf`` or NaN
    cotangent). A NaN or infinite spike propagates as in ``jnp.matmul``.

    Parameters
    ----------
    spikes : ArrayLike
        ``[..., n_in]``, bool (counted as 0/1) or any float dtype; a float
        dtype other than the weight's is cast to the weight's first.
    weight : ArrayLike
        ``[n_in, n_out]``, float16, bfloat16, float32 or float64.

    Returns
    -------
    jax.Array
        ``[..., n_out]`` in the weight's dtype. float16 and bfloat16 are
        summed in float32 and rounded once.

    Raises
    ------
    TypeError
        For a weight that is not float16/bfloat16/float32/float64 (bool,
        integer, complex), or spikes that are integer or complex (cast
        integer spikes to bool or to a float dtype first).
    ValueError
        For a weight that is not 2-D, 0-d spikes, or a last axis of
        ``spikes`` other than ``weight.shape[0]``. Both are raised at trace
        time under ``jit`` too.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from spikegrad.synapse import spike_matmul
    >>> s = jnp.array([[1.0, 0.0, 1.0]])
    >>> w = jnp.arange(6.0).reshape(3, 2)
    >>> print(spike_matmul(s, w))
    [[4. 6.]]
    """
    spikes = jnp.asarray(spikes)
    weight = jnp.asarray(weight)
    if weight.dtype not in DTYPES:
        raise TypeError(f"spike_matmul: the weight must be float16, bfloat16, float32 or float64, got {weight.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"spike_matmul: the weight must be 2-D [n_in, n_out], got shape {list(weight.shape)}")
    if spikes.dtype != jnp.bool_ and not jnp.issubdtype(spikes.dtype, jnp.floating):
        raise TypeError(
            f"spike_matmul: spikes must be bool or floating, got {spikes.dtype} "
            "(cast integer spikes with .astype(bool) or to a float dtype)"
        )
    if spikes.ndim == 0:
        raise ValueError("spike_matmul: spikes must have at least one axis [..., n_in], got a scalar")
    if spikes.shape[-1] != weight.shape[0]:
        raise ValueError(
            f"spike_matmul: the last axis of spikes ({spikes.shape[-1]}) must equal the weight's "
            f"first ({weight.shape[0]}): spikes {list(spikes.shape)}, weight {list(weight.shape)}"
        )
    return spike_matmul_p.bind(spikes.astype(weight.dtype), weight, lowering=_policy.LOWERING.get())
