"""Derivatives under both braintools rule sets, for all 18 surrogates.

Under 0.4's rules the surrogate is differentiated again (d2 spike/dx2 =
g''(x)) and a spike's derivative w.r.t. a surrogate parameter is 0; under
0.3's, d2 spike/dx2 = 0 and the parameter derivative is dg'(x)/dparam. The
mixed derivative d/dparam (d spike/dx) = dg'(x)/dparam under both.

References: g'' and dg'/dparam by Richardson-extrapolated central differences
of the float64 NumPy formulas in tests/helpers/family.py, at points away from
the formulas' kinks; and the installed braintools itself (0.3 in .venv, 0.4 in
.venv-py312) under the rules detected from it, kinks included. Only the tests
against the installed braintools carry the ``braintools_rules`` mark (they run
again under braintools 0.4); the others set the rules they check.
"""

from __future__ import annotations

import contextlib
import inspect

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest
from helpers.family import _BREAKS, PARAMS, full_params, reference
from helpers.x64 import enable_x64

import spikegrad
import spikegrad.surrogate as sg

NAMES = sorted(PARAMS)
CASES = [(name, i) for name in NAMES for i in range(min(2, len(PARAMS[name])))]
IDS = [f"{name}-{i}" for name, i in CASES]


#: The surrogates every transformation runs on, with their default parameters
#: (a sum of exps, a Fourier loop, branches by where()). The rest run under
#: hessian alone: the rules are one code path for all 18, and each case compiles anew.
EVERY_TRANSFORM = ("MultiGaussianGrad", "SquarewaveFourierSeries", "PiecewiseLeakyRelu")


def _with_transforms(hows):
    assert hows[0] == "hessian"
    return [
        pytest.param(name, i, how, id=f"{name}-{i}-{how}")
        for name, i in CASES
        for how in (hows if i == 0 and name in EVERY_TRANSFORM else ["hessian"])
    ]


def _fd(f, x, h=1e-4):
    """df/dx by Richardson-extrapolated central differences (error O(h^4))."""
    d1 = (f(x + h) - f(x - h)) / (2 * h)
    d2 = (f(x + h / 2) - f(x - h / 2)) / h
    return (4 * d2 - d1) / 3


def _smooth_points(name, params):
    """A grid over [-2.9, 2.9] without the points within 0.02 of a kink (0 and
    the formula's break points)."""
    x = np.linspace(-2.9, 2.9, 59)
    kinks = [0.0, *_BREAKS.get(name, lambda p: [])(params)]
    kinks += [-k for k in kinks]
    far = np.all(np.abs(x[:, None] - np.asarray(kinks)[None, :]) > 0.02, axis=1)
    return x[far]


def _g2_reference(name, params, x):
    return _fd(lambda v: reference(name, v, params), x)


def _instance(name, params):
    return getattr(sg, name)(**params)


SECOND = {
    "hessian": lambda loss, x: jnp.diagonal(jax.hessian(loss)(x)),
    "jacfwd_jacrev": lambda loss, x: jnp.diagonal(jax.jacfwd(jax.jacrev(loss))(x)),
    "grad_grad": lambda loss, x: jax.vmap(jax.grad(jax.grad(lambda v: loss(v[None]))))(x),
    "jvp_of_grad": lambda loss, x: jax.jvp(jax.grad(loss), (x,), (jnp.ones_like(x),))[1],
    "jit_hessian": lambda loss, x: jax.jit(lambda v: jnp.diagonal(jax.hessian(loss)(v)))(x),
}


def _assert_close(got, want, rtol_peak):
    peak = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=0, atol=rtol_peak * peak)


@pytest.mark.parametrize("name, i, how", _with_transforms(["hessian", *sorted(set(SECOND) - {"hessian"})]))
def test_second_derivative_is_g2_under_04_rules(name, i, how):
    params = PARAMS[name][i]
    x = _smooth_points(name, full_params(getattr(sg, name), params))
    f = _instance(name, params)
    with spikegrad.braintools_rules("0.4"):
        got = SECOND[how](lambda v: f(v).sum(), jnp.asarray(x, dtype=jnp.float32))
    want = _g2_reference(name, full_params(getattr(sg, name), params), x.astype(np.float32).astype(np.float64))
    _assert_close(got, want, 3e-5)


@pytest.mark.parametrize("name, i", CASES, ids=IDS)
def test_second_derivative_in_float64_under_04_rules(name, i):
    params = PARAMS[name][i]
    x = _smooth_points(name, full_params(getattr(sg, name), params))
    with enable_x64():
        f = _instance(name, params)
        with spikegrad.braintools_rules("0.4"):
            got = SECOND["hessian"](lambda v: f(v).sum(), jnp.asarray(x, dtype=jnp.float64))
        assert got.dtype == jnp.float64
    _assert_close(got, _g2_reference(name, full_params(getattr(sg, name), params), x), 1e-8)


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16], ids=["float16", "bfloat16"])
@pytest.mark.parametrize("name", NAMES)
def test_second_derivative_of_halves_under_04_rules(name, dtype):
    """Halves are widened to float32 and rounded once: within 2 ulp of the type."""
    full = full_params(getattr(sg, name), {})
    xh = jnp.asarray(_smooth_points(name, full), dtype=dtype)
    x = np.asarray(xh, dtype=np.float64)
    f = _instance(name, {})
    with spikegrad.braintools_rules("0.4"):
        got = jax.vmap(jax.grad(jax.grad(f)))(xh)
    assert got.dtype == dtype
    eps = float(ml_dtypes.finfo(dtype).eps)
    _assert_close(got, _g2_reference(name, full, x), 4 * eps)


@pytest.mark.parametrize("name", NAMES)
def test_second_derivative_is_zero_under_03_rules(name):
    f = _instance(name, {})
    x = jnp.linspace(-2.0, 2.0, 9)
    with spikegrad.braintools_rules("0.3"):
        for how in ("hessian", "grad_grad", "jvp_of_grad"):
            assert not np.any(np.asarray(SECOND[how](lambda v: f(v).sum(), x))), how


def _first_param(name):
    """The first parameter with a float default (SquarewaveFourierSeries'
    ``n`` counts terms and cannot be traced)."""
    cls = getattr(sg, name)
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return next(p.name for p in params if isinstance(p.default, float))


@pytest.mark.parametrize("rules", ["0.3", "0.4"])
@pytest.mark.parametrize("name", NAMES)
def test_traced_parameter_path(name, rules):
    """Parameters as jit arguments (the XLA-native path): the parameter
    derivative, the mixed derivative and g'' under each rule set."""
    pname = _first_param(name)
    full = full_params(getattr(sg, name), {})
    x = _smooth_points(name, full)
    p0 = float(full[pname])
    xs = jnp.asarray(x, dtype=jnp.float32)

    @jax.jit
    def derivatives(p):
        f = lambda v, q: getattr(sg, name)(**{pname: q})(v)  # noqa: E731
        d_param = jax.vmap(jax.grad(f, argnums=1), in_axes=(0, None))(xs, p)
        mixed = jax.vmap(jax.grad(jax.grad(f, argnums=0), argnums=1), in_axes=(0, None))(xs, p)
        second = jax.vmap(jax.grad(jax.grad(f, argnums=0)), in_axes=(0, None))(xs, p)
        return d_param, mixed, second

    with spikegrad.braintools_rules(rules):
        d_param, mixed, second = derivatives(jnp.float32(p0))
    dg_dp = _fd(lambda q: reference(name, x, {**full, pname: q}), p0)
    _assert_close(mixed, dg_dp, 3e-5)
    if rules == "0.4":
        assert not np.any(np.asarray(d_param))
        _assert_close(second, _g2_reference(name, full, x), 3e-5)
    else:
        _assert_close(d_param, dg_dp, 3e-5)
        assert not np.any(np.asarray(second))


@pytest.mark.parametrize("name", NAMES)
def test_surrogate_grad_is_differentiable_under_both_rules(name):
    """``surrogate_grad`` is a plain function of x in braintools: its derivative
    is g'' whichever rules are in force."""
    full = full_params(getattr(sg, name), {})
    x = _smooth_points(name, full)
    f = _instance(name, {})
    want = _g2_reference(name, full, x)
    for rules in ("0.3", "0.4"):
        with spikegrad.braintools_rules(rules):
            got = jax.vmap(jax.grad(f.surrogate_grad))(jnp.asarray(x, dtype=jnp.float32))
        _assert_close(got, want, 3e-5)


# ---- against the installed braintools, kinks included ------------------------


def _kinky_points(name, params):
    breaks = [0.0, *_BREAKS.get(name, lambda p: [])(params)]
    pts = [*np.linspace(-3, 3, 25), *breaks, *(-b for b in breaks)]
    pts += [b + d for b in breaks for d in (1e-3, -1e-3)]
    return np.asarray(pts, dtype=np.float32)


@pytest.mark.braintools_rules
@pytest.mark.parametrize("name, i, how", _with_transforms(["hessian", "jacfwd_jacrev", "grad_grad"]))
def test_second_derivatives_match_the_installed_braintools(name, i, how):
    import braintools.surrogate as bt

    params = PARAMS[name][i]
    x = jnp.asarray(_kinky_points(name, full_params(getattr(sg, name), params)))
    ours, theirs = getattr(sg, name)(**params), getattr(bt, name)(**params)
    got = SECOND[how](lambda v: ours(v).sum(), x)
    want = np.asarray(SECOND[how](lambda v: theirs(v).sum(), x), dtype=np.float64)
    _assert_close(got, want, 2e-5)


@pytest.mark.braintools_rules
@pytest.mark.parametrize("name", NAMES)
def test_parameter_and_mixed_derivatives_match_the_installed_braintools(name):
    import braintools.surrogate as bt

    pname = _first_param(name)
    full = full_params(getattr(sg, name), {})
    xs = jnp.asarray(_kinky_points(name, full))

    def derivatives(module, p):
        f = lambda v, q: getattr(module, name)(**{pname: q})(v)  # noqa: E731
        d_param = jax.vmap(jax.grad(f, argnums=1), in_axes=(0, None))(xs, p)
        mixed = jax.vmap(jax.grad(jax.grad(f, argnums=0), argnums=1), in_axes=(0, None))(xs, p)
        return d_param, mixed

    p = jnp.float32(full[pname])
    for got, want in zip(jax.jit(lambda q: derivatives(sg, q))(p), jax.jit(lambda q: derivatives(bt, q))(p)):
        _assert_close(got, np.asarray(want, dtype=np.float64), 2e-5)


@pytest.mark.parametrize(
    "name, dtype",
    [(name, "float32") for name in NAMES]
    + [
        (name, dt)
        for name in ("Sigmoid", "SquarewaveFourierSeries", "LeakyRelu")
        for dt in ("bfloat16", "float16", "float64")
    ],
)
def test_first_order_is_the_same_under_both_rules(name, dtype):
    """grad, vjp, jvp, eager, jit and vmap give the same bits under either rule
    set: the rules only differ from the second order on."""
    dt = {"bfloat16": ml_dtypes.bfloat16}.get(dtype, dtype)
    with enable_x64() if dtype == "float64" else contextlib.nullcontext():
        f = _instance(name, {})
        x = jnp.asarray(np.linspace(-3, 3, 37), dtype=dt)
        t = jnp.asarray(np.linspace(0.5, 2, 37), dtype=dt)
        runs = {
            "vjp": lambda: jax.vjp(f, x)[1](t)[0],
            "jvp": lambda: jax.jvp(f, (x,), (t,))[1],
            "jit_vjp": lambda: jax.jit(lambda a, b: jax.vjp(f, a)[1](b)[0])(x, t),
            "vmap_grad": lambda: jax.vmap(jax.grad(f))(x),
        }
        for how, run in runs.items():
            with spikegrad.braintools_rules("0.3"):
                old = np.asarray(run())
            with spikegrad.braintools_rules("0.4"):
                new = np.asarray(run())
            assert new.dtype == old.dtype == np.dtype(dt), how
            np.testing.assert_array_equal(new.view(np.uint8), old.view(np.uint8), err_msg=how)
