"""ReLU-shaped surrogates: LeakyRelu, LogTailedRelu, ReluGrad."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ._base import NativeSurrogate, functional


class LeakyRelu(NativeSurrogate):
    r"""Leaky-ReLU surrogate: :math:`g'(x) = \alpha` for :math:`x < 0`, else :math:`\beta`.

    ``alpha`` (default 0.1) and ``beta`` (default 1.0) are the two slopes. A NaN
    input gets ``beta``, as in braintools.
    """

    _native_name = "leaky_relu"
    _param_names = ("alpha", "beta")

    def __init__(self, alpha: ArrayLike = 0.1, beta: ArrayLike = 1.0) -> None:
        super().__init__(alpha=alpha, beta=beta)

    @staticmethod
    def formula(x, alpha, beta):
        return jnp.where(x < 0.0, alpha, beta)

    def surrogate_fun(self, x: ArrayLike) -> jax.Array:
        return jnp.where(x < 0.0, self.alpha * x, self.beta * x)


class LogTailedRelu(NativeSurrogate):
    r"""Log-tailed ReLU surrogate: :math:`g'(x) = 1/x` for :math:`x > 1`, 1 for
    :math:`0 < x \le 1`, else :math:`\alpha`.

    ``alpha`` (default 0.0) is the slope for :math:`x \le 0`; a NaN input gets it.
    """

    _native_name = "log_tailed_relu"
    _param_names = ("alpha",)

    def __init__(self, alpha: ArrayLike = 0.0) -> None:
        super().__init__(alpha=alpha)

    @staticmethod
    def formula(x, alpha):
        x_safe = jnp.where(x > 1, x, 1.0)
        return jnp.where(x > 1, 1 / x_safe, jnp.where(x > 0, 1.0, alpha))

    def surrogate_fun(self, x: ArrayLike) -> jax.Array:
        x_safe = jnp.where(x > 1, x, 1.0)
        return jnp.where(x > 1, 1.0 + jnp.log(x_safe), jnp.where(x > 0, x, self.alpha * x))


class ReluGrad(NativeSurrogate):
    r"""ReLU-shaped (triangular) surrogate gradient:
    :math:`g'(x) = \max(\alpha\,\text{width} - \alpha|x|, 0)`.

    ``alpha`` (default 0.3) is the slope, ``width`` (default 1.0) the half-width.
    Gradient only.
    """

    _native_name = "relu_grad"
    _param_names = ("alpha", "width")

    def __init__(self, alpha: ArrayLike = 0.3, width: ArrayLike = 1.0) -> None:
        super().__init__(alpha=alpha, width=width)

    @staticmethod
    def formula(x, alpha, width):
        return jnp.maximum(alpha * width - jnp.abs(x) * alpha, 0)


leaky_relu = functional(LeakyRelu, "leaky_relu")
log_tailed_relu = functional(LogTailedRelu, "log_tailed_relu")
relu_grad = functional(ReluGrad, "relu_grad")
