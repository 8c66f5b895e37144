"""The whole braintools surrogate family on spikegrad's native machinery,
checked against braintools 0.3 itself and against float64 NumPy references
(``helpers/family.py``), surrogate by surrogate, on a grid of inputs (with NaN,
±inf, ±0 and the break points) and a grid of parameters.

Tolerances, for g' against the float64 reference ``want`` with ``peak`` the
largest finite |want| on the grid: float32 within ``2e-6 peak``; float64 within
``1e-12 |want| + 1e-14 peak`` (the absolute part matters only at zero
crossings); float16/bfloat16 exactly the float32 result rounded once, and within
1 ulp of ``want`` rounded. NaN where ``want`` is NaN, infinities exactly.
"""

from __future__ import annotations

import inspect
import re

import braintools.surrogate as bt
import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest
from helpers.family import PARAMS, full_params, grid, reference
from helpers.reference import assert_matches, peak
from helpers.x64 import enable_x64

import spikegrad.surrogate as sg

NAMES = sorted(PARAMS)
CASES = [pytest.param(n, p, id=f"{n}-{i}") for n in NAMES for i, p in enumerate(PARAMS[n])]
BF16 = np.dtype(ml_dtypes.bfloat16)
HALVES = [np.dtype(np.float16), BF16]

#: Functional form of each class, by braintools' own pairing (Class, function) in __all__.
FUNCTIONAL = {c: f for c, f in zip(bt.__all__[1::2], bt.__all__[2::2])}

#: Surrogates braintools defines without surrogate_fun (gradient only).
GRADIENT_ONLY = {"ReluGrad", "GaussianGrad", "MultiGaussianGrad", "InvSquareGrad", "SlayerGrad"}


def both(name, params):
    return getattr(sg, name)(**params), getattr(bt, name)(**params)


def grad_of(surrogate, x, t):
    """``t * g'(x)`` by reverse mode, and by forward mode."""
    x, t = jnp.asarray(x), jnp.asarray(t)
    rev = jax.grad(lambda v: jnp.sum(surrogate(v) * t))(x)
    fwd = jax.jvp(surrogate, (x,), (t,))[1]
    return np.asarray(rev), np.asarray(fwd)


def f64_tolerance(name, want):
    # The Fourier series reference's n rounded phases put it about n * 1e-16 of the peak off.
    absolute = 1e-13 if name == "SquarewaveFourierSeries" else 1e-14
    return 1e-12 * np.abs(want) + absolute * peak(want)


# ---- forward ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.dtype(np.float32), *HALVES], ids=str)
@pytest.mark.parametrize("name, params", CASES)
def test_forward_is_braintools_step(name, params, dtype, each_lowering):
    ours, theirs = both(name, params)
    x = grid(name, full_params(type(ours), params), dtype)
    y = np.asarray(ours(jnp.asarray(x)))
    their = np.asarray(theirs(jnp.asarray(x)))
    assert y.dtype == their.dtype == dtype
    bits = np.dtype(f"u{dtype.itemsize}")
    assert np.array_equal(y.view(bits), their.view(bits))
    want = np.where(x.astype(np.float64) >= 0, 1.0, 0.0)  # NaN >= 0 is False; -0.0 >= 0 is True
    assert np.array_equal(y.astype(np.float64), want)


# ---- gradients ----------------------------------------------------------------


def _where_braintools_is_exact(name, x):
    """Where braintools' own result is within the tolerances: everywhere but for
    the Fourier series at |x| > 8, where its cos(w x) rounds w x first (a phase
    error of about |x| ulp); spikegrad reduces x exactly modulo the period."""
    if name != "SquarewaveFourierSeries":
        return np.ones(x.shape, dtype=bool)
    return ~((np.abs(x) > 8) & np.isfinite(x))


@pytest.mark.parametrize("name, params", CASES)
def test_grad_f32(name, params, each_lowering):
    ours, theirs = both(name, params)
    full = full_params(type(ours), params)
    x = grid(name, full, np.float32)
    t = np.float32(1.5)
    want = 1.5 * reference(name, x, full)
    tol = 2e-6 * peak(want)
    for mode, got in zip(("grad", "jvp"), grad_of(ours, x, np.full_like(x, t))):
        assert got.dtype == np.float32
        assert_matches(got, want, where=f"{mode} vs float64 reference", tol=tol)
    their_grad, _ = grad_of(theirs, x, np.full_like(x, t))
    same = _where_braintools_is_exact(name, x)
    ours_grad = grad_of(ours, x, np.full_like(x, t))[0]
    assert_matches(ours_grad[same], their_grad[same], where="grad vs braintools", tol=tol)


@pytest.mark.parametrize("name, params", CASES)
def test_grad_f64(name, params, each_lowering):
    with enable_x64():
        ours, theirs = both(name, params)
        full = full_params(type(ours), params)
        x = grid(name, full, np.float64)
        want = reference(name, x, full)
        tol = f64_tolerance(name, want)
        for mode, got in zip(("grad", "jvp"), grad_of(ours, x, np.ones_like(x))):
            assert got.dtype == np.float64
            assert_matches(got, want, where=f"{mode} vs float64 reference", tol=tol)
        ours_grad = grad_of(ours, x, np.ones_like(x))[0]
        their_grad = grad_of(theirs, x, np.ones_like(x))[0]
        same = _where_braintools_is_exact(name, x)
        assert_matches(ours_grad[same], their_grad[same], where="grad vs braintools", tol=tol[same])


def _ulp(v, dtype):
    """The spacing of ``dtype`` at |v| (subnormal spacing below the normal range)."""
    info = ml_dtypes.finfo(dtype)
    e = np.floor(np.log2(np.maximum(np.abs(v), float(info.smallest_normal))))
    return np.exp2(e - info.nmant)


@pytest.mark.parametrize("dtype", HALVES, ids=str)
@pytest.mark.parametrize("name, params", CASES)
def test_grad_half_is_f32_rounded_once(name, params, dtype, each_lowering):
    ours = getattr(sg, name)(**params)
    full = full_params(type(ours), params)
    x = grid(name, full, dtype)
    t = np.full_like(x, 1.5)
    got, fwd = grad_of(ours, x, t)
    assert got.dtype == dtype
    assert np.array_equal(got.astype(np.float32), fwd.astype(np.float32), equal_nan=True)
    # Computed in float32 and rounded once.
    in_f32, _ = grad_of(ours, x.astype(np.float32), t.astype(np.float32))
    assert np.array_equal(got.astype(np.float32), in_f32.astype(dtype).astype(np.float32), equal_nan=True)
    # Within 1 ulp of the float64 reference rounded (plus the float32 noise near zero
    # crossings and the float32 underflow, both far below the peak).
    want = (1.5 * reference(name, x.astype(np.float64), full)).astype(dtype).astype(np.float64)
    slack = 4 * 2.0**-23 * 1.5 * peak(want) + 4 * float(np.finfo(np.float32).tiny)
    assert_matches(got, want, where=f"{dtype} vs float64 reference", tol=_ulp(want, dtype) + slack)


# ---- the formula behind the XLA path, parameters, identity -------------------------


@pytest.mark.parametrize("name, params", CASES)
def test_formula_is_braintools_expression(name, params):
    """The jnp formula (GPU/TPU, traced parameters) is braintools' ``surrogate_grad``.
    (spikegrad's own ``surrogate_grad`` runs the kernel on CPU, like ``grad``.)"""
    ours, theirs = both(name, params)
    x = jnp.asarray(grid(name, full_params(type(ours), params), np.float32))
    formula = jax.jit(lambda v: ours.formula(v, *ours._param_values()))
    np.testing.assert_array_equal(np.asarray(formula(x)), np.asarray(jax.jit(theirs.surrogate_grad)(x)))


@pytest.mark.parametrize("name, params", CASES)
def test_repr_and_hash(name, params):
    ours, theirs = both(name, params)
    assert repr(ours) == repr(theirs)
    # braintools hashes (class, *parameters in repr order).
    names = re.findall(r"(\w+)=", repr(theirs))
    assert hash(ours) == hash((type(ours), *(getattr(theirs, n) for n in names)))
    again, _ = both(name, params)
    assert ours == again and hash(ours) == hash(again)
    other_params = {k: 7.25 for k in names[-1:]}
    assert ours != getattr(sg, name)(**(dict(params) | other_params))


@pytest.mark.parametrize("name, params", CASES)
def test_surrogate_fun(name, params):
    ours, theirs = both(name, params)
    x = jnp.asarray(grid(name, full_params(type(ours), params), np.float32))
    if name in GRADIENT_ONLY:
        for s in (ours, theirs):
            with pytest.raises(NotImplementedError):
                s.surrogate_fun(x)
        return
    np.testing.assert_array_equal(np.asarray(ours.surrogate_fun(x)), np.asarray(theirs.surrogate_fun(x)))


@pytest.mark.parametrize("name", NAMES)
def test_functional_form(name):
    fname = FUNCTIONAL[name]
    ours, theirs = getattr(sg, fname), getattr(bt, fname)
    defaults = lambda f: [(p.name, p.default) for p in inspect.signature(f).parameters.values()]
    assert defaults(ours) == defaults(theirs)
    params = PARAMS[name][1] if len(PARAMS[name]) > 1 else {}
    x = jnp.linspace(-3.0, 3.0, 61)
    cls = getattr(sg, name)(**params)
    np.testing.assert_array_equal(ours(x, **params), cls(x))
    np.testing.assert_array_equal(
        jax.grad(lambda v: jnp.sum(ours(v, **params)))(x), jax.grad(lambda v: jnp.sum(cls(v)))(x)
    )


def _traced_param(name):
    """A float parameter to trace (SquarewaveFourierSeries' n is a loop count)."""
    names = getattr(sg, name)._param_names
    return "t_period" if name == "SquarewaveFourierSeries" else names[0]


@pytest.mark.parametrize("name", NAMES)
def test_traced_parameters_follow_braintools(name):
    key = _traced_param(name)
    x = jnp.linspace(-3.0, 3.0, 61)
    full = full_params(getattr(sg, name), {})
    p0 = float(full[key]) * 1.25

    def make(module):
        def grad_x(p):
            s = getattr(module, name)(**{key: p})
            return jax.grad(lambda v: jnp.sum(s(v)))(x)

        def grad_p(p):
            return jax.grad(lambda q: jnp.sum(getattr(module, name)(**{key: q})(x)))(p)

        return grad_x, grad_p

    (ours_x, ours_p), (their_x, their_p) = make(sg), make(bt)
    tol = dict(rtol=2e-6, atol=2e-6 * float(np.max(np.abs(their_x(p0)))))
    np.testing.assert_allclose(jax.jit(ours_x)(p0), their_x(p0), **tol)
    ps = jnp.asarray([p0, 2 * p0, 0.5 * p0])
    np.testing.assert_allclose(jax.vmap(ours_x)(ps), jax.vmap(their_x)(ps), **tol)
    # braintools' output depends on a parameter through g'(x): its gradient w.r.t. it.
    np.testing.assert_allclose(ours_p(p0), their_p(p0), rtol=1e-5, atol=1e-6)


# ---- parameters braintools cannot take, and its quirks ---------------------------------

REJECTED = [
    ("PiecewiseQuadratic", {"alpha": 0.0}, ZeroDivisionError),
    ("NonzeroSignLog", {"alpha": 0.0}, ZeroDivisionError),
    ("PiecewiseLeakyRelu", {"w": 0.0}, ZeroDivisionError),
    ("SquarewaveFourierSeries", {"t_period": 0.0}, ZeroDivisionError),
    ("SquarewaveFourierSeries", {"n": 2.5}, TypeError),
    ("QPseudoSpike", {"alpha": -1.0}, ZeroDivisionError),
]


@pytest.mark.parametrize("name, params, their_error", REJECTED)
def test_rejects_what_braintools_cannot_compute(name, params, their_error):
    with pytest.raises(their_error):
        jax.grad(lambda v: jnp.sum(getattr(bt, name)(**params)(v)))(jnp.ones(3))
    with pytest.raises(ValueError, match=name):
        getattr(sg, name)(**params)


def test_quirks_reproduced():
    """braintools 0.3 behaviours kept on purpose (docs/family.md lists them)."""
    nan = jnp.asarray([jnp.nan])
    g = lambda s: float(jax.grad(lambda v: jnp.sum(s(v)))(nan)[0])
    # where()-based surrogates give NaN input the branch its comparison selects.
    assert g(sg.PiecewiseLeakyRelu(c=0.01, w=2.0)) == g(bt.PiecewiseLeakyRelu(c=0.01, w=2.0)) == 0.25
    assert g(sg.LeakyRelu(alpha=0.1, beta=2.0)) == g(bt.LeakyRelu(alpha=0.1, beta=2.0)) == 2.0
    assert g(sg.LogTailedRelu(alpha=0.5)) == g(bt.LogTailedRelu(alpha=0.5)) == 0.5
    # n < 1 still keeps the first Fourier term.
    x = jnp.linspace(-5.0, 5.0, 41)
    for n in (0, -3):
        for module in (sg, bt):
            np.testing.assert_array_equal(
                jax.grad(lambda v: jnp.sum(module.SquarewaveFourierSeries(n=n)(v)))(x),
                jax.grad(lambda v: jnp.sum(module.SquarewaveFourierSeries(n=1)(v)))(x),
            )
    # S2NN's gradient ignores epsilon (which only enters surrogate_fun).
    a = jax.grad(lambda v: jnp.sum(sg.S2NN(epsilon=0.5)(v)))(x)
    np.testing.assert_array_equal(a, jax.grad(lambda v: jnp.sum(sg.S2NN(epsilon=0.0)(v)))(x))


# ---- a user's own surrogate --------------------------------------------------------


def _tanh_surrogate(base):
    class TanhGrad(base):
        def __init__(self, alpha=2.0):
            super().__init__()
            self.alpha = alpha

        def surrogate_grad(self, x):
            return self.alpha * 0.5 * (1 - jnp.tanh(self.alpha * x) ** 2)

    return TanhGrad()


def test_user_subclass_under_every_transformation():
    ours, theirs = _tanh_surrogate(sg.Surrogate), _tanh_surrogate(bt.Surrogate)
    x = jnp.linspace(-3.0, 3.0, 25)
    scalar = lambda s: lambda v: jnp.sum(jnp.sin(v) * s(v))
    transforms = {
        "forward": lambda s: s(x),
        "grad": lambda s: jax.grad(scalar(s))(x),
        "jvp": lambda s: jax.jvp(s, (x,), (jnp.cos(x),))[1],
        "vmap": lambda s: jax.vmap(jax.grad(s))(x),
        "jit": lambda s: jax.jit(jax.grad(scalar(s)))(x),
        # (A product like sin(v) * s(v) differs at second order: braintools drops the
        # cos(v) g(v) term of s's own derivative there; see docs/family.md.)
        "hessian": lambda s: jax.hessian(lambda v: jnp.sum(s(jnp.sin(v))))(x[:5]),
        "jacfwd": lambda s: jax.jacfwd(s)(x[:5]),
    }
    for what, f in transforms.items():
        np.testing.assert_allclose(f(ours), f(theirs), rtol=1e-6, atol=1e-7, err_msg=what)
    assert np.any(transforms["grad"](ours) != 0)


def test_every_braintools_name_is_here():
    assert set(bt.__all__) <= set(sg.__all__)
    for name in NAMES:
        assert issubclass(getattr(sg, name), sg.NativeSurrogate)


@pytest.mark.parametrize("name, params", CASES)
def test_xla_lowering_formula_with_static_params(name, params):
    """The jnp formula other platforms lower to takes the static (float) parameters
    the native kernel gets, and agrees with it."""
    from spikegrad import _lowering

    ours = getattr(sg, name)(**params)
    static = ours._static_params()
    x = jnp.asarray(np.linspace(-6.0, 6.0, 241, dtype=np.float32))
    t = jnp.ones_like(x)
    via_formula = np.asarray(_lowering.xla_grad(x, t, surrogate=ours._native_name, params=static))
    want = reference(name, np.asarray(x), full_params(type(ours), params))
    assert_matches(via_formula, want, where="XLA formula vs float64 reference", tol=4e-6 * peak(want))


@pytest.mark.parametrize("kind", ["numpy_scalar", "array_0d", "array_per_element"])
@pytest.mark.parametrize("name", NAMES)
def test_parameter_kinds(name, kind):
    """A parameter as a NumPy scalar or 0-d array (native path) or as an array that
    broadcasts against x (XLA path) gives braintools' gradients."""
    key = _traced_param(name)
    base = float(full_params(getattr(sg, name), {})[key]) * 1.25
    x = jnp.linspace(-3.0, 3.0, 61)
    value = {
        "numpy_scalar": np.float32(base),
        "array_0d": jnp.asarray(base),
        "array_per_element": jnp.linspace(0.8, 1.2, 61) * base,
    }[kind]
    ours, theirs = getattr(sg, name)(**{key: value}), getattr(bt, name)(**{key: value})
    want = jax.grad(lambda v: jnp.sum(theirs(v)))(x)
    got = jax.grad(lambda v: jnp.sum(ours(v)))(x)
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6 * float(np.max(np.abs(want))))
