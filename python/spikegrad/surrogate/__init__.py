"""Surrogate-gradient spike functions with the names of ``braintools.surrogate``.

``import spikegrad.surrogate as surrogate`` replaces
``import braintools.surrogate as surrogate``: the 18 surrogate classes with
braintools' parameters, defaults and ``repr``, each with its functional form
(``Sigmoid`` and ``sigmoid``, ...), and the ``Surrogate`` base class for a
user's own. Calling an instance gives the Heaviside step of ``x``; its
derivative is the surrogate's ``g'(x)``, under every JAX transformation.

Examples
--------
>>> import jax
>>> import jax.numpy as jnp
>>> import spikegrad.surrogate as surrogate
>>> spike_fn = surrogate.MultiGaussianGrad()
>>> x = jnp.array([-1.0, -0.5, 0.0, 0.5, 1.0])
>>> print(spike_fn(x))
[0. 0. 1. 1. 1.]
>>> print(jax.grad(lambda x: spike_fn(x).sum())(x))
[0.04345199 0.2588582  0.43911165 0.2588582  0.04345199]
"""

from ._advanced import (
    S2NN,
    NonzeroSignLog,
    QPseudoSpike,
    SlayerGrad,
    SquarewaveFourierSeries,
    nonzero_sign_log,
    q_pseudo_spike,
    s2nn,
    slayer_grad,
    squarewave_fourier_series,
)
from ._base import NativeSurrogate, Surrogate
from ._gaussian import (
    GaussianGrad,
    InvSquareGrad,
    MultiGaussianGrad,
    gaussian_grad,
    inv_square_grad,
    multi_gaussian_grad,
)
from ._piecewise import (
    PiecewiseExp,
    PiecewiseLeakyRelu,
    PiecewiseQuadratic,
    piecewise_exp,
    piecewise_leaky_relu,
    piecewise_quadratic,
)
from ._relu import LeakyRelu, LogTailedRelu, ReluGrad, leaky_relu, log_tailed_relu, relu_grad
from ._sigmoid import ERF, Arctan, Sigmoid, SoftSign, arctan, erf, sigmoid, soft_sign

# braintools' order: the base class, then each class followed by its functional form.
__all__ = [
    "Surrogate",
    "NativeSurrogate",
    "Sigmoid",
    "sigmoid",
    "PiecewiseQuadratic",
    "piecewise_quadratic",
    "PiecewiseExp",
    "piecewise_exp",
    "SoftSign",
    "soft_sign",
    "Arctan",
    "arctan",
    "NonzeroSignLog",
    "nonzero_sign_log",
    "ERF",
    "erf",
    "PiecewiseLeakyRelu",
    "piecewise_leaky_relu",
    "SquarewaveFourierSeries",
    "squarewave_fourier_series",
    "S2NN",
    "s2nn",
    "QPseudoSpike",
    "q_pseudo_spike",
    "LeakyRelu",
    "leaky_relu",
    "LogTailedRelu",
    "log_tailed_relu",
    "ReluGrad",
    "relu_grad",
    "GaussianGrad",
    "gaussian_grad",
    "MultiGaussianGrad",
    "multi_gaussian_grad",
    "InvSquareGrad",
    "inv_square_grad",
    "SlayerGrad",
    "slayer_grad",
]
