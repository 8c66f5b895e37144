"""The three primitives of the fused LIF neuron, with autodiff and batching.

``lif_forward_p(x, v0) -> (spikes, v)``            the time loop
``lif_tangent_p(v, v0, dx, dv0) -> (dspikes, dv)``  its linearization at ``v``
``lif_bptt_p(v, v0, ct_spikes, ct_v) -> (ct_x, ct_v0)``  the transpose (BPTT)

All operands are float32 or float64, time-major (``[T, *shape]``; ``v0`` and
its tangent/cotangent ``[*shape]``). The JVP of the forward primitive is the
tangent primitive, linear in ``(dx, dv0)``; its transpose is the BPTT
primitive, and the BPTT primitive's transpose is the tangent primitive. So
forward mode (jvp, jacfwd) and reverse mode (grad, vjp) each run one Rust
kernel, and a reverse pass keeps only ``v`` (with ``v0``) as residuals. As for
the surrogates, ``g'`` is not differentiated again: the tangent and BPTT
primitives have zero derivative w.r.t. ``v`` and ``v0``.

Static parameters: ``surrogate`` (native name), ``params`` (its floats),
``lif`` (``decay, bias, drive, V_th, V_reset``), ``hard_reset`` (bool). The
forward primitive also takes ``keep_v``: when False (a forward pass no
derivative or caller needs the potentials of), ``v`` is a ``(0,)`` placeholder
and the kernel does not write the potentials. The BPTT primitive also takes
``has_ct_v``: when False, ``ct_v`` is a placeholder of shape ``(0,)`` standing
for a zero cotangent of ``v`` (none is materialized).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax._src import dispatch
from jax.extend.core import Primitive
from jax.interpreters import ad, batching

__all__ = ["lif_forward_p", "lif_tangent_p", "lif_bptt_p", "no_ct_v"]

lif_forward_p = Primitive("spikegrad_lif_forward")
lif_tangent_p = Primitive("spikegrad_lif_tangent")
lif_bptt_p = Primitive("spikegrad_lif_bptt")

for _p in (lif_forward_p, lif_tangent_p, lif_bptt_p):
    _p.multiple_results = True
    _p.def_impl(partial(dispatch.apply_primitive, _p))


def no_ct_v(dtype) -> jax.Array:
    """The placeholder for an absent cotangent of ``v``."""
    return jnp.zeros((0,), dtype)


# ---- abstract evaluation -------------------------------------------------


def _check(name, seq, state, *others):
    """``seq`` is ``[T, *state.shape]``; ``others`` are ``(array, shape)`` pairs."""
    if seq.ndim < 1 or seq.shape[1:] != state.shape:
        raise TypeError(
            f"spikegrad {name}: expected a [T, *shape] sequence and a [*shape] state, "
            f"got {list(seq.shape)} and {list(state.shape)}"
        )
    dtypes = {seq.dtype, state.dtype, *(a.dtype for a, _ in others)}
    if len(dtypes) != 1 or seq.dtype not in (jnp.float32, jnp.float64):
        raise TypeError(f"spikegrad {name}: operands must share one dtype, float32 or float64, got {dtypes}")
    for a, shape in others:
        if a.shape != shape:
            raise TypeError(f"spikegrad {name}: operand shape {list(a.shape)} differs from {list(shape)}")


def _aval(a):
    return a.update(shape=a.shape, dtype=a.dtype, weak_type=False)


def _forward_abstract(x, v0, *, keep_v, **_):
    _check("lif_forward", x, v0)
    return [_aval(x), _aval(x) if keep_v else _aval(x).update(shape=(0,))]


def _tangent_abstract(v, v0, dx, dv0, **_):
    _check("lif_tangent", v, v0, (dx, v.shape), (dv0, v0.shape))
    return [_aval(v), _aval(v)]


def _bptt_abstract(v, v0, ct_spikes, ct_v, *, has_ct_v, **_):
    _check("lif_bptt", v, v0, (ct_spikes, v.shape), (ct_v, v.shape if has_ct_v else (0,)))
    return [_aval(v), _aval(v0)]


lif_forward_p.def_abstract_eval(_forward_abstract)
lif_tangent_p.def_abstract_eval(_tangent_abstract)
lif_bptt_p.def_abstract_eval(_bptt_abstract)


# ---- autodiff ------------------------------------------------------------


def _instantiate(t, like):
    return jnp.zeros(like.shape, like.dtype) if type(t) is ad.Zero else t


def _zero(aval):
    return ad.Zero(aval.to_tangent_aval() if hasattr(aval, "to_tangent_aval") else aval)


def _forward_jvp(primals, tangents, *, keep_v, **static):
    x, v0 = primals
    tx, tv0 = tangents
    # The tangent (and so the BPTT) pass needs the potentials: always keep them.
    spikes, v = lif_forward_p.bind(x, v0, keep_v=True, **static)
    v_out = v if keep_v else no_ct_v(v.dtype)
    if type(tx) is ad.Zero and type(tv0) is ad.Zero:
        return (spikes, v_out), (_zero(jax.typeof(spikes)), _zero(jax.typeof(v_out)))
    dspikes, dv = lif_tangent_p.bind(v, v0, _instantiate(tx, x), _instantiate(tv0, v0), **static)
    return (spikes, v_out), (dspikes, dv if keep_v else _zero(jax.typeof(v_out)))


def _linear_jvp(prim, n_fixed):
    """JVP of a primitive linear in its operands after the first ``n_fixed``
    (``g'`` is not differentiated again)."""

    def jvp(primals, tangents, **static):
        out = prim.bind(*primals, **static)
        lin = tangents[n_fixed:]
        if all(type(t) is ad.Zero for t in lin):
            return out, [_zero(jax.typeof(o)) for o in out]
        lin = [_instantiate(t, p) for t, p in zip(lin, primals[n_fixed:])]
        return out, prim.bind(*primals[:n_fixed], *lin, **static)

    return jvp


def _tangent_transpose(cts, v, v0, dx, dv0, **static):
    if ad.is_undefined_primal(v) or ad.is_undefined_primal(v0):
        raise ValueError("spikegrad lif_tangent is not linear in v or v0")
    ct_spikes, ct_v = cts
    v_aval = jax.typeof(v)
    if type(ct_spikes) is ad.Zero and type(ct_v) is ad.Zero:
        return [None, None, _maybe_zero(dx), _maybe_zero(dv0)]
    ct_spikes = _instantiate(ct_spikes, v_aval)
    has_ct_v = type(ct_v) is not ad.Zero
    ct_v = ct_v if has_ct_v else no_ct_v(v_aval.dtype)
    ct_x, ct_v0 = lif_bptt_p.bind(v, v0, ct_spikes, ct_v, has_ct_v=has_ct_v, **static)
    return [
        None,
        None,
        ct_x if ad.is_undefined_primal(dx) else None,
        ct_v0 if ad.is_undefined_primal(dv0) else None,
    ]


def _maybe_zero(p):
    return ad.Zero(p.aval) if ad.is_undefined_primal(p) else None


def _bptt_transpose(cts, v, v0, ct_spikes, ct_v, *, has_ct_v, **static):
    if ad.is_undefined_primal(v) or ad.is_undefined_primal(v0):
        raise ValueError("spikegrad lif_bptt is not linear in v or v0")
    ct_x, ct_v0 = cts
    if type(ct_x) is ad.Zero and type(ct_v0) is ad.Zero:
        return [None, None, _maybe_zero(ct_spikes), _maybe_zero(ct_v) if has_ct_v else None]
    v_aval, v0_aval = jax.typeof(v), jax.typeof(v0)
    dspikes, dv = lif_tangent_p.bind(v, v0, _instantiate(ct_x, v_aval), _instantiate(ct_v0, v0_aval), **static)
    return [
        None,
        None,
        dspikes if ad.is_undefined_primal(ct_spikes) else None,
        dv if (has_ct_v and ad.is_undefined_primal(ct_v)) else None,
    ]


def _bptt_jvp(primals, tangents, *, has_ct_v, **static):
    out = lif_bptt_p.bind(*primals, has_ct_v=has_ct_v, **static)
    t_cts, t_ctv = tangents[2:]
    if type(t_cts) is ad.Zero and (not has_ct_v or type(t_ctv) is ad.Zero):
        return out, [_zero(jax.typeof(o)) for o in out]
    t_cts = _instantiate(t_cts, primals[2])
    t_ctv = _instantiate(t_ctv, primals[3])
    return out, lif_bptt_p.bind(primals[0], primals[1], t_cts, t_ctv, has_ct_v=has_ct_v, **static)


ad.primitive_jvps[lif_forward_p] = _forward_jvp
ad.primitive_jvps[lif_tangent_p] = _linear_jvp(lif_tangent_p, 2)
ad.primitive_jvps[lif_bptt_p] = _bptt_jvp
ad.primitive_transposes[lif_tangent_p] = _tangent_transpose
ad.primitive_transposes[lif_bptt_p] = _bptt_transpose


# ---- batching ------------------------------------------------------------
# A batch axis of a sequence operand goes right after time, of a state operand
# in front: the kernels then see a larger population.


def _seq(a, d, size):
    if d is None:
        return jnp.broadcast_to(a[:, None], (a.shape[0], size, *a.shape[1:]))
    return jnp.moveaxis(a, d, 1)


def _state(a, d, size):
    if d is None:
        return jnp.broadcast_to(a[None], (size, *a.shape))
    return jnp.moveaxis(a, d, 0)


def _size(args, dims):
    return next(a.shape[d] for a, d in zip(args, dims) if d is not None)


def _forward_batch(args, dims, *, keep_v, **static):
    (x, v0), (dx, dv0) = args, dims
    size = _size(args, dims)
    out = lif_forward_p.bind(_seq(x, dx, size), _state(v0, dv0, size), keep_v=keep_v, **static)
    return out, [1, 1 if keep_v else None]


def _tangent_batch(args, dims, **static):
    size = _size(args, dims)
    v, v0, tx, tv0 = args
    d_v, d_v0, d_tx, d_tv0 = dims
    out = lif_tangent_p.bind(
        _seq(v, d_v, size), _state(v0, d_v0, size), _seq(tx, d_tx, size), _state(tv0, d_tv0, size), **static
    )
    return out, [1, 1]


def _bptt_batch(args, dims, *, has_ct_v, **static):
    size = _size(args, dims)
    v, v0, cts, ctv = args
    d_v, d_v0, d_cts, d_ctv = dims
    ctv = _seq(ctv, d_ctv, size) if has_ct_v else ctv
    out = lif_bptt_p.bind(
        _seq(v, d_v, size), _state(v0, d_v0, size), _seq(cts, d_cts, size), ctv, has_ct_v=has_ct_v, **static
    )
    return out, [1, 0]


batching.primitive_batchers[lif_forward_p] = _forward_batch
batching.primitive_batchers[lif_tangent_p] = _tangent_batch
batching.primitive_batchers[lif_bptt_p] = _bptt_batch
