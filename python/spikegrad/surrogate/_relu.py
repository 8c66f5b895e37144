"""ReLU-shaped surrogates: LeakyRelu, LogTailedRelu, ReluGrad."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ._base import NativeSurrogate, functional


class LeakyRelu(NativeSurrogate):
    r"""Leaky-ReLU surrogate: ``g'(x) = \alpha`` for ``x < 0``, else ``\beta``.

    ``alpha`` (default 0.1) and ``beta`` (default 1.0) are the two slopes. A NaN
    input gets ``beta``, as in braintools.

    Parameters
    ----------
    alpha : ArrayLike, default 0.1
        The slope for ``x < 0``.
    beta : ArrayLike, default 1.0
        The slope for ``x >= 0``.

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
    >>> from spikegrad.surrogate import LeakyRelu
    >>> spike_fn = LeakyRelu(alpha=0.1)
    >>> x = jnp.array([-1.0, 0.0, 0.5])
    >>> print(spike_fn(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spike_fn(x).sum())(x).round(4))  # g'(x)
    [0.09999999 1.         1.        ]
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
    r"""Log-tailed ReLU surrogate: ``g'(x) = 1/x`` for ``x > 1``, 1 for
    ``0 < x \le 1``, else ``\alpha``.

    ``alpha`` (default 0.0) is the slope for ``x \le 0``; a NaN input gets it.

    Parameters
    ----------
    alpha : ArrayLike, default 0.0
        The slope for ``x <= 0``.

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
    >>> from spikegrad.surrogate import LogTailedRelu
    >>> spike_fn = LogTailedRelu(alpha=0.0)
    >>> x = jnp.array([-1.0, 0.0, 0.5])
    >>> print(spike_fn(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spike_fn(x).sum())(x).round(4))  # g'(x)
    [0. 0. 1.]
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
    ``g'(x) = \max(\alpha\,\text{width} - \alpha|x|, 0)``.

    ``alpha`` (default 0.3) is the slope, ``width`` (default 1.0) the half-width.
    Gradient only.

    Parameters
    ----------
    alpha : ArrayLike, default 0.3
        The slope.
    width : ArrayLike, default 1.0
        The half-width.

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
    >>> from spikegrad.surrogate import ReluGrad
    >>> spike_fn = ReluGrad(alpha=0.3)
    >>> x = jnp.array([-1.0, 0.0, 0.5])
    >>> print(spike_fn(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spike_fn(x).sum())(x).round(4))  # g'(x)
    [0.         0.29999998 0.14999999]
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
