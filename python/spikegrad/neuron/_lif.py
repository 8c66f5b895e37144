"""``lif``: brainpy.state's LIF neuron over a whole input sequence in one op.

Concrete scalar parameters with a native surrogate run the fused primitives
(``_lif_primitives``): on CPU one Rust kernel per pass, which keeps only the
potentials for the backward pass. Anything else (traced or per-neuron array
parameters, a user's own surrogate, a surrogate with traced parameters, a
float type the kernels lack) runs the same math as a ``lax.scan``
(``_lif_math.scan_lif``), differentiated by JAX.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..surrogate import NativeSurrogate, ReluGrad
from ..surrogate._base import NATIVE_DTYPES
from . import _lif_lowering  # noqa: F401  (lowerings must be registered)
from ._lif_math import constants, scan_lif
from ._lif_primitives import lif_forward_p

__all__ = ["lif"]

#: Input dtypes of the fused path; half precision is computed in float32.
_PARAMS = ("dt", "tau", "R", "V_th", "V_reset", "V_rest")


def _sequence(x) -> jax.Array:
    if isinstance(x, (str, bytes)):
        raise TypeError(f"spikegrad.neuron.lif: x must be a real floating array, got {type(x).__name__}")
    try:
        x = jnp.asarray(x)
    except TypeError as e:
        raise TypeError(f"spikegrad.neuron.lif: x must be a real floating array: {e}") from None
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(
            f"spikegrad.neuron.lif: x must be a real floating array (float16, bfloat16, float32 "
            f"or float64), got dtype {x.dtype}"
        )
    if x.ndim < 1:
        raise ValueError("spikegrad.neuron.lif: x must be time-major [T, *shape], got a scalar")
    return x


def _compute_dtype(dtype):
    return jnp.dtype(jnp.float32) if jnp.dtype(dtype).itemsize < 4 else jnp.dtype(dtype)


def _param(name, value, shape):
    """A parameter checked for type and shape; concrete ones as float64 NumPy."""
    if isinstance(value, jax.core.Tracer):
        arr = value
    else:
        try:
            arr = np.asarray(value)
        except Exception:
            arr = None
        if arr is None or arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
            raise TypeError(f"spikegrad.neuron.lif: {name} must be a real number or array, got {value!r}")
        if np.iscomplexobj(arr):
            raise TypeError(f"spikegrad.neuron.lif: {name} must be real, got {value!r}")
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"spikegrad.neuron.lif: {name} must be finite, got {value!r}")
    if jnp.issubdtype(arr.dtype, jnp.complexfloating):
        raise TypeError(f"spikegrad.neuron.lif: {name} must be real, got dtype {arr.dtype}")
    try:
        ok = np.broadcast_shapes(np.shape(arr), shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"spikegrad.neuron.lif: {name} of shape {list(np.shape(arr))} does not broadcast to "
            f"the neuron shape {list(shape)} (x is [T, *shape])"
        )
    return arr


def _check_values(p):
    concrete = {k: v for k, v in p.items() if isinstance(v, np.ndarray)}
    for name in ("dt", "tau"):
        if name in concrete and not np.all(concrete[name] > 0):
            raise ValueError(f"spikegrad.neuron.lif: {name} must be > 0, got {concrete[name]}")
    if "V_th" in concrete and "V_reset" in concrete:
        th, reset = np.broadcast_arrays(concrete["V_th"], concrete["V_reset"])
        if np.any(th == reset):
            raise ValueError(
                "spikegrad.neuron.lif: V_th must differ from V_reset (the spike scale V_th - V_reset is zero)"
            )


def _fused_surrogate(spk_fun):
    """``(name, params)`` when ``spk_fun`` runs in the fused kernels, else None."""
    if not isinstance(spk_fun, NativeSurrogate):
        return None
    static = spk_fun._static_params()
    return None if static is None else (spk_fun._native_name, static)


def lif(
    x,
    v0=None,
    *,
    dt,
    tau=5.0,
    R=1.0,
    V_th=1.0,
    V_reset=0.0,
    V_rest=0.0,
    spk_fun=None,
    spk_reset="soft",
    return_v=False,
):
    """Run brainpy.state's LIF neuron over the time-major input ``x`` [T, *shape].

    Each step, with ``delta = V_th - V_reset`` and ``a = exp(-dt/tau)``:
    ``s = spk_fun((V - V_th)/delta)``; the reset subtracts ``delta * s``
    (``'soft'``) or ``(stop_gradient(V) - V_reset) * s`` (``'hard'``); then
    ``V = a V + (1 - a)(V_rest + R x_t)`` and the output is
    ``spk_fun((V - V_th)/delta)``. This is ``brainpy.state.LIF`` stepped by
    ``brainstate.transform.for_loop``, unitless.

    Args:
      x: input current, time-major ``[T, *shape]``, float16/bfloat16/float32/float64.
      v0: initial potential, broadcastable to ``shape``; default 0.
      dt, tau, R, V_th, V_reset, V_rest: scalars or per-neuron arrays
        broadcastable to ``shape``.
      spk_fun: a surrogate (``spikegrad.surrogate``; default ``ReluGrad()``,
        as brainpy.state), or any callable spike function.
      spk_reset: ``'soft'`` or ``'hard'``.
      return_v: also return the potentials ``[V_1..V_T]``.

    Returns:
      spikes ``[T, *shape]`` in x's dtype, or ``(spikes, v)``; ``v`` is in
      float32 for half-precision ``x``, else in x's dtype. A sequence continues
      from ``v[-1]``.
    """
    if spk_reset not in ("soft", "hard"):
        raise ValueError(f"spikegrad.neuron.lif: spk_reset must be 'soft' or 'hard', got {spk_reset!r}")
    if spk_fun is None:
        spk_fun = ReluGrad()
    elif not callable(spk_fun):
        raise TypeError(f"spikegrad.neuron.lif: spk_fun must be a surrogate or callable, got {spk_fun!r}")
    x = _sequence(x)
    shape = x.shape[1:]
    ct = _compute_dtype(x.dtype)
    if v0 is None:
        v0 = jnp.zeros(shape, ct)
    else:
        v0 = _sequence(jnp.asarray(v0)[None])[0] if not isinstance(v0, jax.core.Tracer) else v0
        if not jnp.issubdtype(v0.dtype, jnp.floating):
            raise TypeError(f"spikegrad.neuron.lif: v0 must be floating, got dtype {v0.dtype}")
        try:
            ok = np.broadcast_shapes(v0.shape, shape) == tuple(shape)
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(
                f"spikegrad.neuron.lif: v0 of shape {list(v0.shape)} does not match the neuron shape "
                f"{list(shape)} (x is [T, *shape])"
            )
        v0 = jnp.broadcast_to(v0.astype(ct), shape)
    values = dict(dt=dt, tau=tau, R=R, V_th=V_th, V_reset=V_reset, V_rest=V_rest)
    p = {k: _param(k, v, shape) for k, v in values.items()}
    _check_values(p)
    hard = spk_reset == "hard"

    surrogate = _fused_surrogate(spk_fun)
    scalars = all(isinstance(v, np.ndarray) and v.ndim == 0 for v in p.values())
    if surrogate is not None and scalars and x.dtype in NATIVE_DTYPES:
        decay, bias, drive = constants(*(float(p[k]) for k in ("dt", "tau", "R", "V_rest")), xp=np)
        lif_consts = tuple(float(c) for c in (decay, bias, drive, p["V_th"], p["V_reset"]))
        spikes, v = lif_forward_p.bind(
            x.astype(ct),
            v0,
            surrogate=surrogate[0],
            params=tuple(surrogate[1]),
            lif=lif_consts,
            hard_reset=hard,
            keep_v=bool(return_v),
        )
    else:
        q = {k: jnp.asarray(v, ct) for k, v in p.items()}
        decay, bias, drive = constants(q["dt"], q["tau"], q["R"], q["V_rest"])
        spikes, v = scan_lif(
            x.astype(ct),
            v0,
            decay=decay,
            bias=bias,
            drive=drive,
            V_th=q["V_th"],
            V_reset=q["V_reset"],
            spk_fun=spk_fun,
            hard=hard,
        )
    spikes = spikes.astype(x.dtype)
    return (spikes, v) if return_v else spikes
