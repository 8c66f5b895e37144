"""The surrogates. Each is a ``NativeSurrogate`` subclass: the braintools
signature and defaults, the parameter names the Rust kernel takes, and the
jnp formula (braintools' expression) for the XLA-native path."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._base import NativeSurrogate

__all__ = ["GaussianGrad", "gaussian_grad", "MultiGaussianGrad", "multi_gaussian_grad"]


class GaussianGrad(NativeSurrogate):
    r"""The Gaussian surrogate gradient.

    Forward: the Heaviside step. Derivative:
    :math:`g'(x) = \alpha\,\mathcal{N}(x; 0, \sigma^2)`.

    Parameters
    ----------
    sigma : float
        Standard deviation of the Gaussian (> 0). Default 0.5.
    alpha : float
        Scale of the gradient. Default 0.5.
    """

    _native_name = "gaussian"
    _param_names = ("sigma", "alpha")
    _repr_names = ("alpha", "sigma")

    def __init__(self, sigma=0.5, alpha=0.5):
        super().__init__()
        self.sigma = sigma
        self.alpha = alpha
        self._validate()

    @staticmethod
    def formula(x, sigma, alpha):
        dx = jnp.exp(-(x**2) / (2 * jnp.power(sigma, 2))) / (jnp.sqrt(2 * jnp.pi) * sigma)
        return alpha * dx


def gaussian_grad(x: jax.Array, sigma: float = 0.5, alpha: float = 0.5):
    """Spike function with the Gaussian surrogate gradient. See :class:`GaussianGrad`."""
    return GaussianGrad(sigma=sigma, alpha=alpha)(x)


class MultiGaussianGrad(NativeSurrogate):
    r"""The multi-Gaussian surrogate gradient (Yin, Corradi & Bohté, 2021).

    Forward: the Heaviside step, 1 where ``x >= 0``. Derivative:

    .. math::

        g'(x) = \text{scale} \left[(1+h)\,\mathcal{N}(x; 0, \sigma^2)
                - h\,\mathcal{N}(x; \sigma, (s\sigma)^2)
                - h\,\mathcal{N}(x; -\sigma, (s\sigma)^2)\right]

    Parameters
    ----------
    h : float
        Weight of the two negative side Gaussians. Default 0.15.
    s : float
        Width of the side Gaussians relative to ``sigma`` (> 0). Default 6.0.
    sigma : float
        Standard deviation of the central Gaussian and offset of the side
        ones (> 0). Default 0.5.
    scale : float
        Overall scale of the gradient. Default 0.5.
    """

    _native_name = "multi_gaussian"
    _param_names = ("h", "s", "sigma", "scale")

    def __init__(self, h=0.15, s=6.0, sigma=0.5, scale=0.5):
        super().__init__()
        self.h = h
        self.s = s
        self.sigma = sigma
        self.scale = scale
        self._validate()

    @staticmethod
    def formula(x, h, s, sigma, scale):
        g1 = jnp.exp(-x**2 / (2 * jnp.power(sigma, 2))) / (jnp.sqrt(2 * jnp.pi) * sigma)
        g2 = jnp.exp(-((x - sigma) ** 2) / (2 * jnp.power(s * sigma, 2))) / (
            jnp.sqrt(2 * jnp.pi) * s * sigma
        )
        g3 = jnp.exp(-((x + sigma) ** 2) / (2 * jnp.power(s * sigma, 2))) / (
            jnp.sqrt(2 * jnp.pi) * s * sigma
        )
        return scale * (g1 * (1.0 + h) - g2 * h - g3 * h)


def multi_gaussian_grad(
    x: jax.Array,
    h: float = 0.15,
    s: float = 6.0,
    sigma: float = 0.5,
    scale: float = 0.5,
):
    """Spike function with the multi-Gaussian surrogate gradient.

    See :class:`MultiGaussianGrad`.
    """
    return MultiGaussianGrad(h=h, s=s, sigma=sigma, scale=scale)(x)
