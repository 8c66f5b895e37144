"""Sigmoid-shaped surrogates: Sigmoid, SoftSign, Arctan, ERF."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy as jsp
from jax.typing import ArrayLike

from ._base import NativeSurrogate, functional


class Sigmoid(NativeSurrogate):
    r"""Sigmoid surrogate: ``g(x) = \sigma(\alpha x)``,
    ``g'(x) = \alpha\,\sigma(\alpha x)(1 - \sigma(\alpha x))``.

    ``alpha`` (default 4.0) sets the steepness.

    Parameters
    ----------
    alpha : ArrayLike, default 4.0
        The steepness.

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
    >>> from spikegrad.surrogate import Sigmoid
    >>> spike_fn = Sigmoid(alpha=4.0)
    >>> x = jnp.array([-1.0, 0.0, 0.5])
    >>> print(spike_fn(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spike_fn(x).sum())(x).round(4))  # g'(x)
    [0.0707 1.     0.42  ]
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
    r"""Soft-sign surrogate: ``g(x) = x / (2/\alpha + 2|x|) + 1/2``,
    ``g'(x) = \alpha / (2 (1 + |\alpha x|)^2)``.

    ``alpha`` (default 1.0) sets the steepness.

    Parameters
    ----------
    alpha : ArrayLike, default 1.0
        The steepness.

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
    >>> from spikegrad.surrogate import SoftSign
    >>> spike_fn = SoftSign(alpha=1.0)
    >>> x = jnp.array([-1.0, 0.0, 0.5])
    >>> print(spike_fn(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spike_fn(x).sum())(x).round(4))  # g'(x)
    [0.125      0.5        0.22219999]
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
    r"""Arctan surrogate: ``g(x) = \arctan(\pi\alpha x / 2)/\pi + 1/2``,
    ``g'(x) = \alpha / (2 (1 + (\pi\alpha x / 2)^2))``.

    ``alpha`` (default 1.0) sets the steepness.

    Parameters
    ----------
    alpha : ArrayLike, default 1.0
        The steepness.

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
    >>> from spikegrad.surrogate import Arctan
    >>> spike_fn = Arctan(alpha=1.0)
    >>> x = jnp.array([-1.0, 0.0, 0.5])
    >>> print(spike_fn(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spike_fn(x).sum())(x).round(4))  # g'(x)
    [0.1442 0.5    0.3092]
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
    r"""Error-function surrogate: ``g(x) = (1 + \mathrm{erf}(\alpha x)) / 2``,
    ``g'(x) = \alpha / \sqrt{\pi}\, e^{-\alpha^2 x^2}``.

    ``alpha`` (default 1.0) sets the steepness.

    Parameters
    ----------
    alpha : ArrayLike, default 1.0
        The steepness.

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
    >>> from spikegrad.surrogate import ERF
    >>> spike_fn = ERF(alpha=1.0)
    >>> x = jnp.array([-1.0, 0.0, 0.5])
    >>> print(spike_fn(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spike_fn(x).sum())(x).round(4))  # g'(x)
    [0.2076 0.5642 0.4394]
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
