"""Piecewise surrogates: PiecewiseQuadratic, PiecewiseExp, PiecewiseLeakyRelu."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ._base import NativeSurrogate, functional


class PiecewiseQuadratic(NativeSurrogate):
    r"""Piecewise-quadratic surrogate (triangular gradient):
    ``g'(x) = \alpha - \alpha^2|x|`` for ``|x| \le 1/\alpha``, else 0.

    ``alpha`` (nonzero, default 1.0) sets the width ``1/alpha`` and height.

    Parameters
    ----------
    alpha : ArrayLike, default 1.0
        Nonzero: the height ``alpha`` and the half-width ``1/alpha`` of the triangle.

    Returns
    -------
    jax.Array
        Calling the instance, ``spike_fn(x)``, returns the Heaviside step of ``x`` (1 where
        ``x >= 0``, else 0) in ``x``'s shape and dtype, whose derivative is ``g'(x)``.

    Raises
    ------
    ValueError
        At construction, for a non-finite concrete parameter or one out of its range.
    TypeError
        For a non-real parameter; at the call, for a complex or non-numeric ``x``.

    Examples
    --------
    >>> import jax
    >>> import jax.numpy as jnp
    >>> from spikegrad.surrogate import PiecewiseQuadratic
    >>> spike_fn = PiecewiseQuadratic(alpha=1.0)
    >>> x = jnp.array([-1.0, 0.0, 0.5])
    >>> print(spike_fn(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spike_fn(x).sum())(x).round(4))  # g'(x)
    [0.  1.  0.5]
    """

    _native_name = "piecewise_quadratic"
    _param_names = ("alpha",)

    def __init__(self, alpha: ArrayLike = 1.0) -> None:
        super().__init__(alpha=alpha)

    @staticmethod
    def formula(x, alpha):
        return jnp.where(jnp.abs(x) > 1 / alpha, 0.0, alpha - alpha**2 * jnp.abs(x))

    def surrogate_fun(self, x: ArrayLike) -> jax.Array:
        a = self.alpha
        inner = (-a * jnp.abs(x) / 2 + 1) * a * x + 0.5
        return jnp.where(x < -1 / a, 0.0, jnp.where(x > 1 / a, 1.0, inner))


class PiecewiseExp(NativeSurrogate):
    r"""Piecewise-exponential surrogate: ``g'(x) = \alpha/2\, e^{-\alpha|x|}``.

    ``alpha`` (default 1.0) sets the decay rate.

    Parameters
    ----------
    alpha : ArrayLike, default 1.0
        The decay rate.

    Returns
    -------
    jax.Array
        Calling the instance, ``spike_fn(x)``, returns the Heaviside step of ``x`` (1 where
        ``x >= 0``, else 0) in ``x``'s shape and dtype, whose derivative is ``g'(x)``.

    Raises
    ------
    ValueError
        At construction, for a non-finite concrete parameter or one out of its range.
    TypeError
        For a non-real parameter; at the call, for a complex or non-numeric ``x``.

    Examples
    --------
    >>> import jax
    >>> import jax.numpy as jnp
    >>> from spikegrad.surrogate import PiecewiseExp
    >>> spike_fn = PiecewiseExp(alpha=1.0)
    >>> x = jnp.array([-1.0, 0.0, 0.5])
    >>> print(spike_fn(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spike_fn(x).sum())(x).round(4))  # g'(x)
    [0.1839 0.5    0.3033]
    """

    _native_name = "piecewise_exp"
    _param_names = ("alpha",)

    def __init__(self, alpha: ArrayLike = 1.0) -> None:
        super().__init__(alpha=alpha)

    @staticmethod
    def formula(x, alpha):
        return alpha / 2 * jnp.exp(-alpha * jnp.abs(x))

    def surrogate_fun(self, x: ArrayLike) -> jax.Array:
        a = self.alpha
        return jnp.where(x < 0, jnp.exp(a * x) / 2, 1 - jnp.exp(-a * x) / 2)


class PiecewiseLeakyRelu(NativeSurrogate):
    r"""Piecewise leaky-ReLU surrogate: ``g'(x) = c`` for ``|x| > w``,
    else ``1/(2w)``.

    ``c`` (default 0.01) is the outer slope, ``w`` (nonzero, default 1.0) the
    half-width of the linear part. A NaN input gets ``1/(2w)``, as in braintools.

    Parameters
    ----------
    c : ArrayLike, default 0.01
        The outer slope.
    w : ArrayLike, default 1.0
        Nonzero: the half-width of the linear part.

    Returns
    -------
    jax.Array
        Calling the instance, ``spike_fn(x)``, returns the Heaviside step of ``x`` (1 where
        ``x >= 0``, else 0) in ``x``'s shape and dtype, whose derivative is ``g'(x)``.

    Raises
    ------
    ValueError
        At construction, for a non-finite concrete parameter or one out of its range.
    TypeError
        For a non-real parameter; at the call, for a complex or non-numeric ``x``.

    Examples
    --------
    >>> import jax
    >>> import jax.numpy as jnp
    >>> from spikegrad.surrogate import PiecewiseLeakyRelu
    >>> spike_fn = PiecewiseLeakyRelu(c=0.01)
    >>> x = jnp.array([-1.0, 0.0, 0.5])
    >>> print(spike_fn(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spike_fn(x).sum())(x).round(4))  # g'(x)
    [0.5 0.5 0.5]
    """

    _native_name = "piecewise_leaky_relu"
    _param_names = ("c", "w")

    def __init__(self, c: ArrayLike = 0.01, w: ArrayLike = 1.0) -> None:
        super().__init__(c=c, w=w)

    @staticmethod
    def formula(x, c, w):
        return jnp.where(jnp.abs(x) > w, c, 1 / (2 * w))

    def surrogate_fun(self, x: ArrayLike) -> jax.Array:
        c, w = self.c, self.w
        return jnp.where(x < -w, c * x + c * w, jnp.where(x > w, c * x - c * w + 1, 0.5 * x / w + 0.5))


piecewise_quadratic = functional(PiecewiseQuadratic, "piecewise_quadratic")
piecewise_exp = functional(PiecewiseExp, "piecewise_exp")
piecewise_leaky_relu = functional(PiecewiseLeakyRelu, "piecewise_leaky_relu")
