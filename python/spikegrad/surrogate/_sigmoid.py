"""Sigmoid-shaped surrogates: Sigmoid, SoftSign, Arctan, ERF."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy as jsp
from jax.typing import ArrayLike

from ._base import NativeSurrogate, functional


class Sigmoid(NativeSurrogate):
    r"""Sigmoid surrogate: :math:`g(x) = \sigma(\alpha x)`,
    :math:`g'(x) = \alpha\,\sigma(\alpha x)(1 - \sigma(\alpha x))`.

    ``alpha`` (default 4.0) sets the steepness.
    """

    _native_name = "sigmoid"
    _param_names = ("alpha",)

    def __init__(self, alpha: ArrayLike = 4.0) -> None:
        super().__init__(alpha=alpha)

    @staticmethod
    def formula(x, alpha):
        sgax = jsp.special.expit(x * alpha)
        return (1.0 - sgax) * sgax * alpha

    def surrogate_fun(self, x: ArrayLike) -> jax.Array:
        return jsp.special.expit(self.alpha * x)


class SoftSign(NativeSurrogate):
    r"""Soft-sign surrogate: :math:`g(x) = x / (2/\alpha + 2|x|) + 1/2`,
    :math:`g'(x) = \alpha / (2 (1 + |\alpha x|)^2)`.

    ``alpha`` (default 1.0) sets the steepness.
    """

    _native_name = "soft_sign"
    _param_names = ("alpha",)

    def __init__(self, alpha: ArrayLike = 1.0) -> None:
        super().__init__(alpha=alpha)

    @staticmethod
    def formula(x, alpha):
        return alpha * 0.5 / (1 + jnp.abs(alpha * x)) ** 2

    def surrogate_fun(self, x: ArrayLike) -> jax.Array:
        return x / (2 / self.alpha + 2 * jnp.abs(x)) + 0.5


class Arctan(NativeSurrogate):
    r"""Arctan surrogate: :math:`g(x) = \arctan(\pi\alpha x / 2)/\pi + 1/2`,
    :math:`g'(x) = \alpha / (2 (1 + (\pi\alpha x / 2)^2))`.

    ``alpha`` (default 1.0) sets the steepness.
    """

    _native_name = "arctan"
    _param_names = ("alpha",)

    def __init__(self, alpha: ArrayLike = 1.0) -> None:
        super().__init__(alpha=alpha)

    @staticmethod
    def formula(x, alpha):
        return alpha * 0.5 / (1 + (jnp.pi / 2 * alpha * x) ** 2)

    def surrogate_fun(self, x: ArrayLike) -> jax.Array:
        return jnp.arctan(jnp.pi / 2 * self.alpha * x) / jnp.pi + 0.5


class ERF(NativeSurrogate):
    r"""Error-function surrogate: :math:`g(x) = (1 + \mathrm{erf}(\alpha x)) / 2`,
    :math:`g'(x) = \alpha / \sqrt{\pi}\, e^{-\alpha^2 x^2}`.

    ``alpha`` (default 1.0) sets the steepness.
    """

    _native_name = "erf"
    _param_names = ("alpha",)

    def __init__(self, alpha: ArrayLike = 1.0) -> None:
        super().__init__(alpha=alpha)

    @staticmethod
    def formula(x, alpha):
        return alpha / jnp.sqrt(jnp.pi) * jnp.exp(-jnp.power(alpha, 2) * x * x)

    def surrogate_fun(self, x: ArrayLike) -> jax.Array:
        return 0.5 * (1.0 - jsp.special.erf(-self.alpha * x))


sigmoid = functional(Sigmoid, "sigmoid")
soft_sign = functional(SoftSign, "soft_sign")
arctan = functional(Arctan, "arctan")
erf = functional(ERF, "erf")
