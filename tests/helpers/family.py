"""Independent float64 NumPy references for the whole surrogate family (the
one reference of each surrogate: every test and script uses these), and the
grid of inputs and parameters the family tests run on.

Each reference is braintools 0.3's ``surrogate_grad`` expression written in
float64 NumPy from its formula (with NumPy's own semantics for NaN and inf),
except where that expression loses precision in float64 itself: the logistic
slope is written ``e / (1 + e)^2`` with ``e = exp(-|z|)``, and the Fourier
series reduces ``x`` exactly modulo the period (``np.fmod`` is exact).
"""

from __future__ import annotations

import math
import os

import numpy as np


def _logistic_slope(z):
    e = np.exp(-np.abs(z))
    return e / (1.0 + e) ** 2


def _squarewave(x, n=2, t_period=8.0):
    w = 2.0 * math.pi / t_period
    r = np.fmod(x, t_period)
    dx = np.cos(w * r)
    for i in range(2, int(n) + 1):
        dx = dx + np.cos((2 * i - 1.0) * w * r)
    return dx * 4.0 / t_period


def _s2nn(x, alpha=4.0, beta=1.0, epsilon=1e-8):
    x_safe = np.where(x < 0.0, 1.0, x)
    return np.where(x < 0.0, alpha * _logistic_slope(alpha * x), beta / (x_safe + 1.0))


def _relu_grad(x, alpha=0.3, width=1.0):
    return np.maximum(alpha * width - np.abs(x) * alpha, 0.0)  # np.maximum propagates NaN


def _log_tailed_relu(x, alpha=0.0):
    x_safe = np.where(x > 1, x, 1.0)
    return np.where(x > 1, 1.0 / x_safe, np.where(x > 0, 1.0, alpha))


def _pdf(x, mu, sd):
    return np.exp(-((x - mu) ** 2) / (2.0 * sd * sd)) / (math.sqrt(2.0 * math.pi) * sd)


#: name -> g'(x, **params) in float64.
REFERENCES = {
    "Sigmoid": lambda x, alpha=4.0: alpha * _logistic_slope(alpha * x),
    "PiecewiseQuadratic": lambda x, alpha=1.0: np.where(np.abs(x) > 1.0 / alpha, 0.0, alpha - alpha**2 * np.abs(x)),
    "PiecewiseExp": lambda x, alpha=1.0: alpha / 2.0 * np.exp(-alpha * np.abs(x)),
    "SoftSign": lambda x, alpha=1.0: alpha * 0.5 / (1.0 + np.abs(alpha * x)) ** 2,
    "Arctan": lambda x, alpha=1.0: alpha * 0.5 / (1.0 + (math.pi / 2.0 * alpha * x) ** 2),
    "NonzeroSignLog": lambda x, alpha=1.0: 1.0 / (1.0 / alpha + np.abs(x)),
    "ERF": lambda x, alpha=1.0: alpha / math.sqrt(math.pi) * np.exp(-(alpha**2) * x * x),
    "PiecewiseLeakyRelu": lambda x, c=0.01, w=1.0: np.where(np.abs(x) > w, c, 1.0 / (2.0 * w)),
    "SquarewaveFourierSeries": _squarewave,
    "S2NN": _s2nn,
    "QPseudoSpike": lambda x, alpha=2.0: np.power(1.0 + 2.0 / (alpha + 1.0) * np.abs(x), -alpha),
    "LeakyRelu": lambda x, alpha=0.1, beta=1.0: np.where(x < 0.0, alpha, beta),
    "LogTailedRelu": _log_tailed_relu,
    "ReluGrad": _relu_grad,
    "GaussianGrad": lambda x, sigma=0.5, alpha=0.5: alpha * _pdf(x, 0.0, sigma),
    "InvSquareGrad": lambda x, alpha=100.0: 1.0 / (alpha * np.abs(x) + 1.0) ** 2,
    "SlayerGrad": lambda x, alpha=1.0: np.exp(-alpha * np.abs(x)),
    "MultiGaussianGrad": lambda x, h=0.15, s=6.0, sigma=0.5, scale=0.5: (
        scale * ((1.0 + h) * _pdf(x, 0.0, sigma) - h * _pdf(x, sigma, s * sigma) - h * _pdf(x, -sigma, s * sigma))
    ),
}


def reference(name, x, params):
    """g'(x) of the surrogate class ``name`` in float64 (missing parameters take
    braintools' defaults); NaN and inf propagate without warnings."""
    with np.errstate(all="ignore"):
        return np.asarray(REFERENCES[name](np.asarray(x, dtype=np.float64), **params), dtype=np.float64)


#: name -> parameter sets tested (braintools keyword arguments); the first is the default.
#: Besides typical values, each includes values braintools accepts and computes
#: that are unusual (negative or zero slopes, n < 1), where the results must still agree.
PARAMS = {
    "Sigmoid": [{}, {"alpha": 1.0}, {"alpha": 10.0}, {"alpha": -2.0}],
    "PiecewiseQuadratic": [{}, {"alpha": 2.0}, {"alpha": 0.5}, {"alpha": -1.0}],
    "PiecewiseExp": [{}, {"alpha": 3.0}, {"alpha": 0.5}, {"alpha": 0.0}],
    "SoftSign": [{}, {"alpha": 4.0}, {"alpha": 0.3}],
    "Arctan": [{}, {"alpha": 3.0}, {"alpha": 0.5}],
    "NonzeroSignLog": [{}, {"alpha": 4.0}, {"alpha": 0.5}],
    "ERF": [{}, {"alpha": 2.5}, {"alpha": 0.5}],
    "PiecewiseLeakyRelu": [{}, {"c": 0.1, "w": 0.5}, {"c": 0.0, "w": 2.0}],
    "SquarewaveFourierSeries": [{}, {"n": 4, "t_period": 6.0}, {"n": 1, "t_period": 8.0}, {"n": 0}],
    "S2NN": [{}, {"alpha": 2.0, "beta": 0.5, "epsilon": 1e-4}],
    "QPseudoSpike": [{}, {"alpha": 0.5}, {"alpha": 4.0}, {"alpha": -0.5}],
    "LeakyRelu": [{}, {"alpha": 0.3, "beta": 2.0}],
    "LogTailedRelu": [{}, {"alpha": 0.1}],
    "ReluGrad": [{}, {"alpha": 1.0, "width": 0.5}],
    "GaussianGrad": [{}, {"sigma": 1.0, "alpha": 2.0}],
    "InvSquareGrad": [{}, {"alpha": 5.0}],
    "SlayerGrad": [{}, {"alpha": 3.0}, {"alpha": -0.25}],
    "MultiGaussianGrad": [{}, {"h": 0.5, "s": 2.0, "sigma": 1.0, "scale": 1.0}],
}

#: ``SPIKEGRAD_TEST_SURROGATES=sample`` runs the family-wide tests on these
#: five, one of each kind of kernel (several exps, a Fourier loop with an
#: integer parameter, a logistic, branches by where(), a polynomial erf).
#: scripts/test.sh does so under the oldest jax: the kernels are the same
#: machine code there, and every code path still runs.
SAMPLE = ("MultiGaussianGrad", "SquarewaveFourierSeries", "Sigmoid", "PiecewiseLeakyRelu", "ERF")
_WHICH = os.environ.get("SPIKEGRAD_TEST_SURROGATES", "all")
if _WHICH not in ("all", "sample"):
    raise ValueError(f"SPIKEGRAD_TEST_SURROGATES must be 'all' or 'sample', not {_WHICH!r}")
if _WHICH == "sample":
    PARAMS = {name: PARAMS[name] for name in SAMPLE}

#: Where the surrogate changes branch, as a function of its full parameters.
_BREAKS = {
    "PiecewiseQuadratic": lambda p: [1.0 / p["alpha"]],
    "PiecewiseLeakyRelu": lambda p: [p["w"]],
    "SquarewaveFourierSeries": lambda p: [p["t_period"] / 4, p["t_period"] / 2, p["t_period"]],
    "S2NN": lambda p: [1.0],
    "LogTailedRelu": lambda p: [1.0],
    "ReluGrad": lambda p: [p["width"]],
}

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 37.0, -37.0, 1e4, -1e4]


def full_params(cls, params):
    """``params`` completed with the class's defaults."""
    import inspect

    sig = inspect.signature(cls.__init__)
    return {k: v.default for k, v in list(sig.parameters.items())[1:]} | dict(params)


def grid(name, params, dtype):
    """Inputs in ``dtype``: a grid over [-6, 6], the special values, and the
    break points with their neighbours in ``dtype``."""
    breaks = _BREAKS.get(name, lambda p: [])(params)
    b = np.asarray([*breaks, *(-v for v in breaks)], dtype=np.float64).astype(dtype)
    inf = np.asarray(np.inf, dtype=dtype)
    base = np.asarray([*np.linspace(-6.0, 6.0, 481), *SPECIAL], dtype=np.float64).astype(dtype)
    return np.concatenate([base, b, np.nextafter(b, inf), np.nextafter(b, -inf)])
