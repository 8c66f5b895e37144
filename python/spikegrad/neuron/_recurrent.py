"""Recurrent fused neurons (``w_rec=``): the check of the recurrent weight, the
recurrent input of one step, and the whole sequence as a ``lax.scan``.

Each step of any model (``_models``) takes the input ``x_t + s_prev @ w_rec``,
``s_prev`` the spike of the state the step starts from (the spike that drives
the reset; at ``t = 0`` the spike of the initial state). This is
brainpy.state's ``neuron(x_t + rec(neuron.get_spike()))`` with ``rec`` a
bias-free ``brainstate.nn.Linear(n, n)`` whose weight is ``w_rec``.

The scan is differentiated by JAX (the spike is a ``custom_jvp`` Heaviside
whose derivative is the surrogate's ``g'(u)``, or the user's own spike
function). ``save_every = K`` checkpoints it in chunks of ``K`` steps: the
backward pass keeps the states every ``K`` steps and recomputes the rest.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ._models import NeuronModel

__all__ = ["check_w_rec", "recurrent_input", "scan_recurrent"]


def check_w_rec(fn: str, w_rec, shape) -> jax.Array:
    """``w_rec`` as a jax array, checked against the neuron shape ``shape``.

    Args:
      fn: the public name, for error messages.
      w_rec: the recurrent weight, ``[n, n]`` with ``n = shape[-1]``.
      shape: the neuron shape (``x`` is ``[T, *shape]``).

    Returns:
      ``w_rec`` as a jax array in its own dtype.

    Raises:
      TypeError: for a ``w_rec`` that is not a real floating array (bool,
        integer, complex, a string).
      ValueError: for a neuron shape without an axis, a ``w_rec`` whose shape
        is not ``[n, n]`` (a scalar too), or a concrete non-finite value.

    Example:
      >>> check_w_rec("lif", [[0.0, 1.0], [1.0, 0.0]], (3, 2)).shape
      (2, 2)
    """
    if isinstance(w_rec, (str, bytes, bool, np.bool_)):
        raise TypeError(f"{fn}: w_rec must be a real floating [n, n] array, got {w_rec!r}")
    try:
        w = jnp.asarray(w_rec)
    except TypeError as e:
        raise TypeError(f"{fn}: w_rec must be a real floating [n, n] array: {e}") from None
    if not jnp.issubdtype(w.dtype, jnp.floating):
        raise TypeError(
            f"{fn}: w_rec must be a real floating array (float16, bfloat16, float32 or float64), got dtype {w.dtype}"
        )
    if len(shape) == 0:
        raise ValueError(f"{fn}: w_rec needs a neuron axis: x must be [T, ..., n], got x of shape [T]")
    n = shape[-1]
    if tuple(w.shape) != (n, n):
        raise ValueError(
            f"{fn}: w_rec must have shape [n, n] = [{n}, {n}] (n = the last axis of the neuron shape "
            f"{list(shape)}, x is [T, *shape]), got shape {list(w.shape)}"
        )
    if not isinstance(w, jax.core.Tracer) and not bool(np.all(np.isfinite(np.asarray(w, np.float64)))):
        raise ValueError(f"{fn}: w_rec must be finite, got non-finite values")
    return w


def recurrent_input(x_t, s_prev, w_rec):
    """One step's input to the model: ``x_t + s_prev @ w_rec``.

    Args:
      x_t: the step's external input ``[*shape]``.
      s_prev: the spike of the state the step starts from, ``[*shape]``.
      w_rec: the recurrent weight ``[n, n]``, ``n = shape[-1]``, from
        presynaptic (rows) to postsynaptic (columns) neurons.

    Returns:
      The step's input, ``[*shape]``, in ``x_t``'s dtype.

    Example:
      >>> import jax.numpy as jnp
      >>> print(recurrent_input(jnp.zeros(2), jnp.array([1.0, 0.0]), jnp.array([[0.0, 0.5], [2.0, 0.0]])))
      [0.  0.5]
    """
    # HIGHEST: no reduced-precision passes (TF32, bfloat16) for the weights.
    return x_t + jnp.matmul(s_prev, w_rec, precision=lax.Precision.HIGHEST).astype(x_t.dtype)


def _scan_chunked(step, carry, xs, every: int):
    """``lax.scan(step, carry, xs)`` with ``jax.checkpoint`` on chunks of
    ``every`` steps (the last chunk shorter); ``every == 1``: a plain scan."""
    if every == 1:
        return lax.scan(step, carry, xs)
    chunk = jax.checkpoint(lambda c, xc: lax.scan(step, c, xc), prevent_cse=False)
    T = xs.shape[0]
    n_full = T // every
    ys = []
    if n_full:
        head = xs[: n_full * every].reshape(n_full, every, *xs.shape[1:])
        carry, y = lax.scan(chunk, carry, head)
        ys.append(jax.tree.map(lambda a: a.reshape(n_full * every, *a.shape[2:]), y))
    if T % every or not n_full:
        carry, y = chunk(carry, xs[n_full * every :])
        ys.append(y)
    if len(ys) == 1:
        return carry, ys[0]
    return carry, jax.tree.map(lambda a, b: jnp.concatenate([a, b]), *ys)


def scan_recurrent(model: NeuronModel, spike, x, z0, c, w_rec, hard: bool, every: int):
    """The recurrent neuron over the leading (time) axis of ``x``.

    Args:
      model: the model description.
      spike: the spike function (a ``custom_jvp`` Heaviside or the user's).
      x: the input ``[T, *shape]`` in the compute dtype.
      z0: the initial states, each ``[*shape]`` in the compute dtype.
      c: the kernel constants, each ``[*shape]``.
      w_rec: the recurrent weight ``[n, n]`` in the compute dtype.
      hard: hard reset.
      every: the checkpoint stride (``save_every``).

    Returns:
      ``(spikes, states, last)``: the spikes ``[T, *shape]``, the tuple of
      every-step state sequences in model order and the tuple of the states
      after the last step (``z0`` for ``T = 0``).

    Example:
      >>> import jax.numpy as jnp
      >>> from spikegrad.neuron._models import LIF_MODEL
      >>> c = LIF_MODEL.fold(1.0, dict(tau=2.0, R=1.0, V_th=1.0, V_reset=0.0, V_rest=0.0))
      >>> c = tuple(jnp.broadcast_to(jnp.asarray(a, jnp.float32), (2,)) for a in c)
      >>> s, _, _ = scan_recurrent(LIF_MODEL, lambda u: (u >= 0).astype(u.dtype), jnp.ones((3, 2)) * 2.5,
      ...                          (jnp.zeros(2),), c, jnp.eye(2), False, 1)
      >>> s.shape
      (3, 2)
    """
    c = tuple(c)

    def step(carry, xt):
        z, s = carry
        zn = model.step(c, z, recurrent_input(xt, s, w_rec), s, hard)
        zn = tuple(jnp.asarray(new).astype(old.dtype) for new, old in zip(zn, z))
        sn = spike(model.u(c, zn))
        return (zn, sn), (sn, zn)

    z0 = tuple(z0)
    (last, _), (spikes, states) = _scan_chunked(step, (z0, spike(model.u(c, z0))), x, every)
    return spikes, tuple(states), last
