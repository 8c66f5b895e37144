"""Piecewise surrogates: PiecewiseQuadratic, PiecewiseExp, PiecewiseLeakyRelu."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ._base import NativeSurrogate, functional


class PiecewiseQuadratic(NativeSurrogate):
    r"""Piecewise-quadratic surrogate (triangular gradient):
    :math:`g'(x) = \alpha - \alpha^2|x|` for :math:`|x| \le 1/\alpha`, else 0.

    ``alpha`` (nonzero, default 1.0) sets the width ``1/alpha`` and height.
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
    r"""Piecewise-exponential surrogate: :math:`g'(x) = \alpha/2\, e^{-\alpha|x|}`.

    ``alpha`` (default 1.0) sets the decay rate.
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
    r"""Piecewise leaky-ReLU surrogate: :math:`g'(x) = c` for :math:`|x| > w`,
    else :math:`1/(2w)`.

    ``c`` (default 0.01) is the outer slope, ``w`` (nonzero, default 1.0) the
    half-width of the linear part. A NaN input gets ``1/(2w)``, as in braintools.
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
