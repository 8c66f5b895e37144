"""Lowerings of the fused-neuron primitives, by platform and lowering setting
(the primitives' static ``lowering`` parameter, ``_policy``):

=============  ==============================  ==========================
platform       ``xla``                         other values
=============  ==============================  ==========================
CPU            the ``lax.scan`` form           the Rust kernels (FFI); ``pallas``:
                                               the Pallas kernels, interpreted
CUDA, ROCm     the ``lax.scan`` form           the Pallas kernels
                                               (the ``lax.scan`` form without them)
others         the ``lax.scan`` form           the ``lax.scan`` form; ``pallas``:
                                               the Pallas kernels
=============  ==============================  ==========================

The ``lax.scan`` form is derived from the model description (``_models``)
alone: the forward pass is a scan of ``model.step`` with the Heaviside spike;
the tangent and BPTT passes are ``jax.jvp`` and ``jax.vjp`` of that scan
where the spike is a ``custom_jvp`` Heaviside whose derivative is the
surrogate's ``g'(u)`` (``_formulas.formula``), in the compute dtype. It keeps
no checkpoints for itself: its BPTT recomputes the whole sequence.

The Rust kernels run as time-major FFI custom calls split over the neurons
when partitioned (``_partitioned_ffi.time_major_ffi_lowering``).
"""

from __future__ import annotations

import importlib
from functools import cache

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax._src import config as jax_config
from jax._src.interpreters.mlir import lower_per_platform
from jax.interpreters import mlir
from jaxlib.mlir import ir

from .. import _ffi  # noqa: F401  (the targets must be registered before use)
from .._formulas import check_params, formula
from .._partitioned_ffi import SEQUENCE, STATE, time_major_ffi_lowering
from .._policy import gpu_neuron_kernels
from ._gpu_target import target as gpu_target
from ._models import model as _model
from ._pallas_sharding import lower as lower_per_shard
from ._primitives import (
    checkpoint_steps,
    neuron_bptt_p,
    neuron_forward_p,
    neuron_tangent_p,
    placeholder,
    split_bptt,
    split_forward,
    split_tangent,
)

__all__ = [
    "heaviside",
    "scan_states",
    "xla_forward",
    "xla_tangent",
    "xla_bptt",
    "pallas_backend",
    "pallas_missing",
]

TARGETS = {
    neuron_forward_p: "spikegrad_neuron_forward",
    neuron_tangent_p: "spikegrad_neuron_tangent",
    neuron_bptt_p: "spikegrad_neuron_bptt",
}


# ---- the lax.scan form ---------------------------------------------------


def heaviside(surrogate: str, params) -> jax.custom_jvp:
    """``H(u) = [u >= 0]`` (NaN -> 0) whose derivative is the surrogate's ``g'(u)``."""
    g = formula(surrogate)

    @jax.custom_jvp
    def spike(u):
        return (u >= 0).astype(u.dtype)

    @spike.defjvp
    def _(primals, tangents):
        (u,), (t,) = primals, tangents
        return spike(u), g(u, *params).astype(u.dtype) * t

    return spike


def scan_states(model: str, spike, x, z0, c, hard: bool):
    """``(spikes, states)`` over the leading (time) axis of ``x``: ``states`` is
    the tuple of every-step state sequences ``[T, *shape]``, in model order.
    ``spike`` is any spike function (the ``lax.scan`` path of a user's own
    spike function runs this too); the states keep their dtype."""
    m = _model(model)
    c = tuple(c)

    def step(z, xt):
        zn = tuple(jnp.asarray(new).astype(old.dtype) for new, old in zip(m.step(c, z, xt, spike(m.u(c, z)), hard), z))
        return zn, (spike(m.u(c, zn)), zn)

    _, (spikes, states) = lax.scan(step, tuple(z0), x)
    return spikes, tuple(states)


def _rows(seq, stride):
    return seq if stride == 1 else seq[checkpoint_steps(seq.shape[0], stride)]


def _wide(a, like):
    """A half-precision sequence widened to the states' dtype (``like``'s)."""
    return a.astype(like.dtype)


def xla_forward(x, z0, c, *, model, surrogate, params, hard_reset, stride, keep):
    """The forward primitive's pass in jnp: ``(spikes, saved)``. A half-precision
    ``x`` (float32 states) is widened, the spikes narrowed back."""
    check_params(surrogate, params)
    ct = z0[0]
    spikes, states = scan_states(model, heaviside(surrogate, params), _wide(x, ct), z0, c, hard_reset)
    saved = tuple(_rows(s, stride) for s in states) if keep else tuple(placeholder(ct.dtype) for _ in states)
    return spikes.astype(x.dtype), saved


def xla_tangent(x, z0, c, saved, dx, dz0, dc, *, model, surrogate, params, hard_reset, stride):
    """The tangent primitive's pass in jnp: ``(dspikes, dz)`` (half precision
    as in ``xla_forward``)."""
    check_params(surrogate, params)
    spike = heaviside(surrogate, params)
    ct = z0[0]
    _, (dspikes, dz) = jax.jvp(
        lambda x, z0, c: scan_states(model, spike, x, z0, c, hard_reset),
        (_wide(x, ct), tuple(z0), tuple(c)),
        (_wide(dx, ct), tuple(dz0), tuple(dc)),
    )
    return dspikes.astype(x.dtype), tuple(dz)


def xla_bptt(x, z0, c, saved, ct_spikes, ct_z, *, model, surrogate, params, hard_reset, stride):
    """The BPTT primitive's pass in jnp: ``(ct_x, ct_z0, ct_c)``; ``None`` in
    ``ct_z`` for an absent state cotangent (half precision as in ``xla_forward``)."""
    check_params(surrogate, params)
    spike = heaviside(surrogate, params)
    ct = z0[0]
    xw = _wide(x, ct)
    _, pullback = jax.vjp(lambda x, z0, c: scan_states(model, spike, x, z0, c, hard_reset), xw, tuple(z0), tuple(c))
    ct_z = tuple(jnp.zeros_like(xw) if t is None else t for t in ct_z)
    ct_x, ct_z0, ct_c = pullback((_wide(ct_spikes, ct), ct_z))
    return ct_x.astype(x.dtype), tuple(ct_z0), tuple(ct_c)


# ---- the Pallas backend --------------------------------------------------


#: The modules each platform's Pallas kernels need, beyond ``_pallas``:
#: Pallas itself, the Triton backend's parameters the kernels pass (also in
#: interpret mode) and, on a GPU, Triton's lowering of ``pallas_call``.
PALLAS_MODULES = ("jax.experimental.pallas", "jax.experimental.pallas.triton")
GPU_LOWERING_MODULES = ("jax._src.pallas.triton.pallas_call_registration",)
GPU_PLATFORMS = ("cuda", "rocm")


@cache
def pallas_missing(platform: str = "cpu") -> str | None:
    """What keeps the Pallas kernels from lowering for ``platform`` here.

    Each module the kernels need (``PALLAS_MODULES``; on CUDA and ROCm also
    ``GPU_LOWERING_MODULES``) is imported, not just looked up, so a module
    whose own imports fail (a jaxlib without Triton, a backend removed from
    jax) counts as missing.

    Args:
      platform: the platform lowered for (``"cpu"``, ``"cuda"``, ``"rocm"``, ...).

    Returns:
      None if everything imports, else a message naming the first module
      that does not and why.

    Example:
      >>> pallas_missing("cpu") is None  # jax with Pallas
      True
    """
    needed = (f"{__package__}._pallas", *PALLAS_MODULES)
    if platform in GPU_PLATFORMS:
        needed += GPU_LOWERING_MODULES
    for name in needed:
        try:
            importlib.import_module(name)
        except Exception as e:  # noqa: BLE001 (any failure to import means the module is unusable)
            return f"{name} ({type(e).__name__}: {e})"
    return None


def pallas_backend(platform: str = "cpu"):
    """``spikegrad.neuron._pallas`` if its kernels can lower for ``platform``
    here (``pallas_missing``), else None.

    The module provides, mirroring the primitives (``model`` is the model's
    name; ``interpret`` runs the kernels in Pallas' interpreter)::

        forward(x, z0, c, *, model, surrogate, params, hard_reset, stride, keep, interpret)
            -> (spikes, saved)
        tangent(x, z0, c, saved, dx, dz0, dc, *, model, surrogate, params, hard_reset, stride, interpret)
            -> (dspikes, dz)
        bptt(x, z0, c, saved, ct_spikes, ct_z, *, model, surrogate, params, hard_reset, stride, interpret)
            -> (ct_x, ct_z0, ct_c)

    with ``z0``, ``c``, ``saved``, ``dz0``, ``dc``, ``ct_z`` (None for an absent
    cotangent) and the returned state groups as tuples.

    Args:
      platform: the platform lowered for.

    Returns:
      The module, or None.

    Example:
      >>> pallas_backend("cpu").__name__
      'spikegrad.neuron._pallas'
    """
    if pallas_missing(platform) is not None:
        return None
    return importlib.import_module(f"{__package__}._pallas")


def _pallas(platform: str, required: bool):
    """The Pallas module for ``platform``; None where it cannot lower and is
    not ``required``, a clear error where it is."""
    missing = pallas_missing(platform)
    if missing is not None and required:
        raise NotImplementedError(
            f"spikegrad.neuron: the lowering setting 'pallas' needs jax's Pallas with its "
            f"{'GPU (Triton) backend' if platform in GPU_PLATFORMS else 'Triton parameters'} to lower "
            f"for {platform}, and this installation cannot import {missing}; "
            "use the setting 'auto' or 'xla' for the lax.scan form"
        )
    return pallas_backend(platform)


# ---- one pass, three implementations ---------------------------------------
# Each ``_pass_*`` takes the primitive's flat operands and returns its flat
# results, given ``impl``: "xla" or a Pallas module (with ``interpret``).


def _placeholder_to_none(a, x):
    return None if (tuple(a.shape) == (0,) and tuple(x.shape) != (0,)) else a


def _forward(impl, interpret, *args, model, surrogate, params, hard_reset, stride, keep, spikes, lowering):
    x, z0, c = split_forward(model, args)
    kw = dict(model=model, surrogate=surrogate, params=params, hard_reset=hard_reset, stride=stride, keep=keep)
    if impl == "xla":
        out, saved = xla_forward(x, z0, c, **kw)
    else:
        out, saved = impl.forward(x, tuple(z0), tuple(c), **kw, interpret=interpret)
    return [out if spikes else placeholder(x.dtype), *saved]


def _tangent(impl, interpret, *args, model, surrogate, params, hard_reset, stride, lowering):
    x, z0, c, saved, dx, dz0, dc = split_tangent(model, args)
    kw = dict(model=model, surrogate=surrogate, params=params, hard_reset=hard_reset, stride=stride)
    if impl == "xla":
        dspikes, dz = xla_tangent(x, z0, c, saved, dx, dz0, dc, **kw)
    else:
        dspikes, dz = impl.tangent(x, z0, c, saved, dx, dz0, dc, **kw, interpret=interpret)
    return [dspikes, *dz]


def _bptt(impl, interpret, *args, model, surrogate, params, hard_reset, stride, consts, in_place, lowering):
    x, z0, c, saved, ct_spikes, ct_z = split_bptt(model, args)
    ct_z = tuple(_placeholder_to_none(t, x) for t in ct_z)
    kw = dict(model=model, surrogate=surrogate, params=params, hard_reset=hard_reset, stride=stride)
    if impl == "xla":
        ct_x, ct_z0, ct_c = xla_bptt(x, z0, c, saved, ct_spikes, ct_z, **kw)
    else:
        ct_x, ct_z0, ct_c = impl.bptt(x, z0, c, saved, ct_spikes, ct_z, **kw, interpret=interpret)
    if not consts:  # zeros, as the kernels give (XLA drops the unused arithmetic)
        ct_c = [jnp.zeros_like(a) for a in ct_c]
    return [ct_x, *ct_z0, *ct_c]


_PASSES = {neuron_forward_p: _forward, neuron_tangent_p: _tangent, neuron_bptt_p: _bptt}


def _invariant(avals):
    """``avals`` without the mesh axes they vary over (inside ``shard_map``),
    traced with ``shard_map``'s varying-axes check off, as ``pallas_call``
    traces its own kernel: a ``pallas_call``'s results are typed invariant,
    which the check refuses against varying operands. The lowered types are
    the same either way; each device's call works on its own block."""
    return [a.update(vma=frozenset()) if getattr(a, "vma", None) else a for a in avals]


def _lower(ctx, prim, impl, interpret, operands, static):
    def fn(*args):
        return _PASSES[prim](impl, interpret, *args, **static)

    if impl != "xla":  # the Pallas kernels, per shard of neurons under a partitioner
        ctx = ctx.replace(avals_in=_invariant(ctx.avals_in), avals_out=_invariant(ctx.avals_out))
        with jax_config._check_vma(False):
            return lower_per_shard(ctx, fn, *_roles(prim, static["model"]), *operands)
    return mlir.lower_fun(fn, multiple_results=True)(ctx, *operands)


# ---- the Rust kernels ------------------------------------------------------


@cache
def _roles(prim, model: str):
    m = _model(model)
    s, c = m.n_states, m.n_consts
    Q, S = SEQUENCE, STATE
    state = [S] * (s + c)
    if prim is neuron_forward_p:
        return [Q, *state], [Q] * (1 + s)
    if prim is neuron_tangent_p:
        return [Q, *state, *[Q] * s, Q, *state], [Q] * (1 + s)
    return [Q, *state, *[Q] * s, Q, *[Q] * s], [Q, *state]


#: BPTT without the constants' cotangents (``consts=False``).
BPTT_STATES_TARGET = "spikegrad_neuron_bptt_states"


def _ct_spikes_index(model: str) -> int:
    """The BPTT operand ``ct_spikes``: after ``x``, ``z0``, ``c`` and ``saved``."""
    m = _model(model)
    return 1 + 2 * m.n_states + m.n_consts


@cache
def _ffi_call(prim, model: str, target: str, in_place: bool):
    # In place, BPTT writes ct_x over ct_spikes (the kernels read each row of
    # it before writing that row of ct_x): one [T, *shape] buffer less at the
    # BPTT's peak. XLA copies ct_spikes first where it is read afterwards; a
    # parameter of the program is not written over (`_program_argument`).
    aliases = {_ct_spikes_index(model): 0} if in_place else None
    return time_major_ffi_lowering(target, *_roles(prim, model), aliases)


def _program_argument(value) -> bool:
    """Whether ``value`` is a parameter of the program's entry function
    (``main``): XLA copies such an operand before a call may write over it
    (unless the caller donated it), so BPTT in place would add a copy of the
    ``[T, *shape]`` cotangent where a buffer of its own costs none."""
    try:
        arg = ir.BlockArgument(value)
    except (TypeError, ValueError):
        return False
    parent = arg.owner.owner
    if parent is None:
        return False
    op = parent.operation
    if op.name != "func.func" or "sym_name" not in op.attributes:
        return False
    return ir.StringAttr(op.attributes["sym_name"]).value == "main"


def _native(
    ctx,
    prim,
    operands,
    *,
    model,
    surrogate,
    params,
    hard_reset,
    stride,
    keep=None,
    spikes=None,
    consts=True,
    in_place=False,
    lowering=None,
):
    # keep and spikes (forward) and the absent state cotangents (BPTT) are not
    # attributes: the kernels read them from the element counts (a (0,)
    # placeholder is absent); consts picks the target.
    target = TARGETS[prim] if consts else BPTT_STATES_TARGET
    if in_place:
        in_place = not _program_argument(operands[_ct_spikes_index(model)])
    return _ffi_call(prim, model, target, bool(in_place))(
        ctx,
        *operands,
        model=model,
        surrogate=surrogate,
        params=np.asarray(params, dtype=np.float64),
        hard_reset=bool(hard_reset),
        stride=np.int64(stride),
    )


# ---- the rules ---------------------------------------------------------------


def _cpu_rule(prim):
    def rule(ctx, *operands, **static):
        lowering = static["lowering"]
        if lowering == "pallas":
            return _lower(ctx, prim, _pallas("cpu", True), True, operands, static)
        if lowering == "xla":
            return _lower(ctx, prim, "xla", False, operands, static)
        return _native(ctx, prim, operands, **static)

    return rule


def _gpu_rule(prim, platform):
    def rule(ctx, *operands, **static):
        lowering = static["lowering"]
        # The kernels where the setting asks for them (gpu_neuron_kernels: only
        # 'pallas' until they have passed a run on a GPU); 'auto' and 'native'
        # fall back to the lax.scan form where Pallas cannot lower here.
        backend = _pallas(platform, lowering == "pallas") if gpu_neuron_kernels(lowering) else None
        if backend is None:
            return _lower(ctx, prim, "xla", False, operands, static)
        with gpu_target(platform):  # a GPU to lower for where this machine has none
            return _lower(ctx, prim, backend, False, operands, static)

    return rule


def _default_rule(prim):
    def rule(ctx, *operands, **static):
        if static["lowering"] == "pallas":
            platform = "/".join(ctx.module_context.platforms)
            return _lower(ctx, prim, _pallas(platform, True), False, operands, static)
        return _lower(ctx, prim, "xla", False, operands, static)

    return rule


def _bptt_rule(ctx, *operands, **static):
    """BPTT's one registered rule, lowered in its caller's function (not
    cached in a function of its own), so the CPU rule sees whether ct_spikes
    is a program parameter (`_program_argument`). It picks the platform's rule
    itself; jax's uncached lowering of a primitive with rules per platform
    fails for a program lowered for several platforms (it adds a list to the
    tuple ``ctx.avals_out``), so the list is given here."""
    ctx = ctx.replace(avals_out=list(ctx.avals_out))
    return lower_per_platform(ctx, "spikegrad neuron BPTT", _BPTT_RULES, _BPTT_DEFAULT, (), *operands, **static)


_BPTT_RULES = {"cpu": _cpu_rule(neuron_bptt_p), **{p: _gpu_rule(neuron_bptt_p, p) for p in GPU_PLATFORMS}}
_BPTT_DEFAULT = _default_rule(neuron_bptt_p)


for _prim in TARGETS:
    if _prim is neuron_bptt_p:
        mlir.register_lowering(_prim, _bptt_rule, cacheable=False)
        continue
    mlir.register_lowering(_prim, _cpu_rule(_prim), platform="cpu")
    for _platform in GPU_PLATFORMS:
        mlir.register_lowering(_prim, _gpu_rule(_prim, _platform), platform=_platform)
    mlir.register_lowering(_prim, _default_rule(_prim))
