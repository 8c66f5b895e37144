"""Parameters of every kind (Python numbers, NumPy scalars, 0-d and full jax
arrays, jit arguments, vmapped values) give braintools' results, including
braintools' gradient with respect to a parameter."""

import braintools
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.reference import across, multi_gaussian, peak

import spikegrad

NAMES = ("h", "s", "sigma", "scale")
BASE = dict(h=0.3, s=2.5, sigma=0.8, scale=1.2)
X = jnp.asarray(np.linspace(-3, 3, 41), jnp.float32)
TOL = dict(rtol=1e-5, atol=1e-6)


def grads(cls, x=X, **params):
    return jax.vmap(jax.grad(cls(**params)))(x)


def assert_same(params):
    ours = grads(spikegrad.MultiGaussianGrad, **params)
    theirs = grads(braintools.surrogate.MultiGaussianGrad, **params)
    assert ours.dtype == theirs.dtype
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), **TOL)
    return ours


KINDS = {
    "python_float": float,
    "python_int_or_float": lambda v: int(v) if float(v).is_integer() else v,
    "numpy_float32": np.float32,
    "numpy_float64": np.float64,
    "jax_0d": lambda v: jnp.asarray(v, jnp.float32),
    "numpy_0d": lambda v: np.asarray(v),
}


@pytest.mark.parametrize("kind", KINDS, ids=list(KINDS))
def test_concrete_parameter_kinds(kind):
    params = {k: KINDS[kind](v) for k, v in BASE.items()}
    got = assert_same(params)
    np.testing.assert_allclose(np.asarray(got), multi_gaussian(np.asarray(X), **BASE), rtol=2e-6, atol=1e-6)


def test_integer_parameters():
    params = dict(h=1, s=2, sigma=1, scale=3)
    got = assert_same(params)
    np.testing.assert_allclose(np.asarray(got), multi_gaussian(np.asarray(X), **params), rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_traced_parameter_under_jit(name):
    def run(cls, value):
        return grads(cls, **{**BASE, name: value})

    ours = jax.jit(lambda v: run(spikegrad.MultiGaussianGrad, v))(BASE[name])
    theirs = jax.jit(lambda v: run(braintools.surrogate.MultiGaussianGrad, v))(BASE[name])
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), **TOL)
    np.testing.assert_allclose(np.asarray(ours), multi_gaussian(np.asarray(X), **BASE), rtol=2e-6, atol=1e-6)


def test_vmap_over_sigma():
    sigmas = jnp.asarray([0.3, 0.5, 1.0, 2.0])

    def run(cls):
        return jax.vmap(lambda sg: grads(cls, **{**BASE, "sigma": sg}))(sigmas)

    ours, theirs = run(spikegrad.MultiGaussianGrad), run(braintools.surrogate.MultiGaussianGrad)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), **TOL)
    for i, sg in enumerate(np.asarray(sigmas)):
        params = {**BASE, "sigma": float(sg)}
        want = multi_gaussian(np.asarray(X), **params)
        g_peak = peak(multi_gaussian(across(params), **params))
        np.testing.assert_allclose(np.asarray(ours[i]), want, rtol=2e-6, atol=2e-6 * g_peak)


def test_array_parameter_per_element():
    sigma = jnp.linspace(0.2, 2.0, X.shape[0])

    def run(cls):
        f = cls(**{**BASE, "sigma": sigma})
        return jax.grad(lambda v: f(v).sum())(X)

    ours, theirs = run(spikegrad.MultiGaussianGrad), run(braintools.surrogate.MultiGaussianGrad)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), **TOL)
    want = np.array(
        [multi_gaussian(x, **{**BASE, "sigma": float(s)}) for x, s in zip(np.asarray(X), np.asarray(sigma))]
    )
    np.testing.assert_allclose(np.asarray(ours), want, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_wrt_parameter_matches_braintools(name):
    """braintools' quirk: d(step)/d(param) comes out as d g'(x) / d(param)."""
    x = X + 0.05  # keep clear of x = 0 exactly

    def loss(cls, value):
        f = cls(**{**BASE, name: value})
        return jnp.sum(f(x) * jnp.linspace(0.5, 1.5, x.shape[0]))

    ours = jax.grad(lambda v: loss(spikegrad.MultiGaussianGrad, v))(BASE[name])
    theirs = jax.grad(lambda v: loss(braintools.surrogate.MultiGaussianGrad, v))(BASE[name])
    np.testing.assert_allclose(float(ours), float(theirs), rtol=1e-5, atol=1e-6)
    # and independently: the central difference of sum(w * g'(x)) w.r.t. the parameter, in float64
    w = np.linspace(0.5, 1.5, x.shape[0])
    eps = 1e-6
    hi = np.sum(w * multi_gaussian(np.asarray(x), **{**BASE, name: BASE[name] + eps}))
    lo = np.sum(w * multi_gaussian(np.asarray(x), **{**BASE, name: BASE[name] - eps}))
    np.testing.assert_allclose(float(ours), (hi - lo) / (2 * eps), rtol=1e-4, atol=1e-5)
    assert float(ours) != 0.0


def test_gradient_wrt_x_and_parameter_together():
    def loss(cls, x, sg):
        return jnp.sum(cls(**{**BASE, "sigma": sg})(x) ** 2)

    ours = jax.grad(lambda x, s: loss(spikegrad.MultiGaussianGrad, x, s), argnums=(0, 1))(X, 0.8)
    theirs = jax.grad(lambda x, s: loss(braintools.surrogate.MultiGaussianGrad, x, s), argnums=(0, 1))(X, 0.8)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), **TOL)


def test_static_and_traced_paths_agree():
    static = grads(spikegrad.MultiGaussianGrad, **BASE)
    traced = jax.jit(lambda sg: grads(spikegrad.MultiGaussianGrad, **{**BASE, "sigma": sg}))(BASE["sigma"])
    np.testing.assert_allclose(np.asarray(static), np.asarray(traced), rtol=2e-6, atol=1e-7)


def test_parameters_kept_as_given_and_used_when_changed():
    """Like braintools, parameters are plain attributes read at call time."""
    f = spikegrad.MultiGaussianGrad()
    f.sigma = 1.0
    got = jax.vmap(jax.grad(f))(X)
    want = multi_gaussian(np.asarray(X), sigma=1.0)
    np.testing.assert_allclose(np.asarray(got), want, rtol=2e-6, atol=1e-6)


def test_traced_parameter_second_derivatives_like_braintools():
    def hess(cls):
        return jax.jit(lambda sg: jax.hessian(lambda v: cls(**{**BASE, "sigma": sg})(v).sum())(X[:5]))(0.8)

    ours, theirs = hess(spikegrad.MultiGaussianGrad), hess(braintools.surrogate.MultiGaussianGrad)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), **TOL)
    assert not np.asarray(ours).any()
