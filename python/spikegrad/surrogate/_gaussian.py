"""Gaussian-shaped surrogates: GaussianGrad, MultiGaussianGrad, InvSquareGrad."""

from __future__ import annotations

import jax.numpy as jnp
from jax.typing import ArrayLike

from ._base import NativeSurrogate, functional


class GaussianGrad(NativeSurrogate):
    r"""Gaussian surrogate gradient: ``g'(x) = \alpha\,\mathcal{N}(x; 0, \sigma^2)``.

    ``sigma`` (> 0, default 0.5) is the standard deviation, ``alpha`` (default
    0.5) the scale. Gradient only: no ``surrogate_fun``, as in braintools.

    Parameters
    ----------
    sigma : ArrayLike, default 0.5
        Positive: the standard deviation.
    alpha : ArrayLike, default 0.5
        The scale.

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
    >>> from spikegrad.surrogate import GaussianGrad
    >>> spike_fn = GaussianGrad(sigma=0.5)
    >>> x = jnp.array([-1.0, 0.0, 0.5])
    >>> print(spike_fn(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spike_fn(x).sum())(x).round(4))  # g'(x)
    [0.054  0.3989 0.242 ]
    """

    _native_name = "gaussian"
    _param_names = ("sigma", "alpha")
    _repr_names = ("alpha", "sigma")

    def __init__(self, sigma: ArrayLike = 0.5, alpha: ArrayLike = 0.5) -> None:
        super().__init__(sigma=sigma, alpha=alpha)

    @staticmethod
    def formula(x, sigma, alpha):
        dx = jnp.exp(-(x**2) / (2 * jnp.power(sigma, 2))) / (jnp.sqrt(2 * jnp.pi) * sigma)
        return alpha * dx


class MultiGaussianGrad(NativeSurrogate):
    r"""Multi-Gaussian surrogate gradient (Yin, Corradi & Bohté, 2021):

        g'(x) = \text{scale} \left[(1+h)\,\mathcal{N}(x; 0, \sigma^2)
                - h\,\mathcal{N}(x; \sigma, (s\sigma)^2)
                - h\,\mathcal{N}(x; -\sigma, (s\sigma)^2)\right]

    ``h`` (default 0.15) weighs the two negative side Gaussians, ``s`` (> 0,
    default 6.0) is their width relative to ``sigma`` (> 0, default 0.5), and
    ``scale`` (default 0.5) scales the whole. Gradient only.

    Parameters
    ----------
    h : ArrayLike, default 0.15
        The weight of the two negative side Gaussians.
    s : ArrayLike, default 6.0
        Positive: their width relative to ``sigma``.
    sigma : ArrayLike, default 0.5
        Positive: the central Gaussian's standard deviation.
    scale : ArrayLike, default 0.5
        The scale of the whole.

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
    >>> from spikegrad.surrogate import MultiGaussianGrad
    >>> spike_fn = MultiGaussianGrad(h=0.15)
    >>> x = jnp.array([-1.0, 0.0, 0.5])
    >>> print(spike_fn(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spike_fn(x).sum())(x).round(4))  # g'(x)
    [0.0435 0.4391 0.2589]
    """

    _native_name = "multi_gaussian"
    _param_names = ("h", "s", "sigma", "scale")

    def __init__(self, h: ArrayLike = 0.15, s: ArrayLike = 6.0, sigma: ArrayLike = 0.5, scale: ArrayLike = 0.5) -> None:
        super().__init__(h=h, s=s, sigma=sigma, scale=scale)

    @staticmethod
    def formula(x, h, s, sigma, scale):
        g1 = jnp.exp(-(x**2) / (2 * jnp.power(sigma, 2))) / (jnp.sqrt(2 * jnp.pi) * sigma)
        g2 = jnp.exp(-((x - sigma) ** 2) / (2 * jnp.power(s * sigma, 2))) / (jnp.sqrt(2 * jnp.pi) * s * sigma)
        g3 = jnp.exp(-((x + sigma) ** 2) / (2 * jnp.power(s * sigma, 2))) / (jnp.sqrt(2 * jnp.pi) * s * sigma)
        return scale * (g1 * (1.0 + h) - g2 * h - g3 * h)


class InvSquareGrad(NativeSurrogate):
    r"""Inverse-square surrogate gradient: ``g'(x) = 1 / (\alpha|x| + 1)^2``.

    ``alpha`` (default 100.0) sets the sharpness. Gradient only.

    Parameters
    ----------
    alpha : ArrayLike, default 100.0
        The sharpness.

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
    >>> from spikegrad.surrogate import InvSquareGrad
    >>> spike_fn = InvSquareGrad(alpha=100.0)
    >>> x = jnp.array([-1.0, 0.0, 0.5])
    >>> print(spike_fn(x))
    [0. 1. 1.]
    >>> print(jax.grad(lambda x: spike_fn(x).sum())(x).round(4))  # g'(x)
    [1.e-04 1.e+00 4.e-04]
    """

    _native_name = "inv_square_grad"
    _param_names = ("alpha",)

    def __init__(self, alpha: ArrayLike = 100.0) -> None:
        super().__init__(alpha=alpha)

    @staticmethod
    def formula(x, alpha):
        return 1.0 / (alpha * jnp.abs(x) + 1.0) ** 2


gaussian_grad = functional(GaussianGrad, "gaussian_grad")
multi_gaussian_grad = functional(MultiGaussianGrad, "multi_gaussian_grad")
inv_square_grad = functional(InvSquareGrad, "inv_square_grad")
