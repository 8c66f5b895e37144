"""The three primitives of every fused neuron model, with autodiff and batching.

With ``S = model.n_states`` and ``C = model.n_consts`` (``_models``)::

    neuron_forward_p(x, *z0, *c) -> (spikes, *saved)
    neuron_tangent_p(x, *z0, *c, *saved, dx, *dz0, *dc) -> (dspikes, *dz)
    neuron_bptt_p(x, *z0, *c, *saved, ct_spikes, *ct_z) -> (ct_x, *ct_z0, *ct_c)

``x`` and every other sequence are time-major ``[T, *shape]``; the initial
states ``z0`` and the kernel constants ``c`` (and their tangents and
cotangents) are per neuron, ``[*shape]``. The states, constants,
checkpoints and their (co)tangents share one compute dtype, float32 or
float64; the sequences ``x``, ``dx`` and ``ct_spikes`` and the results
``spikes``, ``dspikes`` and ``ct_x`` have ``x``'s dtype, the compute dtype or,
with float32, float16 or bfloat16 (the kernels widen on load and round to
nearest even on store, once: the float32 computation on the widened input).

* The forward primitive runs the time loop. With ``keep`` it also returns,
  per state, the checkpoints ``[ceil(T/stride), *shape]``: row ``j`` is the
  state after step ``min((j+1)*stride, T)`` (stride 1: every state
  sequence; the last row is always the final state). Without ``keep`` they
  are ``(0,)`` placeholders and nothing is written. Without ``spikes`` the
  spikes are a ``(0,)`` placeholder too: a gradient's forward pass whose
  spikes nothing reads (the grad of a sum) keeps only the checkpoints. The
  forward is bound with ``spikes=True``; dead-code elimination
  (``_forward_dce``, run when ``jit`` lowers a program) turns it off.
* The tangent primitive is the forward's JVP, linear in ``(dx, dz0, dc)``;
  ``dz`` are the tangents of the every-step state sequences. It recomputes
  the states from ``x, z0, c``; ``saved`` rides along for its transpose.
* The BPTT primitive is the tangent's transpose: from the cotangents of the
  spikes and of the every-step states (``ct_z``; a ``(0,)`` placeholder
  stands for a zero one) to those of ``x``, ``z0`` and ``c`` (``ct_c`` summed
  over time). It recomputes each segment of ``stride`` steps from its
  checkpoint. With ``consts=False`` (a transpose in which no constant is
  differentiated) ``ct_c`` is zeros, and the CPU kernel skips its arithmetic.
  With ``in_place`` the CPU kernel writes ``ct_x`` over ``ct_spikes``' buffer
  (an XLA alias): set where ``ct_spikes`` is traced, so that a cotangent
  computed in the program (a constant, a readout's backward pass) needs no
  buffer of its own; for an array given eagerly XLA would copy it first. The
  CPU lowering drops it where ``ct_spikes`` is a parameter of the program,
  which XLA would copy too (``_lowering._program_argument``).

The tangent primitive's transpose is the BPTT primitive and the BPTT
primitive's transpose is the tangent primitive, so ``jvp``/``jacfwd`` run
forward + tangent kernels and ``grad``/``vjp``/``jacrev`` forward + BPTT
kernels; a reverse pass keeps ``x``, ``z0``, ``c`` and the checkpoints.
As for the surrogates, ``g'`` is not differentiated again: the tangent and
BPTT primitives have zero derivative w.r.t. ``x``, ``z0``, ``c`` and
``saved``.

Static parameters (all three): ``model`` (a ``_models.MODELS`` name),
``surrogate`` (native name), ``params`` (its floats), ``hard_reset`` (bool),
``stride`` (int >= 1) and ``lowering`` (the lowering setting in force when the
op was traced, ``_policy``); the forward primitive also ``keep`` and
``spikes`` (bools), the BPTT primitive ``consts`` and ``in_place`` (bools).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax._src import core as jax_core
from jax._src import dispatch
from jax._src.interpreters import partial_eval as pe
from jax.extend.core import Primitive
from jax.interpreters import ad, batching

from ._models import model as _model

__all__ = [
    "neuron_forward_p",
    "neuron_tangent_p",
    "neuron_bptt_p",
    "placeholder",
    "checkpoint_rows",
    "checkpoint_steps",
    "compute_dtype",
]

neuron_forward_p = Primitive("spikegrad_neuron_forward")
neuron_tangent_p = Primitive("spikegrad_neuron_tangent")
neuron_bptt_p = Primitive("spikegrad_neuron_bptt")

for _p in (neuron_forward_p, neuron_tangent_p, neuron_bptt_p):
    _p.multiple_results = True
    _p.def_impl(partial(dispatch.apply_primitive, _p))

_DTYPES = (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64))
_HALF = (jnp.dtype(jnp.float16), jnp.dtype(jnp.bfloat16))


def compute_dtype(dtype):
    """The dtype the kernels compute and keep the states in for sequences of
    ``dtype``: float32 for float16/bfloat16, else ``dtype``."""
    dtype = jnp.dtype(dtype)
    return jnp.dtype(jnp.float32) if dtype in _HALF else dtype


def placeholder(dtype) -> jax.Array:
    """The ``(0,)`` stand-in for an absent sequence (unsaved checkpoints, a zero
    state cotangent)."""
    return jnp.zeros((0,), dtype)


def checkpoint_rows(steps: int, stride: int) -> int:
    """How many checkpoints a sequence of ``steps`` steps keeps: ``ceil(T/stride)``."""
    return -(-steps // stride)


def checkpoint_steps(steps: int, stride: int):
    """The (0-based) step index each checkpoint row holds the state after."""
    return np.minimum(np.arange(1, checkpoint_rows(steps, stride) + 1) * stride, steps) - 1


def split_forward(model: str, args):
    m = _model(model)
    s, c = m.n_states, m.n_consts
    return args[0], tuple(args[1 : 1 + s]), tuple(args[1 + s : 1 + s + c])


def split_tangent(model: str, args):
    """``(x, z0, c, saved, dx, dz0, dc)``."""
    m = _model(model)
    s, c = m.n_states, m.n_consts
    x, z0, cs = split_forward(model, args)
    i = 1 + s + c
    saved = tuple(args[i : i + s])
    dx = args[i + s]
    dz0 = tuple(args[i + s + 1 : i + 2 * s + 1])
    dc = tuple(args[i + 2 * s + 1 : i + 2 * s + 1 + c])
    return x, z0, cs, saved, dx, dz0, dc


def split_bptt(model: str, args):
    """``(x, z0, c, saved, ct_spikes, ct_z)``."""
    m = _model(model)
    s, c = m.n_states, m.n_consts
    x, z0, cs = split_forward(model, args)
    i = 1 + s + c
    return x, z0, cs, tuple(args[i : i + s]), args[i + s], tuple(args[i + s + 1 : i + 2 * s + 1])


def _counts(model: str):
    m = _model(model)
    return m.n_states, m.n_consts


# ---- abstract evaluation -------------------------------------------------


def _shape_str(a):
    return list(a.shape)


def _check(op: str, model: str, stride: int, args, expected: int, io=(0,)):
    """The common checks; ``io``: the positions of the sequences in ``x``'s
    dtype (the others are in the compute dtype). Returns ``(T, shape, dtype)``."""
    s, c = _counts(model)
    if len(args) != expected:
        raise TypeError(
            f"spikegrad {op}: model {model!r} ({s} states, {c} constants) takes {expected} operands, got {len(args)}"
        )
    if not isinstance(stride, int) or isinstance(stride, bool) or stride < 1:
        raise TypeError(f"spikegrad {op}: stride must be an int >= 1, got {stride!r}")
    x = args[0]
    if x.ndim < 1:
        raise TypeError(f"spikegrad {op}: x must be a time-major [T, *shape] sequence, got shape {_shape_str(x)}")
    ct = compute_dtype(x.dtype)
    if ct not in _DTYPES or any(a.dtype != (x.dtype if i in io else ct) for i, a in enumerate(args)):
        names = [str(a.dtype) for a in args]
        raise TypeError(
            f"spikegrad {op}: operands must share one dtype, float32 or float64, except that x, dx and "
            f"ct_spikes may be float16 or bfloat16 with float32 for the rest; got {names}"
        )
    return x.shape[0], tuple(x.shape[1:]), x.dtype


def _expect(op: str, what: str, a, shapes):
    if tuple(a.shape) not in [tuple(s) for s in shapes]:
        want = " or ".join(str(list(s)) for s in shapes)
        raise TypeError(f"spikegrad {op}: {what} has shape {_shape_str(a)}, expected {want}")


def _aval(like, shape, dtype=None):
    return like.update(shape=tuple(shape), dtype=like.dtype if dtype is None else dtype, weak_type=False)


def _forward_abstract(*args, model, keep, spikes, stride, **_):
    s, c = _counts(model)
    steps, shape, _ = _check("neuron_forward", model, stride, args, 1 + s + c)
    x, z0, cs = split_forward(model, args)
    m = _model(model)
    for name, a in zip(m.states, z0):
        _expect("neuron_forward", f"initial state {name}", a, [shape])
    for name, a in zip(m.consts, cs):
        _expect("neuron_forward", f"constant {name}", a, [shape])
    saved = (checkpoint_rows(steps, stride), *shape) if keep else (0,)
    return [_aval(x, x.shape if spikes else (0,)), *(_aval(x, saved, compute_dtype(x.dtype)) for _ in range(s))]


def _check_linearization(op, model, stride, x, z0, cs, saved):
    steps, shape = x.shape[0], tuple(x.shape[1:])
    m = _model(model)
    for name, a in zip(m.states, z0):
        _expect(op, f"initial state {name}", a, [shape])
    for name, a in zip(m.consts, cs):
        _expect(op, f"constant {name}", a, [shape])
    for name, a in zip(m.states, saved):
        _expect(op, f"checkpoints of {name}", a, [(checkpoint_rows(steps, stride), *shape)])
    return steps, shape


def _tangent_abstract(*args, model, stride, **_):
    s, c = _counts(model)
    _check("neuron_tangent", model, stride, args, 2 + 3 * s + 2 * c, io=(0, 1 + 2 * s + c))
    x, z0, cs, saved, dx, dz0, dc = split_tangent(model, args)
    _, shape = _check_linearization("neuron_tangent", model, stride, x, z0, cs, saved)
    m = _model(model)
    _expect("neuron_tangent", "dx", dx, [x.shape])
    for name, a in zip(m.states, dz0):
        _expect("neuron_tangent", f"tangent of initial state {name}", a, [shape])
    for name, a in zip(m.consts, dc):
        _expect("neuron_tangent", f"tangent of constant {name}", a, [shape])
    return [_aval(x, x.shape), *(_aval(x, x.shape, compute_dtype(x.dtype)) for _ in range(s))]


def _bptt_abstract(*args, model, stride, **_):
    s, c = _counts(model)
    _check("neuron_bptt", model, stride, args, 2 + 3 * s + c, io=(0, 1 + 2 * s + c))
    x, z0, cs, saved, ct_spikes, ct_z = split_bptt(model, args)
    _, shape = _check_linearization("neuron_bptt", model, stride, x, z0, cs, saved)
    m = _model(model)
    _expect("neuron_bptt", "ct_spikes", ct_spikes, [x.shape])
    for name, a in zip(m.states, ct_z):
        _expect("neuron_bptt", f"cotangent of state {name}", a, [x.shape, (0,)])
    return [_aval(x, x.shape), *(_aval(x, shape, compute_dtype(x.dtype)) for _ in range(s + c))]


neuron_forward_p.def_abstract_eval(_forward_abstract)
neuron_tangent_p.def_abstract_eval(_tangent_abstract)
neuron_bptt_p.def_abstract_eval(_bptt_abstract)


# ---- autodiff ------------------------------------------------------------


def _is_zero(t) -> bool:
    return type(t) is ad.Zero


def _instantiate(t, like):
    return jnp.zeros(like.shape, like.dtype) if _is_zero(t) else t


def _zero(aval):
    return ad.Zero(aval.to_tangent_aval() if hasattr(aval, "to_tangent_aval") else aval)


def _is_placeholder(a, steps_shape) -> bool:
    """A ``(0,)`` state cotangent stands for zero (for ``T = 0`` with no neuron
    axes a real one has that shape too, and is empty alike)."""
    return tuple(a.shape) == (0,) and tuple(steps_shape) != (0,)


def bptt(x, z0, cs, saved, ct_spikes, ct_z, *, stride, consts=True, **static):
    """Bind the BPTT primitive (``consts``: compute the constants' cotangents,
    else zeros; ``in_place`` is chosen here). The kernels take state
    cotangents with stride 1 only: with a larger stride and a state
    cotangent, the every-step states are recomputed by a forward pass and the
    BPTT runs with stride 1."""
    static.pop("in_place", None)
    in_place = isinstance(ct_spikes, jax.core.Tracer)
    if stride > 1 and any(not _is_placeholder(a, x.shape) for a in ct_z):
        _, *saved = neuron_forward_p.bind(x, *z0, *cs, keep=True, spikes=False, stride=1, **static)
        stride = 1
    return neuron_bptt_p.bind(
        x, *z0, *cs, *saved, ct_spikes, *ct_z, stride=stride, consts=bool(consts), in_place=in_place, **static
    )


def _forward_jvp(primals, tangents, *, keep, spikes, stride, **static):
    model = static["model"]
    x, z0, cs = split_forward(model, primals)
    tx, tz0, tc = split_forward(model, tangents)
    # The tangent (and so the BPTT) pass needs the checkpoints: always keep them.
    out_spikes, *saved = neuron_forward_p.bind(*primals, keep=True, spikes=spikes, stride=stride, **static)
    out = (out_spikes, *(saved if keep else (placeholder(compute_dtype(x.dtype)) for _ in saved)))
    if all(_is_zero(t) for t in tangents):
        return out, [_zero(jax.typeof(o)) for o in out]
    dx = _instantiate(tx, x)
    dz0 = [_instantiate(t, p) for t, p in zip(tz0, z0)]
    dc = [_instantiate(t, p) for t, p in zip(tc, cs)]
    dspikes, *dz = neuron_tangent_p.bind(*primals, *saved, dx, *dz0, *dc, stride=stride, **static)
    if not spikes:
        dspikes = _zero(jax.typeof(out_spikes))
    if not keep:
        dsaved = [_zero(jax.typeof(o)) for o in out[1:]]
    elif stride == 1:
        dsaved = dz
    else:
        rows = checkpoint_steps(x.shape[0], stride)
        dsaved = [d[rows] for d in dz]
    return out, [dspikes, *dsaved]


def _tangent_jvp(primals, tangents, **static):
    out = neuron_tangent_p.bind(*primals, **static)
    s, c = _counts(static["model"])
    n_fixed = 1 + 2 * s + c
    lin = tangents[n_fixed:]
    if all(_is_zero(t) for t in lin):
        return out, [_zero(jax.typeof(o)) for o in out]
    lin = [_instantiate(t, p) for t, p in zip(lin, primals[n_fixed:])]
    return out, neuron_tangent_p.bind(*primals[:n_fixed], *lin, **static)


def _bptt_jvp(primals, tangents, *, stride, consts, **static):
    model = static["model"]
    out = neuron_bptt_p.bind(*primals, stride=stride, consts=consts, **static)
    x, z0, cs, saved, ct_spikes, ct_z = split_bptt(model, primals)
    _, _, _, _, t_cts, t_ctz = split_bptt(model, tangents)
    real = [not _is_placeholder(a, x.shape) for a in ct_z]
    if _is_zero(t_cts) and all(_is_zero(t) or not r for t, r in zip(t_ctz, real)):
        return out, [_zero(jax.typeof(o)) for o in out]
    t_cts = _instantiate(t_cts, ct_spikes)
    t_ctz = [t if (r and not _is_zero(t)) else placeholder(compute_dtype(x.dtype)) for t, r in zip(t_ctz, real)]
    return out, bptt(x, z0, cs, saved, t_cts, t_ctz, stride=stride, consts=consts, **static)


def _nonlinear(op, *operands):
    if any(ad.is_undefined_primal(a) for a in operands):
        raise ValueError(f"spikegrad {op} is linear in its tangents/cotangents only, not in x, z0, c or saved")


def _ct(ct, operand):
    """The cotangent of a linear operand: ``ct`` if the operand is being
    transposed, else None."""
    return ct if ad.is_undefined_primal(operand) else None


def _maybe_zero(p):
    return ad.Zero(p.aval) if ad.is_undefined_primal(p) else None


def _tangent_transpose(cts, *args, **static):
    model = static["model"]
    x, z0, cs, saved, dx, dz0, dc = split_tangent(model, args)
    _nonlinear("neuron_tangent", x, *z0, *cs, *saved)
    fixed = [None] * (1 + len(z0) + len(cs) + len(saved))
    ct_spikes, *ct_z = cts
    if _is_zero(ct_spikes) and all(_is_zero(t) for t in ct_z):
        return [*fixed, *(_maybe_zero(a) for a in (dx, *dz0, *dc))]
    x_aval = jax.typeof(x)
    ct_spikes = _instantiate(ct_spikes, x_aval)
    ct_z = [placeholder(compute_dtype(x_aval.dtype)) if _is_zero(t) else t for t in ct_z]
    # The constants' cotangents only where a constant is being differentiated
    # (a traced or trained parameter); Python constants have none.
    consts = any(ad.is_undefined_primal(a) for a in dc)
    ct_x, *rest = bptt(x, z0, cs, saved, ct_spikes, ct_z, consts=consts, **static)
    ct_z0, ct_c = rest[: len(z0)], rest[len(z0) :]
    return [
        *fixed,
        _ct(ct_x, dx),
        *(_ct(t, a) for t, a in zip(ct_z0, dz0)),
        *(_ct(t, a) for t, a in zip(ct_c, dc)),
    ]


def _bptt_transpose(cts, *args, consts, in_place, **static):
    model = static["model"]
    x, z0, cs, saved, ct_spikes, ct_z = split_bptt(model, args)
    _nonlinear("neuron_bptt", x, *z0, *cs, *saved)
    fixed = [None] * (1 + len(z0) + len(cs) + len(saved))
    real = [ad.is_undefined_primal(a) or not _is_placeholder(a, jax.typeof(x).shape) for a in ct_z]
    if all(_is_zero(t) for t in cts):
        return [*fixed, _maybe_zero(ct_spikes), *(_maybe_zero(a) if r else None for a, r in zip(ct_z, real))]
    c_x, *rest = cts
    c_z0, c_c = rest[: len(z0)], rest[len(z0) :]
    dx = _instantiate(c_x, jax.typeof(x))
    dz0 = [_instantiate(t, jax.typeof(a)) for t, a in zip(c_z0, z0)]
    # Without consts, ct_c is zeros whatever the input: its cotangent goes nowhere.
    dc = [_instantiate(t if consts else _zero(jax.typeof(a)), jax.typeof(a)) for t, a in zip(c_c, cs)]
    dspikes, *dz = neuron_tangent_p.bind(x, *z0, *cs, *saved, dx, *dz0, *dc, **static)
    return [*fixed, _ct(dspikes, ct_spikes), *(_ct(d, a) if r else None for d, a, r in zip(dz, ct_z, real))]


ad.primitive_jvps[neuron_forward_p] = _forward_jvp
ad.primitive_jvps[neuron_tangent_p] = _tangent_jvp
ad.primitive_jvps[neuron_bptt_p] = _bptt_jvp
ad.primitive_transposes[neuron_tangent_p] = _tangent_transpose
ad.primitive_transposes[neuron_bptt_p] = _bptt_transpose


# ---- batching ------------------------------------------------------------
# A batch axis of a sequence goes right after time, of a per-neuron operand
# (state, constant) in front: the kernels then see a larger population. An
# unbatched (0,) placeholder stays what it is.

SEQ, NEURON = "seq", "neuron"


def _seq(a, d, size):
    if d is None:
        if a.shape == (0,) and a.ndim == 1:
            return a
        return jnp.broadcast_to(a[:, None], (a.shape[0], size, *a.shape[1:]))
    return jnp.moveaxis(a, d, 1)


def _neuron(a, d, size):
    if d is None:
        return jnp.broadcast_to(a[None], (size, *a.shape))
    return jnp.moveaxis(a, d, 0)


def _batched(args, dims, roles):
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    return [(_seq if r == SEQ else _neuron)(a, d, size) for a, d, r in zip(args, dims, roles)]


def _roles(prim, model):
    s, c = _counts(model)
    state = [NEURON] * (s + c)
    if prim is neuron_forward_p:
        return [SEQ, *state]
    if prim is neuron_tangent_p:
        return [SEQ, *state, *[SEQ] * s, SEQ, *state]
    return [SEQ, *state, *[SEQ] * s, SEQ, *[SEQ] * s]


def _forward_batch(args, dims, *, keep, spikes, **static):
    batched = _batched(args, dims, _roles(neuron_forward_p, static["model"]))
    out = neuron_forward_p.bind(*batched, keep=keep, spikes=spikes, **static)
    return out, [1 if spikes else None, *([1] if keep else [None]) * (len(out) - 1)]


def _tangent_batch(args, dims, **static):
    out = neuron_tangent_p.bind(*_batched(args, dims, _roles(neuron_tangent_p, static["model"])), **static)
    return out, [1] * len(out)


def _bptt_batch(args, dims, **static):
    model = static["model"]
    batched = _batched(args, dims, _roles(neuron_bptt_p, model))
    out = bptt(*split_bptt(model, batched), **static)
    return out, [1, *[0] * (len(out) - 1)]


batching.primitive_batchers[neuron_forward_p] = _forward_batch
batching.primitive_batchers[neuron_tangent_p] = _tangent_batch
batching.primitive_batchers[neuron_bptt_p] = _bptt_batch


# ---- dead-code elimination -------------------------------------------------


def _forward_dce(used_outputs, *args):
    """Drop a forward pass nothing reads; a forward pass whose spikes nothing
    reads (a gradient's, when the loss is a sum of them) writes none: the
    ``[T, *shape]`` spike buffer of such a program goes. ``args``: the
    equation, after the live inputs from jax 0.12 on."""
    eqn = args[-1]
    if not any(used_outputs):
        return [False] * len(eqn.invars), None
    if used_outputs[0] or not eqn.params["spikes"]:
        return [True] * len(eqn.invars), eqn
    x = eqn.invars[0].aval
    dropped = jax_core.DropVar(_aval(x, (0,)))
    new = eqn.replace(params={**eqn.params, "spikes": False}, outvars=[dropped, *eqn.outvars[1:]])
    return [True] * len(eqn.invars), new


pe.dce_rules[neuron_forward_p] = _forward_dce
