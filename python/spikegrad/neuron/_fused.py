"""``run``: any neuron model (``_models``) over a whole input sequence in one op.

The public functions (``lif``, ``alif``, ``cuba_lif``) are thin wrappers. A
call checks its input, initial states and parameters (before any kernel
runs), folds the parameters into the model's kernel constants (``model.fold``,
in jnp: differentiable), broadcasts each constant to the neuron shape and runs

* the fused primitives (``_primitives``) when the spike function is a native
  surrogate with concrete parameters and ``x`` is float16/bfloat16/float32/
  float64: whatever the parameters are (Python/NumPy scalars, per-neuron
  arrays, traced values). Gradients w.r.t. the parameters come from the BPTT
  primitive's per-neuron constant cotangents, chained through the fold by JAX;
* otherwise (a user's own spike function, a surrogate with traced parameters,
  another float type) a ``lax.scan`` of ``model.step`` with the spike
  function itself, differentiated by JAX.
"""

from __future__ import annotations

import numbers

import jax
import jax.numpy as jnp
import numpy as np

from .._policy import LOWERING
from ..surrogate import NativeSurrogate, ReluGrad
from ..surrogate._base import NATIVE_DTYPES
from . import _lowering  # noqa: F401  (the lowerings must be registered)
from ._lowering import heaviside, scan_states
from ._models import NeuronModel
from ._primitives import neuron_forward_p
from ._rec_primitives import rec_forward_p
from ._recurrent import check_w_rec, scan_recurrent

__all__ = ["run", "DEFAULT_SAVE_EVERY", "POSITIVE"]

DEFAULT_SAVE_EVERY = 16
"""The BPTT checkpoint stride of the fused neurons when ``save_every`` is None.

The forward pass of a gradient keeps the states every ``DEFAULT_SAVE_EVERY``
steps and the backward pass recomputes the steps in between (``save_every=1``
saves every step). 16 from the measurements in docs/perf.md ("Fused neurons:
checkpoint stride"): at 2^16 neurons BPTT ran faster than with every step
saved, for 1/16 of the memory.

Examples
--------
>>> from spikegrad.neuron import DEFAULT_SAVE_EVERY
>>> DEFAULT_SAVE_EVERY
16
"""

#: The dtypes of ``x`` the recurrent kernels take (half precision: the scan).
_REC_DTYPES = (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64))

#: Parameters that must be > 0.
POSITIVE = frozenset({"dt", "tau", "tau_a", "tau_syn", "tau_w", "delta_T"})


def _compute_dtype(dtype):
    return jnp.dtype(jnp.float32) if jnp.dtype(dtype).itemsize < 4 else jnp.dtype(dtype)


def _is_traced(value) -> bool:
    return isinstance(value, jax.core.Tracer)


def _broadcasts(shape, target) -> bool:
    try:
        return np.broadcast_shapes(tuple(shape), tuple(target)) == tuple(target)
    except ValueError:
        return False


def _sequence(fn: str, x) -> jax.Array:
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{fn}: x must be a real floating array, got {type(x).__name__}")
    try:
        x = jnp.asarray(x)
    except TypeError as e:
        raise TypeError(f"{fn}: x must be a real floating array: {e}") from None
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(
            f"{fn}: x must be a real floating array (float16, bfloat16, float32 or float64), got dtype {x.dtype}"
        )
    if x.ndim < 1:
        raise ValueError(f"{fn}: x must be time-major [T, *shape], got a scalar")
    return x


def _initial_state(fn: str, name: str, value, shape, dtype, default=0.0) -> jax.Array:
    """An initial state broadcast to the neuron shape in the compute dtype;
    ``default`` (brainpy.state's initializer, ``model.init``) when None."""
    if value is None:
        return jnp.full(shape, default, dtype)
    if isinstance(value, (bool, np.bool_)) or isinstance(value, (str, bytes)):
        raise TypeError(f"{fn}: {name} must be a real floating array, got {value!r}")
    if isinstance(value, numbers.Real) and not isinstance(value, np.generic):
        value = float(value)
    try:
        arr = jnp.asarray(value)
    except TypeError as e:
        raise TypeError(f"{fn}: {name} must be a real floating array: {e}") from None
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        raise TypeError(f"{fn}: {name} must be floating, got dtype {arr.dtype}")
    if not _broadcasts(arr.shape, shape):
        raise ValueError(
            f"{fn}: {name} of shape {list(arr.shape)} does not match the neuron shape {list(shape)} (x is [T, *shape])"
        )
    return jnp.broadcast_to(arr.astype(dtype), shape)


def _param(fn: str, name: str, value, shape, non_negative=frozenset()):
    """A parameter checked for type and shape: traced values as they are,
    concrete ones as float64 NumPy arrays, checked for finiteness."""
    if _is_traced(value):
        arr = value
        if jnp.issubdtype(arr.dtype, jnp.complexfloating):
            raise TypeError(f"{fn}: {name} must be real, got dtype {arr.dtype}")
        if not (jnp.issubdtype(arr.dtype, jnp.number) or arr.dtype == jnp.bool_):
            raise TypeError(f"{fn}: {name} must be a real number or array, got dtype {arr.dtype}")
    else:
        try:
            arr = np.asarray(value)
        except Exception:
            arr = None
        if arr is None or arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
            raise TypeError(f"{fn}: {name} must be a real number or array, got {value!r}")
        if np.iscomplexobj(arr):
            raise TypeError(f"{fn}: {name} must be real, got {value!r}")
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{fn}: {name} must be finite, got {value!r}")
        if name in POSITIVE and not np.all(arr > 0):
            raise ValueError(f"{fn}: {name} must be > 0, got {value!r}")
        if name in non_negative and not np.all(arr >= 0):
            raise ValueError(f"{fn}: {name} must be >= 0, got {value!r}")
    if not _broadcasts(np.shape(arr), shape):
        raise ValueError(
            f"{fn}: {name} of shape {list(np.shape(arr))} does not broadcast to the neuron shape "
            f"{list(shape)} (x is [T, *shape])"
        )
    return arr


def _check_threshold(fn: str, p: dict) -> None:
    th, reset = p.get("V_th"), p.get("V_reset")
    if isinstance(th, np.ndarray) and "V_reset" not in p:  # IF: the spike scale is V_th itself
        if np.any(th == 0):
            raise ValueError(f"{fn}: V_th must be nonzero (the spike scale V_th is zero)")
        return
    if isinstance(th, np.ndarray) and isinstance(reset, np.ndarray):
        th, reset = np.broadcast_arrays(th, reset)
        if np.any(th == reset):
            raise ValueError(f"{fn}: V_th must differ from V_reset (the spike scale V_th - V_reset is zero)")


def _stride(fn: str, save_every) -> int:
    if save_every is None:
        return DEFAULT_SAVE_EVERY
    if isinstance(save_every, (bool, np.bool_)) or not isinstance(save_every, numbers.Integral) or save_every < 1:
        raise ValueError(f"{fn}: save_every must be a positive int (1: save every step), got {save_every!r}")
    return int(save_every)


def _fused_surrogate(spk_fun):
    """``(name, params)`` when ``spk_fun`` runs in the fused kernels, else None."""
    if not isinstance(spk_fun, NativeSurrogate):
        return None
    static = spk_fun._static_params()
    return None if static is None else (spk_fun._native_name, tuple(static))


def _constants(model: NeuronModel, p: dict, shape, dtype):
    """The kernel constants, each ``[*shape]`` in ``dtype``. Concrete
    parameters are folded in float64 NumPy, traced ones in jnp (differentiable)."""
    if all(isinstance(v, np.ndarray) for v in p.values()):
        folded = model.fold(p["dt"], p, xp=np)
    else:
        folded = model.fold(jnp.asarray(p["dt"], dtype), {k: jnp.asarray(v, dtype) for k, v in p.items()})
    return tuple(jnp.broadcast_to(jnp.asarray(c, dtype), shape) for c in folded)


def run(
    model: NeuronModel,
    x,
    z0: dict,
    params: dict,
    *,
    fn: str,
    spk_fun=None,
    spk_reset="soft",
    save_every=None,
    return_states=False,
    final_states=False,
    w_rec=None,
):
    """Run ``model`` over the time-major ``x`` ``[T, *shape]``.

    Args:
      model: the model description.
      x: the input sequence.
      z0: initial state by argument name (``{"v0": ..., "a0": ...}``, model
        order; None for zeros).
      params: every parameter of the model by name, with ``dt``.
      fn: the public name, for error messages.
      spk_fun, spk_reset, save_every, return_states: as in ``lif``.
      final_states: return ``(spikes, last)``, ``last`` the tuple of the
        states after the last step (``z0`` for ``T = 0``): the last
        checkpoint rows, so the checkpoint stride stays ``save_every``.
      w_rec: the recurrent weight ``[n, n]`` (``n = shape[-1]``) or None (a
        feed-forward neuron). Given, the sequence runs as the recurrent
        primitives (``_rec_primitives``: the fused kernels on CPU) for a
        native surrogate and float32/float64 ``x``, else as a ``lax.scan``
        (``_recurrent``).

    Returns:
      the spikes ``[T, *shape]`` in x's dtype, or with ``return_states``
      ``(spikes, states)``: the tuple of every-step state sequences in model
      order, in the compute dtype (float32 for half-precision ``x``).
    """
    if spk_reset not in ("soft", "hard"):
        raise ValueError(f"{fn}: spk_reset must be 'soft' or 'hard', got {spk_reset!r}")
    if spk_fun is None:
        spk_fun = ReluGrad()
    elif not callable(spk_fun):
        raise TypeError(f"{fn}: spk_fun must be a surrogate or callable, got {spk_fun!r}")
    stride = _stride(fn, save_every)
    x = _sequence(fn, x)
    shape = tuple(x.shape[1:])
    ct = _compute_dtype(x.dtype)
    states0 = tuple(
        _initial_state(fn, name, value, shape, ct, model.init.get(state, 0.0))
        for state, (name, value) in zip(model.states, z0.items(), strict=True)
    )
    p = {name: _param(fn, name, value, shape, model.non_negative) for name, value in params.items()}
    _check_threshold(fn, p)
    hard = spk_reset == "hard"
    w = None if w_rec is None else check_w_rec(fn, w_rec, shape).astype(ct)
    c = _constants(model, p, shape, ct)

    surrogate = _fused_surrogate(spk_fun)
    if w is not None and surrogate is not None and x.dtype in _REC_DTYPES:
        # A traced w may hold a non-finite weight: the kernels make such a
        # column's input NaN at every step, as a dense s @ w is non-finite
        # there whatever the spikes (0 * inf is NaN).
        spikes, *states = rec_forward_p.bind(
            x,
            *states0,
            *c,
            w,
            model=model.name,
            surrogate=surrogate[0],
            params=surrogate[1],
            hard_reset=hard,
            stride=1 if return_states else stride,
            keep=bool(return_states or final_states),
            lowering=LOWERING.get(),
        )
    elif w is not None:
        spike = spk_fun if surrogate is None else heaviside(*surrogate)
        spikes, states, last = scan_recurrent(model, spike, x.astype(ct), states0, c, w, hard, stride)
        spikes = spikes.astype(x.dtype)
        if final_states:
            return spikes, last
        return (spikes, states) if return_states else spikes
    elif surrogate is not None and x.dtype in NATIVE_DTYPES:
        # Half precision: the kernels read x and write the spikes in x's dtype
        # and compute in float32, with no separate conversion passes.
        spikes, *states = neuron_forward_p.bind(
            x,
            *states0,
            *c,
            model=model.name,
            surrogate=surrogate[0],
            params=surrogate[1],
            hard_reset=hard,
            stride=1 if return_states else stride,
            keep=bool(return_states or final_states),
            spikes=True,
            lowering=LOWERING.get(),
        )
    else:
        spikes, states = scan_states(model.name, spk_fun, x.astype(ct), states0, c, hard)
        spikes = spikes.astype(x.dtype)
    if final_states:
        return spikes, tuple(s[-1] if x.shape[0] else z for s, z in zip(states, states0))
    return (spikes, tuple(states)) if return_states else spikes
