"""The primitives of the recurrent fused neurons (``w_rec=``), with autodiff,
batching and lowerings.

With ``S = model.n_states``, ``C = model.n_consts`` and ``w`` the ``[n, n]``
recurrent weight (``n`` the last neuron axis)::

    rec_forward_p(x, *z0, *c, w) -> (spikes, *saved)
    rec_tangent_p(x, *z0, *c, w, *saved, dx, *dz0, *dc, dw) -> (dspikes, *dz)
    rec_bptt_p(x, *z0, *c, w, *saved, ct_spikes, *ct_z) -> (ct_x, *ct_z0, *ct_c, ct_w)

The same structure as the feed-forward primitives (``_primitives``): the
forward's JVP is the tangent primitive, linear in ``(dx, dz0, dc, dw)``,
whose transpose is the BPTT primitive (and back), so ``grad``/``vjp`` run the
forward and BPTT kernels and ``jvp`` the forward and the tangent. Every
operand is float32 or float64 (half precision runs the ``lax.scan`` form,
``_recurrent``). ``saved`` are the checkpoints ``[ceil(T/stride), *shape]``
with ``keep``, else ``(0,)`` placeholders; ``dz`` and ``ct_z`` the every-step
states' tangents and cotangents (a ``(0,)`` placeholder: a zero cotangent).

Lowerings: on CPU, unless the lowering setting (``_policy``) is ``xla`` or
``pallas``, the forward and BPTT run the Rust kernels
(``src/neurons/recurrent.rs``) as the FFI targets
``spikegrad_neuron_rec_forward`` and ``spikegrad_neuron_rec_bptt`` (or
``..._bptt_states``, without the constants' cotangents). Everywhere else, and
for the tangent primitive always, the ``lax.scan`` form of
``_recurrent.scan_recurrent`` and its ``jax.jvp``/``jax.vjp``. Under
``auto`` the forward's JVP is the scan form's own (``_scan_jvp``, JAX
differentiates it) where ``_policy.RECURRENT_BPTT_KERNEL`` is off; it is on,
since the BPTT kernel measured faster than that (docs/perf.md).

Batching: a batch axis of ``x``, the states or the constants joins the rows
(the kernels see a larger population) when ``w`` (and ``dw``) is unbatched;
otherwise, and for BPTT (whose weight cotangent is then per batch element),
the ``lax.scan`` form runs under ``vmap``.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax._src import dispatch
from jax.extend.core import Primitive
from jax.interpreters import ad, batching, mlir

from .. import _policy
from .._formulas import check_params
from ._lowering import _program_argument, heaviside
from ._models import model as _model
from ._primitives import checkpoint_rows, checkpoint_steps, placeholder
from ._recurrent import scan_recurrent

__all__ = ["rec_forward_p", "rec_tangent_p", "rec_bptt_p", "FORWARD_TARGET", "BPTT_TARGET", "BPTT_STATES_TARGET"]

rec_forward_p = Primitive("spikegrad_neuron_rec_forward")
rec_tangent_p = Primitive("spikegrad_neuron_rec_tangent")
rec_bptt_p = Primitive("spikegrad_neuron_rec_bptt")

for _p in (rec_forward_p, rec_tangent_p, rec_bptt_p):
    _p.multiple_results = True
    _p.def_impl(partial(dispatch.apply_primitive, _p))

FORWARD_TARGET = "spikegrad_neuron_rec_forward"
BPTT_TARGET = "spikegrad_neuron_rec_bptt"
BPTT_STATES_TARGET = "spikegrad_neuron_rec_bptt_states"

_DTYPES = (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64))


def _counts(model):
    m = _model(model)
    return m.n_states, m.n_consts


def split_forward(model, args):
    """``(x, z0, c, w)``."""
    s, c = _counts(model)
    return args[0], tuple(args[1 : 1 + s]), tuple(args[1 + s : 1 + s + c]), args[1 + s + c]


def split_tangent(model, args):
    """``(x, z0, c, w, saved, dx, dz0, dc, dw)``."""
    s, c = _counts(model)
    x, z0, cs, w = split_forward(model, args)
    i = 2 + s + c
    saved = tuple(args[i : i + s])
    dx = args[i + s]
    dz0 = tuple(args[i + s + 1 : i + 2 * s + 1])
    dc = tuple(args[i + 2 * s + 1 : i + 2 * s + 1 + c])
    return x, z0, cs, w, saved, dx, dz0, dc, args[i + 2 * s + 1 + c]


def split_bptt(model, args):
    """``(x, z0, c, w, saved, ct_spikes, ct_z)``."""
    s, c = _counts(model)
    x, z0, cs, w = split_forward(model, args)
    i = 2 + s + c
    return x, z0, cs, w, tuple(args[i : i + s]), args[i + s], tuple(args[i + s + 1 : i + 2 * s + 1])


# ---- abstract evaluation -------------------------------------------------------


def _aval(like, shape, dtype=None):
    return like.update(shape=tuple(shape), dtype=like.dtype if dtype is None else dtype, weak_type=False)


def _check(op, model, stride, args, expected):
    """The shared checks: counts, one float dtype, the neuron shape ``[*rows, n]``
    and ``w`` ``[n, n]``. Returns ``(x, shape)``."""
    s, c = _counts(model)
    if len(args) != expected:
        raise TypeError(f"spikegrad {op}: model {model!r} takes {expected} operands, got {len(args)}")
    if not isinstance(stride, int) or isinstance(stride, bool) or stride < 1:
        raise TypeError(f"spikegrad {op}: stride must be an int >= 1, got {stride!r}")
    x, z0, cs, w = split_forward(model, args)
    if x.dtype not in _DTYPES or any(a.dtype != x.dtype for a in args):
        raise TypeError(
            f"spikegrad {op}: operands must share one dtype, float32 or float64; got {[str(a.dtype) for a in args]}"
        )
    if x.ndim < 2:
        raise TypeError(f"spikegrad {op}: x must be [T, ..., n], got shape {list(x.shape)}")
    shape = tuple(x.shape[1:])
    if tuple(w.shape) != (shape[-1], shape[-1]):
        raise TypeError(f"spikegrad {op}: w has shape {list(w.shape)}, expected {[shape[-1]] * 2}")
    for a in (*z0, *cs):
        if tuple(a.shape) != shape:
            raise TypeError(f"spikegrad {op}: a state or constant has shape {list(a.shape)}, expected {list(shape)}")
    return x, shape


def _check_saved(op, x, shape, stride, saved):
    for a in saved:
        if tuple(a.shape) != (checkpoint_rows(x.shape[0], stride), *shape):
            raise TypeError(f"spikegrad {op}: checkpoints have shape {list(a.shape)}")


def _forward_abstract(*args, model, stride, keep, **_):
    s, c = _counts(model)
    x, shape = _check("neuron_rec_forward", model, stride, args, 2 + s + c)
    saved = (checkpoint_rows(x.shape[0], stride), *shape) if keep else (0,)
    return [_aval(x, x.shape), *(_aval(x, saved) for _ in range(s))]


def _tangent_abstract(*args, model, stride, **_):
    s, c = _counts(model)
    x, shape = _check("neuron_rec_tangent", model, stride, args, 4 + 3 * s + 2 * c)
    _, z0, cs, w, saved, dx, dz0, dc, dw = split_tangent(model, args)
    _check_saved("neuron_rec_tangent", x, shape, stride, saved)
    for a, p in zip((dx, *dz0, *dc, dw), (x, *z0, *cs, w)):
        if a.shape != p.shape:
            raise TypeError(
                f"spikegrad neuron_rec_tangent: a tangent has shape {list(a.shape)}, expected {list(p.shape)}"
            )
    return [_aval(x, x.shape), *(_aval(x, x.shape) for _ in range(s))]


def _bptt_abstract(*args, model, stride, **_):
    s, c = _counts(model)
    x, shape = _check("neuron_rec_bptt", model, stride, args, 3 + 3 * s + c)
    _, _, _, w, saved, ct_spikes, ct_z = split_bptt(model, args)
    _check_saved("neuron_rec_bptt", x, shape, stride, saved)
    if ct_spikes.shape != x.shape or any(tuple(a.shape) not in (x.shape, (0,)) for a in ct_z):
        raise TypeError("spikegrad neuron_rec_bptt: cotangents must have x's shape (state cotangents: or (0,))")
    return [_aval(x, x.shape), *(_aval(x, shape) for _ in range(s + c)), _aval(x, w.shape)]


rec_forward_p.def_abstract_eval(_forward_abstract)
rec_tangent_p.def_abstract_eval(_tangent_abstract)
rec_bptt_p.def_abstract_eval(_bptt_abstract)


# ---- the lax.scan form ------------------------------------------------------------


def _scan(model, surrogate, params, hard_reset, stride=1):
    """``(x, z0, c, w) -> (spikes, states)`` of the scan form, with
    ``save_every`` checkpoint chunks of ``stride`` steps as ``_recurrent``."""
    check_params(surrogate, params)
    m, spike = _model(model), heaviside(surrogate, params)

    def run(x, z0, c, w):
        spikes, states, _ = scan_recurrent(m, spike, x, tuple(z0), tuple(c), w, hard_reset, stride)
        return spikes, tuple(states)

    return run


def _rows(seq, stride):
    return seq if stride == 1 else seq[checkpoint_steps(seq.shape[0], stride)]


def _forward_outputs(f, args, model, stride, keep):
    """The forward primitive's results from the scan form ``f``: the spikes and
    the checkpoints every ``stride`` steps (placeholders without ``keep``)."""
    x, z0, c, w = split_forward(model, args)
    spikes, states = f(x, z0, c, w)
    return [spikes, *(_rows(a, stride) if keep else placeholder(x.dtype) for a in states)]


def xla_forward(*args, model, surrogate, params, hard_reset, stride, keep, **_):
    return _forward_outputs(_scan(model, surrogate, params, hard_reset), args, model, stride, keep)


def xla_tangent(*args, model, surrogate, params, hard_reset, **_):
    x, z0, c, w, _, dx, dz0, dc, dw = split_tangent(model, args)
    f = _scan(model, surrogate, params, hard_reset)
    _, (dspikes, dz) = jax.jvp(f, (x, z0, c, w), (dx, dz0, dc, dw))
    return [dspikes, *dz]


def _is_placeholder(a, x):
    return tuple(a.shape) == (0,) and tuple(x.shape) != (0,)


def xla_bptt(*args, model, surrogate, params, hard_reset, consts=True, **_):
    x, z0, c, w, _, ct_spikes, ct_z = split_bptt(model, args)
    _, pullback = jax.vjp(_scan(model, surrogate, params, hard_reset), x, z0, c, w)
    ct_z = tuple(jnp.zeros_like(x) if _is_placeholder(t, x) else t for t in ct_z)
    ct_x, ct_z0, ct_c, ct_w = pullback((ct_spikes, ct_z))
    if not consts:
        ct_c = tuple(jnp.zeros_like(a) for a in ct_c)
    return [ct_x, *ct_z0, *ct_c, ct_w]


# ---- autodiff ---------------------------------------------------------------------


def _is_zero(t) -> bool:
    return type(t) is ad.Zero


def _instantiate(t, like):
    return jnp.zeros(like.shape, like.dtype) if _is_zero(t) else t


def _zero(aval):
    return ad.Zero(aval.to_tangent_aval() if hasattr(aval, "to_tangent_aval") else aval)


def bptt(x, z0, cs, w, saved, ct_spikes, ct_z, *, stride, consts=True, **static):
    """Bind the BPTT primitive. The kernels take state cotangents with
    stride 1 only: with a larger stride and a state cotangent, the
    every-step states are recomputed by a forward pass first."""
    if stride > 1 and any(not _is_placeholder(a, x) for a in ct_z):
        _, *saved = rec_forward_p.bind(x, *z0, *cs, w, keep=True, stride=1, **static)
        stride = 1
    return rec_bptt_p.bind(x, *z0, *cs, w, *saved, ct_spikes, *ct_z, stride=stride, consts=bool(consts), **static)


def _scan_jvp(primals, tangents, *, keep, stride, model, surrogate, params, hard_reset, **_):
    """The forward's JVP as the ``lax.scan`` form's, checkpointed every
    ``stride`` steps: JAX linearizes and transposes it."""
    f = _scan(model, surrogate, params, hard_reset, stride)
    varying = [i for i, t in enumerate(tangents) if not _is_zero(t)]

    def run(*vary):
        args = list(primals)
        for i, v in zip(varying, vary):
            args[i] = v
        return _forward_outputs(f, args, model, stride, keep)

    return jax.jvp(run, [primals[i] for i in varying], [tangents[i] for i in varying])


def _forward_jvp(primals, tangents, *, keep, stride, **static):
    if static["lowering"] == "auto" and not _policy.RECURRENT_BPTT_KERNEL and not all(map(_is_zero, tangents)):
        return _scan_jvp(primals, tangents, keep=keep, stride=stride, **static)
    x, z0, cs, w = split_forward(static["model"], primals)
    spikes, *saved = rec_forward_p.bind(*primals, keep=True, stride=stride, **static)
    out = [spikes, *(saved if keep else (placeholder(x.dtype) for _ in saved))]
    if all(_is_zero(t) for t in tangents):
        return out, [_zero(jax.typeof(o)) for o in out]
    lin = [_instantiate(t, p) for t, p in zip(tangents, primals)]
    dspikes, *dz = rec_tangent_p.bind(*primals, *saved, *lin, stride=stride, **static)
    if not keep:
        dsaved = [_zero(jax.typeof(o)) for o in out[1:]]
    else:
        dsaved = [_rows(d, stride) for d in dz]
    return out, [dspikes, *dsaved]


def _n_fixed(model):
    s, c = _counts(model)
    return 2 + 2 * s + c


def _tangent_jvp(primals, tangents, **static):
    out = rec_tangent_p.bind(*primals, **static)
    k = _n_fixed(static["model"])
    lin = tangents[k:]
    if all(_is_zero(t) for t in lin):
        return out, [_zero(jax.typeof(o)) for o in out]
    lin = [_instantiate(t, p) for t, p in zip(lin, primals[k:])]
    return out, rec_tangent_p.bind(*primals[:k], *lin, **static)


def _bptt_jvp(primals, tangents, *, stride, consts, **static):
    model = static["model"]
    out = rec_bptt_p.bind(*primals, stride=stride, consts=consts, **static)
    x, z0, cs, w, saved, ct_spikes, ct_z = split_bptt(model, primals)
    t_cts, t_ctz = split_bptt(model, tangents)[5:]
    real = [not _is_placeholder(a, x) for a in ct_z]
    if _is_zero(t_cts) and all(_is_zero(t) or not r for t, r in zip(t_ctz, real)):
        return out, [_zero(jax.typeof(o)) for o in out]
    t_cts = _instantiate(t_cts, ct_spikes)
    t_ctz = [t if (r and not _is_zero(t)) else placeholder(x.dtype) for t, r in zip(t_ctz, real)]
    return out, bptt(x, z0, cs, w, saved, t_cts, t_ctz, stride=stride, consts=consts, **static)


def _nonlinear(op, *operands):
    if any(ad.is_undefined_primal(a) for a in operands):
        raise ValueError(f"spikegrad {op} is linear in its tangents/cotangents only, not in x, z0, c, w or saved")


def _ct(ct, operand):
    return ct if ad.is_undefined_primal(operand) else None


def _maybe_zero(p):
    return ad.Zero(p.aval) if ad.is_undefined_primal(p) else None


def _tangent_transpose(cts, *args, **static):
    x, z0, cs, w, saved, dx, dz0, dc, dw = split_tangent(static["model"], args)
    _nonlinear("neuron_rec_tangent", x, *z0, *cs, w, *saved)
    fixed = [None] * _n_fixed(static["model"])
    lin = (dx, *dz0, *dc, dw)
    ct_spikes, *ct_z = cts
    if _is_zero(ct_spikes) and all(_is_zero(t) for t in ct_z):
        return [*fixed, *(_maybe_zero(a) for a in lin)]
    x_aval = jax.typeof(x)
    ct_spikes = _instantiate(ct_spikes, x_aval)
    ct_z = [placeholder(x_aval.dtype) if _is_zero(t) else t for t in ct_z]
    consts = any(ad.is_undefined_primal(a) for a in dc)
    res = bptt(x, z0, cs, w, saved, ct_spikes, ct_z, consts=consts, **static)
    return [*fixed, *(_ct(r, a) for r, a in zip(res, lin))]


def _bptt_transpose(cts, *args, consts, **static):
    model = static["model"]
    x, z0, cs, w, saved, ct_spikes, ct_z = split_bptt(model, args)
    _nonlinear("neuron_rec_bptt", x, *z0, *cs, w, *saved)
    fixed = [None] * _n_fixed(model)
    real = [ad.is_undefined_primal(a) or not _is_placeholder(a, jax.typeof(x)) for a in ct_z]
    if all(_is_zero(t) for t in cts):
        return [*fixed, _maybe_zero(ct_spikes), *(_maybe_zero(a) if r else None for a, r in zip(ct_z, real))]
    s = len(z0)
    c_x, c_z0, c_c, c_w = cts[0], cts[1 : 1 + s], cts[1 + s : -1], cts[-1]
    dx = _instantiate(c_x, jax.typeof(x))
    dz0 = [_instantiate(t, jax.typeof(a)) for t, a in zip(c_z0, z0)]
    # Without consts, ct_c is zeros whatever the input: its cotangent goes nowhere.
    dc = [_instantiate(t if consts else _zero(jax.typeof(a)), jax.typeof(a)) for t, a in zip(c_c, cs)]
    dw = _instantiate(c_w, jax.typeof(w))
    dspikes, *dz = rec_tangent_p.bind(x, *z0, *cs, w, *saved, dx, *dz0, *dc, dw, **static)
    return [*fixed, _ct(dspikes, ct_spikes), *(_ct(d, a) if r else None for d, a, r in zip(dz, ct_z, real))]


ad.primitive_jvps[rec_forward_p] = _forward_jvp
ad.primitive_jvps[rec_tangent_p] = _tangent_jvp
ad.primitive_jvps[rec_bptt_p] = _bptt_jvp
ad.primitive_transposes[rec_tangent_p] = _tangent_transpose
ad.primitive_transposes[rec_bptt_p] = _bptt_transpose


# ---- batching ---------------------------------------------------------------------
# Rows: a batch axis goes right after time in a sequence and in front of a
# per-neuron operand, so the neuron shape stays [*rows, n].

SEQ, NEURON, WEIGHT = "seq", "neuron", "weight"


def _roles(prim, model):
    s, c = _counts(model)
    state = [NEURON] * (s + c)
    if prim is rec_forward_p:
        return [SEQ, *state, WEIGHT]
    if prim is rec_tangent_p:
        return [SEQ, *state, WEIGHT, *[SEQ] * s, SEQ, *state, WEIGHT]
    return [SEQ, *state, WEIGHT, *[SEQ] * s, SEQ, *[SEQ] * s]


def _fold(a, d, role, size):
    if role == WEIGHT:
        return a
    if role == SEQ:
        if d is None:
            if a.shape == (0,):
                return a
            return jnp.broadcast_to(a[:, None], (a.shape[0], size, *a.shape[1:]))
        return jnp.moveaxis(a, d, 1)
    return jnp.broadcast_to(a[None], (size, *a.shape)) if d is None else jnp.moveaxis(a, d, 0)


_XLA = {}


def _vmapped(prim, args, dims, static):
    """The scan form of ``prim`` under ``vmap``, every result batched on axis 0."""
    return jax.vmap(partial(_XLA[prim], **static), in_axes=list(dims), out_axes=0)(*args), 0


def _batch_rule(prim):
    def rule(args, dims, **static):
        roles = _roles(prim, static["model"])
        weights_batched = any(d is not None for d, r in zip(dims, roles) if r == WEIGHT)
        if prim is rec_bptt_p or weights_batched:
            out, d = _vmapped(prim, args, dims, static)
            return out, [d] * len(out)
        size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
        out = prim.bind(*(_fold(a, d, r, size) for a, d, r in zip(args, dims, roles)), **static)
        if prim is rec_forward_p:
            return out, [1, *([1] if static["keep"] else [None]) * (len(out) - 1)]
        return out, [1] * len(out)

    return rule


for _p, _impl in ((rec_forward_p, xla_forward), (rec_tangent_p, xla_tangent), (rec_bptt_p, xla_bptt)):
    _XLA[_p] = _impl
    batching.primitive_batchers[_p] = _batch_rule(_p)


# ---- lowerings ----------------------------------------------------------------------


def _scan_rule(prim):
    def rule(ctx, *operands, **static):
        return mlir.lower_fun(partial(_XLA[prim], **static), multiple_results=True)(ctx, *operands)

    return rule


def _cpu_rule(prim):
    scan = _scan_rule(prim)

    def rule(ctx, *operands, model, surrogate, params, hard_reset, stride, lowering, keep=None, consts=True):
        if lowering in ("xla", "pallas"):  # no Pallas kernel: the scan form
            static = dict(model=model, surrogate=surrogate, params=params, hard_reset=hard_reset, stride=stride)
            static.update(lowering=lowering, **({"keep": keep} if prim is rec_forward_p else {"consts": consts}))
            return scan(ctx, *operands, **static)
        target = FORWARD_TARGET if prim is rec_forward_p else (BPTT_TARGET if consts else BPTT_STATES_TARGET)
        # BPTT writes ct_x over ct_spikes (the kernel reads a step's row of it
        # before writing that row of ct_x): one [T, *shape] buffer less at its
        # peak; not over a parameter of the program, which XLA would copy.
        aliases = None
        if prim is rec_bptt_p:
            s, c = _counts(model)
            ct_spikes = 2 + 2 * s + c
            aliases = None if _program_argument(operands[ct_spikes]) else {ct_spikes: 0}
        return jax.ffi.ffi_lowering(target, operand_output_aliases=aliases)(
            ctx,
            *operands,
            model=model,
            surrogate=surrogate,
            params=np.asarray(params, dtype=np.float64),
            hard_reset=bool(hard_reset),
            stride=np.int64(stride),
        )

    return rule


for _p in (rec_forward_p, rec_tangent_p, rec_bptt_p):
    mlir.register_lowering(_p, _scan_rule(_p))
for _p in (rec_forward_p, rec_bptt_p):
    mlir.register_lowering(_p, _cpu_rule(_p), platform="cpu")
