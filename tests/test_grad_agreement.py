"""``surrogate_grad(x)`` and ``jax.grad`` of the spike agree bit for bit, for
all 18 surrogates, every float dtype, eager and under jit, on the native and
the XLA-native paths; and ``surrogate_grad`` refuses complex input as the
call does."""

from __future__ import annotations

import contextlib

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest
from helpers.family import PARAMS, full_params, grid
from helpers.x64 import enable_x64

import spikegrad
import spikegrad.surrogate as sg

NAMES = sorted(PARAMS)
DTYPES = {"float32": np.float32, "bfloat16": ml_dtypes.bfloat16, "float16": np.float16, "float64": np.float64}


def _bits(a):
    """The bit patterns, every NaN as one pattern: IEEE 754 leaves a NaN
    result's sign unspecified, and XLA's eager and fused programs differ there."""
    a = np.asarray(a)
    nan = np.isnan(a.astype(np.float32))
    a = np.where(nan, np.asarray(np.nan, a.dtype), a)
    return a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize])


def _both(f, x, jit):
    vjp_grad = lambda v: jax.vjp(f, v)[1](jnp.ones_like(v))[0]  # noqa: E731
    sgrad = f.surrogate_grad
    if jit:
        vjp_grad, sgrad = jax.jit(vjp_grad), jax.jit(sgrad)
    return vjp_grad(x), sgrad(x)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("name", NAMES)
def test_surrogate_grad_is_grad_bit_for_bit(name, dtype, jit):
    dt = DTYPES[dtype]
    with enable_x64() if dtype == "float64" else contextlib.nullcontext():
        for params in PARAMS[name][:2]:
            f = getattr(sg, name)(**params)
            x = jnp.asarray(grid(name, full_params(type(f), params), dt))
            g, s = _both(f, x, jit)
            assert g.dtype == s.dtype == x.dtype
            np.testing.assert_array_equal(_bits(g), _bits(s), err_msg=f"{name}{params} {dtype}")


def _defaults(f):
    return {n: getattr(f, n) for n in f._param_names}


@pytest.mark.parametrize(
    "make, xs",
    [
        (lambda: sg.SquarewaveFourierSeries(n=3, t_period=6.0), [1.0, -1.0]),
        (lambda: sg.Sigmoid(alpha=3.0), [2.0, -2.0]),
    ],
)
def test_scalar_grad_equals_surrogate_grad_where_braintools_suites_check(make, xs):
    f = make()
    for x in xs:
        x = jnp.float32(x)
        assert _bits(jax.grad(f)(x)) == _bits(f.surrogate_grad(x))
        assert _bits(jax.jit(jax.grad(f))(x)) == _bits(jax.jit(f.surrogate_grad)(x))


@pytest.mark.parametrize("name", NAMES)
def test_traced_parameter_path_agrees_too(name):
    f = getattr(sg, name)()
    x = jnp.linspace(-3, 3, 41)

    @jax.jit
    def both(params):
        g = getattr(sg, name)(**params)
        return jax.vjp(g, x)[1](jnp.ones_like(x))[0], g.surrogate_grad(x)

    params = {n: jnp.float32(v) for n, v in _defaults(f).items() if isinstance(v, float)}
    for rules in ("0.3", "0.4"):
        with spikegrad.braintools_rules(rules):
            a, b = both(params)
        np.testing.assert_array_equal(_bits(a), _bits(b))


@pytest.mark.parametrize("name", NAMES)
def test_complex_input_to_surrogate_grad_raises_like_the_call(name):
    f = getattr(sg, name)()
    z = jnp.array([1.0 + 1.0j])
    with pytest.raises(TypeError) as call:
        f(z)
    with pytest.raises(TypeError) as grad:
        f.surrogate_grad(z)
    assert str(grad.value) == str(call.value)
