"""``exprel(z) = (e^z - 1)/z`` in jnp, with its slope as the JVP: the factor
of brainpy.state's exponential-Euler step ``x + dt exprel(dt J) f(x)`` that the
CobaLIF, ExpIF and AdExIF descriptions (``_models``) differentiate through.

The same split as the Rust kernels' (``src/math/exprel.rs``): the Taylor
series for ``|z| <= 1`` (enough terms for the dtype), the closed forms
``(e^z - 1)/z`` and ``((z - 1) exprel(z) + 1)/z`` beyond, which lose at most
about two bits there. Only ``exp`` and selects, so the Pallas kernels take it too.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

__all__ = ["exprel", "exprel_slope", "exprel_fold"]

#: Terms of the series per float width in bytes (first omitted term below the precision's rounding).
_TERMS = {8: 19, 4: 11, 2: 11}


def _series(z, coefficient, xp):
    terms = _TERMS.get(z.dtype.itemsize, 19)
    acc = xp.zeros_like(z)
    for k in reversed(range(terms)):
        acc = acc * z + coefficient(k)
    return acc


def _parts(z, xp=jnp):
    """``(exprel(z), exprel'(z))``, elementwise, in jnp or NumPy (``xp``)."""
    z = xp.asarray(z)
    near = xp.abs(z) <= 1.0
    zf = xp.where(near, xp.asarray(2.0, z.dtype), z)  # no 0/0 where the series is taken
    value_far = (xp.exp(zf) - 1.0) / zf
    slope_far = ((zf - 1.0) * value_far + 1.0) / zf
    value = xp.where(near, _series(z, lambda k: 1.0 / math.factorial(k + 1), xp), value_far)
    slope = xp.where(near, _series(z, lambda k: (k + 1) / math.factorial(k + 2), xp), slope_far)
    return value, slope


@jax.custom_jvp
def exprel(z):
    """``(e^z - 1)/z`` (1 at 0), accurate near 0; differentiable (the JVP is :func:`exprel_slope`)."""
    return _parts(z)[0]


@exprel.defjvp
def _exprel_jvp(primals, tangents):
    (z,), (dz,) = primals, tangents
    value, slope = _parts(z)
    return value, slope * dz


def exprel_slope(z):
    """``exprel'(z) = ((z - 1) e^z + 1)/z^2`` (1/2 at 0), accurate near 0."""
    return _parts(z)[1]


def exprel_fold(z, xp=jnp):
    """``exprel(z)`` for folding parameters into kernel constants: in NumPy
    (``xp=np``, concrete parameters in float64) or as :func:`exprel` (jnp,
    traced parameters, differentiable)."""
    return exprel(z) if xp is jnp else _parts(z, xp)[0]
