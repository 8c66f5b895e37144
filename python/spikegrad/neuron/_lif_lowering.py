"""Lowerings of the LIF primitives: the Rust kernels (FFI custom calls) on
CPU, split over the neurons when partitioned (``_partitioned_ffi``), the
``lax.scan`` form of the same math (``_lif_math``) elsewhere."""

from __future__ import annotations

import numpy as np
from jax.interpreters import mlir

from .. import _ffi  # noqa: F401  (the targets must be registered before use)
from .._formulas import formula
from .._partitioned_ffi import SEQUENCE, STATE, time_major_ffi_lowering
from . import _lif_math
from ._lif_primitives import lif_bptt_p, lif_forward_p, lif_tangent_p, no_ct_v


def _attrs(surrogate, params, lif, hard_reset):
    return dict(
        surrogate=surrogate,
        params=np.asarray(params, dtype=np.float64),
        lif=np.asarray(lif, dtype=np.float64),
        hard_reset=bool(hard_reset),
    )


def _ffi_rule(target, operand_roles, result_roles):
    call = time_major_ffi_lowering(target, operand_roles, result_roles)

    def rule(ctx, *operands, surrogate, params, lif, hard_reset, keep_v=None, **extra):
        # keep_v is not an attribute: the kernel reads it from v's shape.
        return call(ctx, *operands, **_attrs(surrogate, params, lif, hard_reset), **extra)

    return rule


def _grad_fn(surrogate, params, dtype):
    f = formula(surrogate)
    return lambda u: f(u, *params).astype(dtype)


def _forward_xla(x, v0, *, surrogate, params, lif, hard_reset, keep_v):
    spikes, v = _lif_math.xla_forward(x, v0, lif=lif, hard=hard_reset)
    return spikes, v if keep_v else no_ct_v(v.dtype)


def _tangent_xla(v, v0, dx, dv0, *, surrogate, params, lif, hard_reset):
    grad = _grad_fn(surrogate, params, v.dtype)
    return _lif_math.xla_tangent(v, v0, dx, dv0, grad=grad, lif=lif, hard=hard_reset)


def _bptt_xla(v, v0, ct_spikes, ct_v, *, surrogate, params, lif, hard_reset, has_ct_v):
    grad = _grad_fn(surrogate, params, v.dtype)
    return _lif_math.xla_bptt(v, v0, ct_spikes, ct_v if has_ct_v else None, grad=grad, lif=lif, hard=hard_reset)


_S, _Q = STATE, SEQUENCE
for _prim, _target, _xla, _roles in (
    (lif_forward_p, "spikegrad_lif_forward", _forward_xla, ([_Q, _S], [_Q, _Q])),
    (lif_tangent_p, "spikegrad_lif_tangent", _tangent_xla, ([_Q, _S, _Q, _S], [_Q, _Q])),
    (lif_bptt_p, "spikegrad_lif_bptt", _bptt_xla, ([_Q, _S, _Q, _Q], [_Q, _S])),
):
    mlir.register_lowering(_prim, _ffi_rule(_target, *_roles), platform="cpu")
    mlir.register_lowering(_prim, mlir.lower_fun(_xla, multiple_results=True))
