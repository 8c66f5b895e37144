"""The two primitives of the event-driven product, and their autodiff and
batching rules.

* ``spike_matmul_p(s, w)``: ``s @ w`` for ``s: [..., n_in]`` and
  ``w: [n_in, n_out]`` of one float dtype; the kernel reads only the nonzero
  entries of ``s``.
* ``spike_matmul_wgrad_p(s, ct)``: ``s^T @ ct`` summed over every leading
  axis, ``[n_in, n_out]``; the kernel adds the rows of ``ct`` into the rows of
  the spiking inputs.

Both are bilinear. Wherever ``s`` is a primal (the spikes), products with it
bind these primitives; products with a tangent or cotangent of ``s`` are
dense (``lax.dot_general``): a cotangent of the spikes is not sparse.

``lowering`` is the lowering setting when the op was traced (``_lowering``).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax import lax
from jax._src import dispatch
from jax.extend.core import Primitive
from jax.interpreters import ad, batching

__all__ = [
    "spike_matmul_p",
    "spike_matmul_wgrad_p",
    "DTYPES",
    "dense_matmul",
    "dense_wgrad",
]

spike_matmul_p = Primitive("spikegrad_spike_matmul")
spike_matmul_wgrad_p = Primitive("spikegrad_spike_matmul_wgrad")

for _p in (spike_matmul_p, spike_matmul_wgrad_p):
    _p.def_impl(partial(dispatch.apply_primitive, _p))

#: The dtypes of the kernels and of their XLA counterparts.
DTYPES = tuple(jnp.dtype(d) for d in (jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64))
_HALF = (jnp.dtype(jnp.float16), jnp.dtype(jnp.bfloat16))


# ---- dense products (XLA's dot) --------------------------------------------


def _dot(a, b, dims):
    """``lax.dot_general`` in ``a``'s dtype; halves accumulate in float32 and
    round once, as the kernels do."""
    if a.dtype in _HALF:
        return lax.dot_general(a, b, dims, preferred_element_type=jnp.float32).astype(a.dtype)
    return lax.dot_general(a, b, dims)


def dense_matmul(s, w):
    """``s @ w`` with XLA's dot: ``[..., n_in] x [n_in, n_out] -> [..., n_out]``."""
    return _dot(s, w, (((s.ndim - 1,), (0,)), ((), ())))


def dense_wgrad(s, ct):
    """``s^T @ ct`` over every leading axis with XLA's dot: ``[n_in, n_out]``."""
    lead = tuple(range(s.ndim - 1))
    return _dot(s, ct, ((lead, lead), ((), ())))


def _dense_spikes_ct(ct, w):
    """``ct @ w^T``: ``[..., n_out] x [n_in, n_out] -> [..., n_in]``."""
    return _dot(ct, w, (((ct.ndim - 1,), (1,)), ((), ())))


# ---- abstract evaluation -------------------------------------------------


def _check_dtypes(op, a, b, names):
    if a.dtype not in DTYPES or b.dtype != a.dtype:
        raise TypeError(
            f"spikegrad {op}: {names[0]} and {names[1]} must share one dtype of "
            f"{', '.join(d.name for d in DTYPES)}; got {a.dtype} and {b.dtype}"
        )


def _spec(aval):
    """The aval's partition spec, one entry per dimension (None: unsharded)."""
    spec = tuple(getattr(getattr(aval, "sharding", None), "spec", None) or ())
    return (*spec, *(None,) * (aval.ndim - len(spec)))


def _result(like, other, shape, spec, dtype):
    """An aval of ``shape`` whose sharding (explicit mesh axes) follows
    ``spec``, on the mesh of whichever operand has one."""
    sharding = getattr(like, "sharding", None)
    for a in (like, other):
        candidate = getattr(a, "sharding", None)
        if candidate is not None and not getattr(candidate.mesh, "empty", True):
            sharding = candidate
            break
    if sharding is None:
        return like.update(shape=shape, dtype=dtype, weak_type=False)
    sharding = sharding.update(spec=jax.sharding.PartitionSpec(*spec))
    return like.update(shape=shape, dtype=dtype, weak_type=False, sharding=sharding)


def _matmul_abstract(s, w, *, lowering):
    _check_dtypes("spike_matmul", s, w, ("spikes", "weight"))
    if s.ndim < 1 or w.ndim != 2 or s.shape[-1] != w.shape[0]:
        raise TypeError(
            f"spike_matmul: spikes [..., n_in] and weight [n_in, n_out] do not fit: "
            f"spikes {list(s.shape)}, weight {list(w.shape)}"
        )
    return _result(s, w, (*s.shape[:-1], w.shape[1]), (*_spec(s)[:-1], _spec(w)[1]), w.dtype)


def _wgrad_abstract(s, ct, *, lowering):
    _check_dtypes("spike_matmul_wgrad", s, ct, ("spikes", "cotangent"))
    if s.ndim < 1 or ct.ndim != s.ndim or s.shape[:-1] != ct.shape[:-1]:
        raise TypeError(
            f"spike_matmul_wgrad: spikes [..., n_in] and cotangent [..., n_out] must share "
            f"their leading axes: spikes {list(s.shape)}, cotangent {list(ct.shape)}"
        )
    return _result(s, ct, (s.shape[-1], ct.shape[-1]), (_spec(s)[-1], _spec(ct)[-1]), s.dtype)


spike_matmul_p.def_abstract_eval(_matmul_abstract)
spike_matmul_wgrad_p.def_abstract_eval(_wgrad_abstract)


# ---- autodiff ------------------------------------------------------------


def _sum_tangents(parts, aval):
    parts = [p for p in parts if p is not None]
    if not parts:
        return ad.Zero(aval.to_tangent_aval())
    return parts[0] if len(parts) == 1 else parts[0] + parts[1]


def _matmul_jvp(primals, tangents, *, lowering):
    s, w = primals
    ds, dw = tangents
    y = spike_matmul_p.bind(s, w, lowering=lowering)
    parts = [
        None if type(ds) is ad.Zero else dense_matmul(ds, w),
        None if type(dw) is ad.Zero else spike_matmul_p.bind(s, dw, lowering=lowering),
    ]
    return y, _sum_tangents(parts, jax.typeof(y))


def _wgrad_jvp(primals, tangents, *, lowering):
    s, ct = primals
    ds, dct = tangents
    g = spike_matmul_wgrad_p.bind(s, ct, lowering=lowering)
    parts = [
        None if type(ds) is ad.Zero else dense_wgrad(ds, ct),
        None if type(dct) is ad.Zero else spike_matmul_wgrad_p.bind(s, dct, lowering=lowering),
    ]
    return g, _sum_tangents(parts, jax.typeof(g))


def _matmul_transpose(ct, s, w, *, lowering):
    s_linear, w_linear = ad.is_undefined_primal(s), ad.is_undefined_primal(w)
    if s_linear and w_linear:
        raise ValueError("spike_matmul: transposed with respect to both operands (it is bilinear)")
    if w_linear:
        if type(ct) is ad.Zero:
            return None, ad.Zero(w.aval)
        return None, spike_matmul_wgrad_p.bind(s, ct, lowering=lowering)
    if type(ct) is ad.Zero:
        return ad.Zero(s.aval), None
    return _dense_spikes_ct(ct, w), None


def _wgrad_transpose(ct, s, c, *, lowering):
    s_linear, c_linear = ad.is_undefined_primal(s), ad.is_undefined_primal(c)
    if s_linear and c_linear:
        raise ValueError("spike_matmul_wgrad: transposed with respect to both operands (it is bilinear)")
    if c_linear:
        if type(ct) is ad.Zero:
            return None, ad.Zero(c.aval)
        return None, spike_matmul_p.bind(s, ct, lowering=lowering)
    if type(ct) is ad.Zero:
        return ad.Zero(s.aval), None
    return _dense_spikes_ct(c, ct), None


ad.primitive_jvps[spike_matmul_p] = _matmul_jvp
ad.primitive_jvps[spike_matmul_wgrad_p] = _wgrad_jvp
ad.primitive_transposes[spike_matmul_p] = _matmul_transpose
ad.primitive_transposes[spike_matmul_wgrad_p] = _wgrad_transpose


# ---- batching ------------------------------------------------------------


def _each(p, a, b, lowering):
    """Both operands batched on axis 0: one event-driven product per item."""
    return lax.map(lambda ab: p.bind(ab[0], ab[1], lowering=lowering), (a, b))


def _merge_last(x, size):
    """``[k, ..., m] -> [..., k * m]``: the batch folded into the last axis."""
    x = jnp.moveaxis(x, 0, -2)
    return x.reshape(*x.shape[:-2], size * x.shape[-1])


def _matmul_batch(args, dims, *, lowering):
    s, w = args
    bs, bw = dims
    if bw is None:  # the spikes' leading axes are batch axes already
        return spike_matmul_p.bind(jnp.moveaxis(s, bs, 0), w, lowering=lowering), 0
    w = jnp.moveaxis(w, bw, 0)
    k, n_in, n_out = w.shape
    if bs is None:  # one product with the weights side by side: [n_in, k * n_out]
        wide = jnp.moveaxis(w, 0, 1).reshape(n_in, k * n_out)
        y = spike_matmul_p.bind(s, wide, lowering=lowering)
        return y.reshape(*y.shape[:-1], k, n_out), s.ndim - 1
    return _each(spike_matmul_p, jnp.moveaxis(s, bs, 0), w, lowering), 0


def _wgrad_batch(args, dims, *, lowering):
    s, c = args
    bs, bc = dims
    if bs is not None and bc is not None:
        return _each(spike_matmul_wgrad_p, jnp.moveaxis(s, bs, 0), jnp.moveaxis(c, bc, 0), lowering), 0
    if bs is not None:  # spikes side by side: [..., k * n_in] -> [k * n_in, n_out]
        s = jnp.moveaxis(s, bs, 0)
        k, n_in = s.shape[0], s.shape[-1]
        g = spike_matmul_wgrad_p.bind(_merge_last(s, k), c, lowering=lowering)
        return g.reshape(k, n_in, g.shape[-1]), 0
    c = jnp.moveaxis(c, bc, 0)  # cotangents side by side: [n_in, k * n_out]
    k, n_out = c.shape[0], c.shape[-1]
    g = spike_matmul_wgrad_p.bind(s, _merge_last(c, k), lowering=lowering)
    return g.reshape(g.shape[0], k, n_out), 1


batching.primitive_batchers[spike_matmul_p] = _matmul_batch
batching.primitive_batchers[spike_matmul_wgrad_p] = _wgrad_batch
