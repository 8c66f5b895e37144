"""The two JAX primitives behind every native surrogate, with their autodiff
and batching rules. Lowerings are in ``_lowering``.

``spike_p(x)``                 the Heaviside step, 1 where ``x >= 0``.
``surrogate_grad_p(x, t)``     ``t * g'(x)``: one fused kernel, linear in ``t``.

The JVP of ``spike_p`` is ``surrogate_grad_p(x, tx)``. ``surrogate_grad_p`` is
linear in ``t`` and its transpose is itself (``g'(x)`` is a diagonal
Jacobian), so forward mode (jvp, jacfwd, linearize) and reverse mode (grad,
vjp, jacrev) run the same Rust kernel, and a reverse pass keeps only ``x`` as
its residual. Where the gradient runs as XLA code instead (calls that
``_policy.resolve`` gives to XLA on the CPU), the JVP is
``surrogate_grad_p(x, 1) * tx``, braintools' own structure: a reverse pass
then computes ``g'(x)`` with the forward pass and keeps it as the residual
(the same size as ``x``; float32 for float16/bfloat16 ``x``, so that the
product with the tangent is still rounded once). In a ``lax.scan`` XLA then fuses ``g'(x)`` into
the forward loop's store; computed in the backward loop, where its value
feeds both the carried cotangent and the stacked gradient, XLA's CPU fusion
gives each exponential a kernel of its own (three more kernels per step for
MultiGaussianGrad; docs/perf.md, "In loops").

The tangent of ``surrogate_grad_p`` w.r.t. ``x`` follows the braintools rules
in force (``_rules``): zero under 0.3's (the surrogate is not differentiated
again; ``hessian`` gives zeros), ``t * g''(x) * tx`` under 0.4's, computed by
XLA from the jnp formula (second order is off the hot path).

Both primitives take the static parameters ``surrogate`` (a name from the
native name table, ``_native.surrogates()``), ``params`` (a tuple of floats)
and ``lowering`` (the lowering setting in force when the op was traced:
``auto``, ``native`` or ``xla``; see ``_policy``). Derived ops (JVP,
transpose, batching) inherit it.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax import lax
from jax._src import core as _core
from jax._src import dispatch
from jax.extend.core import Primitive
from jax.interpreters import ad, batching
from jax.typing import ArrayLike

from ._formulas import xla_grad
from ._policy import LOWERING, resolve
from ._rules import differentiates_surrogate

__all__ = ["spike", "surrogate_grad_apply", "spike_p", "surrogate_grad_p"]

spike_p = Primitive("spikegrad_spike")
surrogate_grad_p = Primitive("spikegrad_surrogate_grad")

for _p in (spike_p, surrogate_grad_p):
    _p.def_impl(partial(dispatch.apply_primitive, _p))


def spike(x: ArrayLike, surrogate: str, params: tuple[float, ...]) -> jax.Array:
    """Heaviside step of ``x`` whose derivative is the named surrogate's ``g'(x)``: the low-level primitive.

    The surrogate classes call it; use them (``spikegrad.surrogate``) unless a
    surrogate is known only by its native name.

    Parameters
    ----------
    x : ArrayLike
        A float16, bfloat16, float32 or float64 array.
    surrogate : str
        The surrogate's native name, e.g. ``"sigmoid"`` or ``"multi_gaussian"``
        (the ``_native_name`` of its class; docs/family.md lists them).
    params : tuple of float
        Its parameters, in the kernel's order (the class's ``_param_names``).

    Returns
    -------
    jax.Array
        1 where ``x >= 0``, else 0, in ``x``'s shape and dtype.

    Raises
    ------
    ValueError
        For an unknown surrogate name, or parameters of the wrong number or value.
    TypeError
        For another dtype, when traced.

    Examples
    --------
    >>> import jax
    >>> import jax.numpy as jnp
    >>> import spikegrad
    >>> x = jnp.array([-1.0, 0.0, 1.0])
    >>> print(spikegrad.spike(x, "sigmoid", (4.0,)))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spikegrad.spike(x, "sigmoid", (4.0,)).sum())(x).round(4))
    [0.0707 1.     0.0707]
    """
    return spike_p.bind(x, surrogate=surrogate, params=tuple(params), lowering=LOWERING.get())


def surrogate_grad_apply(x: ArrayLike, t: ArrayLike, surrogate: str, params: tuple[float, ...]) -> jax.Array:
    """``t * g'(x)`` with the named surrogate: the fused gradient kernel, low level.

    What the spike's JVP and transpose compute; linear in ``t``.

    Parameters
    ----------
    x : ArrayLike
        A float16, bfloat16, float32 or float64 array.
    t : ArrayLike
        The tangent or cotangent, with ``x``'s shape and dtype.
    surrogate : str
        The surrogate's native name (as for ``spike``).
    params : tuple of float
        Its parameters, in the kernel's order.

    Returns
    -------
    jax.Array
        ``t * g'(x)``, computed in one pass (halves in float32, rounded once).

    Raises
    ------
    ValueError
        For an unknown surrogate name, or parameters of the wrong number or value.
    TypeError
        When traced, for another dtype, or ``x`` and ``t`` of different shapes or dtypes.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> import spikegrad
    >>> x = jnp.array([-1.0, 0.0, 1.0])
    >>> print(spikegrad.surrogate_grad_apply(x, 2 * jnp.ones_like(x), "sigmoid", (4.0,)).round(4))
    [0.1413 2.     0.1413]
    """
    return surrogate_grad_p.bind(x, t, surrogate=surrogate, params=tuple(params), lowering=LOWERING.get())


# ---- abstract evaluation -------------------------------------------------


#: The dtypes both implementations take (the kernels' and the XLA code's).
_DTYPES = tuple(jnp.dtype(d) for d in (jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64))


def _check_dtype(op: str, x) -> None:
    """Refuse other dtypes when tracing, whichever implementation the lowering
    setting picks later (the kernels would refuse them at run time)."""
    if x.dtype not in _DTYPES:
        raise TypeError(
            f"spikegrad {op}: unsupported dtype {x.dtype} (supported: {', '.join(d.name for d in _DTYPES)})"
        )


def _spike_abstract(x, *, surrogate, params, lowering):
    _check_dtype("heaviside", x)
    return x.update(shape=x.shape, dtype=x.dtype, weak_type=x.weak_type)


def _grad_abstract(x, t, *, surrogate, params, lowering):
    if x.shape != t.shape or x.dtype != t.dtype:
        raise TypeError(
            "spikegrad surrogate_grad: x and t must have the same shape and dtype, "
            f"got x {x.dtype}{list(x.shape)} and t {t.dtype}{list(t.shape)}"
        )
    _check_dtype("surrogate_grad", x)
    # Inside shard_map the result varies over the manual axes x varies over;
    # a t varying over other axes would be mistyped, so refuse it.
    vary_x, vary_t = (_core.standard_vma_rule(surrogate_grad_p.name, a) for a in (x, t))
    if vary_x != vary_t:
        raise TypeError(
            "spikegrad surrogate_grad: inside shard_map, x and t must vary over the "
            f"same mesh axes, got x over {sorted(vary_x)} and t over {sorted(vary_t)}; "
            "cast the invariant one to varying first (jax.lax.pcast(..., to='varying') "
            "or jax.lax.pvary on older jax)"
        )
    return x.update(shape=x.shape, dtype=x.dtype, weak_type=x.weak_type)


spike_p.def_abstract_eval(_spike_abstract)
surrogate_grad_p.def_abstract_eval(_grad_abstract)


# ---- autodiff ------------------------------------------------------------


def _zeros_like_output(y):
    return ad.Zero(jax.typeof(y).to_tangent_aval())


#: Dtypes whose JVP computes g'(x) first when the gradient is XLA code: there
#: g'(x) * t rounds as the fused t * g'(x) does (once, in the same dtype).
_G_FIRST_DTYPES = (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64))
#: Halves compute g'(x) first in float32 and keep it in float32, so that
#: g'(x) * t is still rounded once (to the half type, after the product).
_HALF_DTYPES = (jnp.dtype(jnp.float16), jnp.dtype(jnp.bfloat16))


def _spike_jvp(primals, tangents, *, surrogate, params, lowering):
    (x,), (tx,) = primals, tangents
    # stop_gradient: an outer derivative of this primal output is zero, so a
    # second derivative keeps only the terms braintools keeps (its rule
    # recomputes the step with a plain comparison). E.g. for x * spike(x) the
    # second derivative is g'(x), as in braintools, not 2 g'(x).
    y = lax.stop_gradient(spike_p.bind(x, surrogate=surrogate, params=params, lowering=lowering))
    if type(tx) is ad.Zero:
        return y, _zeros_like_output(y)
    if resolve(lowering, "grad", surrogate, x.size, x.dtype) == "xla":
        # g'(x) from x alone, then times the tangent (see the module docstring).
        if x.dtype in _G_FIRST_DTYPES:
            g = surrogate_grad_p.bind(x, lax.full_like(x, 1), surrogate=surrogate, params=params, lowering=lowering)
            return y, g * tx
        if x.dtype in _HALF_DTYPES:
            # XLA code whatever the float32 operand's own choice would be:
            # the choice is made for the half-precision call.
            xf = x.astype(jnp.float32)
            g = surrogate_grad_p.bind(xf, lax.full_like(xf, 1), surrogate=surrogate, params=params, lowering="xla")
            return y, (g * tx.astype(jnp.float32)).astype(x.dtype)
    return y, surrogate_grad_p.bind(x, tx, surrogate=surrogate, params=params, lowering=lowering)


def _grad_jvp(primals, tangents, *, surrogate, params, lowering):
    x, t = primals
    tx, tt = tangents
    y = surrogate_grad_p.bind(x, t, surrogate=surrogate, params=params, lowering=lowering)
    terms = []
    if type(tt) is not ad.Zero:
        terms.append(surrogate_grad_p.bind(x, tt, surrogate=surrogate, params=params, lowering=lowering))
    # d/dx of g'(x): zero under braintools 0.3's rules, g''(x) under 0.4's.
    if type(tx) is not ad.Zero and differentiates_surrogate():
        _, dx_term = jax.jvp(lambda x_: xla_grad(x_, t, surrogate=surrogate, params=params), (x,), (tx,))
        terms.append(dx_term)
    if not terms:
        return y, _zeros_like_output(y)
    return y, terms[0] if len(terms) == 1 else terms[0] + terms[1]


def _grad_transpose(ct, x, t, *, surrogate, params, lowering):
    if ad.is_undefined_primal(x):
        raise ValueError("spikegrad surrogate_grad is not linear in x")
    if type(ct) is ad.Zero:
        return None, ad.Zero(t.aval)
    return None, surrogate_grad_p.bind(x, ct, surrogate=surrogate, params=params, lowering=lowering)


ad.primitive_jvps[spike_p] = _spike_jvp
ad.primitive_jvps[surrogate_grad_p] = _grad_jvp
ad.primitive_transposes[surrogate_grad_p] = _grad_transpose


# ---- batching ------------------------------------------------------------


def _spike_batch(args, dims, *, surrogate, params, lowering):
    (x,), (d,) = args, dims
    return spike_p.bind(x, surrogate=surrogate, params=params, lowering=lowering), d


def _grad_batch(args, dims, *, surrogate, params, lowering):
    x, t = args
    dx, dt = dims
    if dx == dt:  # both batched on the same axis: elementwise, nothing to move
        return surrogate_grad_p.bind(x, t, surrogate=surrogate, params=params, lowering=lowering), dx
    size = x.shape[dx] if dx is not None else t.shape[dt]
    x = batching.bdim_at_front(x, dx, size)
    t = batching.bdim_at_front(t, dt, size)
    return surrogate_grad_p.bind(x, t, surrogate=surrogate, params=params, lowering=lowering), 0


batching.primitive_batchers[spike_p] = _spike_batch
batching.primitive_batchers[surrogate_grad_p] = _grad_batch


def xla_spike(x):
    """The step in plain jnp: the reference for the non-CPU lowering."""
    return jnp.asarray(x >= 0, dtype=x.dtype)
