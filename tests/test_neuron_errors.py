"""Bad input to the fused neurons gets a clear Python error, naming the
parameter, before any kernel runs (and at trace time under jit)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.neuron_reference import MODELS, PARAMS, Z0_NAMES

from spikegrad import neuron

X = jnp.ones((4, 3), jnp.float32)
POSITIVE = {"lif": ("dt", "tau"), "alif": ("dt", "tau", "tau_a"), "cuba_lif": ("dt", "tau", "tau_syn")}


def call(model, x=X, *z0, **kw):
    return getattr(neuron, model)(x, *z0, **(PARAMS[model] | kw))


class _Opaque:
    """A value of no numeric kind, with a fixed repr: test ids must be the same
    in every pytest-xdist worker (an ``object()``'s repr holds its address)."""

    def __repr__(self):
        return "object()"


def _bad_cases():
    for model in MODELS:
        for name in POSITIVE[model]:
            yield model, {name: 0.0}, ValueError, f"{name} must be > 0"
            yield model, {name: -1.0}, ValueError, f"{name} must be > 0"
            if name != "dt":
                yield model, {name: np.array([1.0, -1.0, 2.0])}, ValueError, f"{name} must be > 0"
        for name in PARAMS[model]:
            yield model, {name: np.nan}, ValueError, f"{name} must be finite"
            yield model, {name: np.array([1.0, np.inf, 1.0])}, ValueError, f"{name} must be finite"
            yield model, {name: np.ones(4)}, ValueError, f"{name} of shape \\[4\\] does not broadcast"
            yield model, {name: np.ones((2, 3))}, ValueError, f"{name} of shape \\[2, 3\\] does not broadcast"
            yield model, {name: 1 + 2j}, TypeError, f"{name} must be real"
            yield model, {name: np.array([1.0, 2.0, 3.0], np.complex64)}, TypeError, f"{name} must be real"
            yield model, {name: "a"}, TypeError, f"{name} must be a real number"
            yield model, {name: None}, TypeError, f"{name} must be a real number"
            yield model, {name: _Opaque()}, TypeError, f"{name} must be a real number"
        yield model, dict(V_th=0.5, V_reset=0.5), ValueError, "V_th must differ"
        yield model, dict(V_th=np.array([1.0, 0.0, 1.0]), V_reset=0.0), ValueError, "V_th must differ"
        yield model, dict(spk_reset="none"), ValueError, "spk_reset"
        yield model, dict(spk_fun=3), TypeError, "spk_fun"
        for k in (0, -1, 1.5, 2.0, True, "2", np.int64(0)):
            yield model, dict(save_every=k), ValueError, "save_every must be a positive int"


CASES = list(_bad_cases())


@pytest.mark.parametrize(
    "model, kwargs, error, match",
    CASES,
    ids=[f"{m}-{'-'.join(f'{k}={v!r}'[:24] for k, v in kw.items())}" for m, kw, *_ in CASES],
)
def test_bad_parameters(model, kwargs, error, match):
    with pytest.raises(error, match=match):
        call(model, **kwargs)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(
    "x, error, match",
    [
        (jnp.ones((4, 3), jnp.int32), TypeError, "real floating"),
        (jnp.ones((4, 3), jnp.complex64), TypeError, "real floating"),
        (jnp.ones((4, 3), bool), TypeError, "real floating"),
        (jnp.float32(1.0), ValueError, "time-major"),
        ("abc", TypeError, "real floating"),
    ],
)
def test_bad_inputs(model, x, error, match):
    with pytest.raises(error, match=match):
        call(model, x)


@pytest.mark.parametrize("model", MODELS)
def test_initial_state_shape_and_dtype(model):
    n = len(Z0_NAMES[model])
    for i, name in enumerate(Z0_NAMES[model]):
        for bad in (jnp.zeros((4,)), jnp.zeros((2, 3))):
            z0 = [None] * n
            z0[i] = bad
            with pytest.raises(ValueError, match=f"{name} of shape"):
                call(model, X, *z0)
        z0 = [None] * n
        z0[i] = jnp.zeros((3,), jnp.int32)
        with pytest.raises(TypeError, match=f"{name} must be floating"):
            call(model, X, *z0)
        z0[i] = "abc"
        with pytest.raises(TypeError, match=f"{name} must be a real floating"):
            call(model, X, *z0)


@pytest.mark.parametrize("model", MODELS)
def test_traced_parameters_are_checked_for_what_a_trace_shows(model):
    with pytest.raises(ValueError, match="tau of shape \\[4\\] does not broadcast"):
        jax.jit(lambda tau: call(model, tau=tau))(jnp.ones(4))
    with pytest.raises(TypeError, match="R must be real"):
        jax.jit(lambda r: call(model, R=r))(jnp.ones(3, jnp.complex64))


@pytest.mark.parametrize("model", MODELS)
def test_errors_under_jit_are_raised_at_trace_time(model):
    with pytest.raises(ValueError, match="dt must be > 0"):
        jax.jit(lambda x: call(model, x, dt=-0.1))(X)


def test_lif_return_v_and_return_states_exclude_each_other():
    with pytest.raises(ValueError, match="return_v or return_states"):
        neuron.lif(X, **PARAMS["lif"], return_v=True, return_states=True)


def test_modules_reject_a_bad_reset():
    for cls in ("LIF", "ALIF", "CubaLIF"):
        with pytest.raises(ValueError, match="spk_reset"):
            getattr(neuron, cls)(3, spk_reset="x")


def test_native_validation_matches():
    """The kernels' own checks refuse what the Python layer never sends."""
    from spikegrad import _native

    for model in MODELS:
        _native.check_neuron(model, "relu_grad", [0.3, 1.0], True, 1)
        _native.check_neuron(model, "multi_gaussian", [0.15, 6.0, 0.5, 0.5], False, 7)
        with pytest.raises(ValueError, match="stride must be >= 1"):
            _native.check_neuron(model, "relu_grad", [0.3, 1.0], False, 0)
        with pytest.raises(ValueError, match="unknown surrogate"):
            _native.check_neuron(model, "nope", [], False, 1)
    with pytest.raises(ValueError, match="unknown neuron model"):
        _native.check_neuron("nope", "relu_grad", [0.3, 1.0], False, 1)
