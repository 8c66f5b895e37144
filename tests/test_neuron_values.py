"""Fused neuron forward values (LIF, ALIF, CubaLIF): against brainpy.state's
classes themselves and against the float64 NumPy loop, both resets, float32
and float64, several surrogates (the forward does not depend on the
surrogate's shape, only on the step), scalar, per-neuron and traced
parameters, edge sizes."""

from __future__ import annotations

import braintools
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.neuron_reference import MODELS, PARAMS, Z0_NAMES, brainpy_run, inputs, numpy_run, per_neuron

import spikegrad.surrogate as sg
from spikegrad import neuron


def call(model, x, z0=(), params=None, **kw):
    """The public function of ``model`` with initial states ``z0`` (a tuple)."""
    params = PARAMS[model] if params is None else params
    return getattr(neuron, model)(x, *z0, **params, **kw)


def states_close(got, want, atol):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        b = np.asarray(b, np.float64)
        np.testing.assert_allclose(
            np.asarray(a, np.float64), b, rtol=0, atol=atol * max(1.0, np.abs(b).max(initial=0.0))
        )


def _spike_rate_is_mixed(spikes):
    rate = float(np.mean(np.asarray(spikes)))
    assert 0.05 < rate < 0.95, rate


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("reset", ["soft", "hard"])
@pytest.mark.parametrize("shape", [(7,), (3, 50), (2, 3, 40)])
def test_matches_numpy_float32(model, reset, shape):
    x, z0 = inputs(1, 25, shape, model)
    spikes, states = call(model, x, z0, spk_reset=reset, return_states=True)
    want_s, want_z = numpy_run(model, x, z0, PARAMS[model], hard=reset == "hard")
    assert spikes.dtype == jnp.float32 and all(s.dtype == jnp.float32 for s in states)
    assert spikes.shape == x.shape and all(s.shape == x.shape for s in states)
    np.testing.assert_array_equal(np.asarray(spikes), want_s)
    states_close(states, want_z, 2e-6)
    _spike_rate_is_mixed(spikes)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("reset", ["soft", "hard"])
def test_matches_numpy_float64(model, reset, x64):
    x, z0 = inputs(2, 40, (4, 33), model, dtype=np.float64)
    spikes, states = call(model, x, z0, spk_reset=reset, return_states=True)
    want_s, want_z = numpy_run(model, x, z0, PARAMS[model], hard=reset == "hard")
    assert spikes.dtype == jnp.float64 and all(s.dtype == jnp.float64 for s in states)
    np.testing.assert_array_equal(np.asarray(spikes), want_s)
    states_close(states, want_z, 1e-13)


SURROGATES = [
    (sg.ReluGrad(), braintools.surrogate.ReluGrad()),
    (sg.MultiGaussianGrad(), braintools.surrogate.MultiGaussianGrad()),
    (sg.Sigmoid(alpha=2.0), braintools.surrogate.Sigmoid(alpha=2.0)),
]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("reset", ["soft", "hard"])
@pytest.mark.parametrize("ours, theirs", SURROGATES, ids=[type(o).__name__ for o, _ in SURROGATES])
def test_matches_brainpy_state(model, reset, ours, theirs):
    x, z0 = inputs(3, 30, (5, 64), model)
    spikes, states = call(model, x, z0, spk_fun=ours, spk_reset=reset, return_states=True)
    want_s, want_z = brainpy_run(model, x, z0, PARAMS[model], theirs, hard=reset == "hard")
    np.testing.assert_array_equal(np.asarray(spikes), np.asarray(want_s))
    states_close(states, want_z, 2e-6)
    _spike_rate_is_mixed(spikes)


@pytest.mark.parametrize("model", MODELS)
def test_default_states_are_zero_and_sequences_continue(model):
    x, z0 = inputs(4, 20, (6, 10), model)
    whole_s, whole_z = call(model, x, return_states=True)
    zeros = tuple(jnp.zeros((6, 10)) for _ in z0)
    np.testing.assert_array_equal(np.asarray(whole_s), np.asarray(call(model, x, zeros)))
    s1, z1 = call(model, x[:8], return_states=True)
    s2, z2 = call(model, x[8:], tuple(z[-1] for z in z1), return_states=True)
    np.testing.assert_array_equal(np.concatenate([s1, s2]), np.asarray(whole_s))
    for a, b, w in zip(z1, z2, whole_z):
        np.testing.assert_array_equal(np.concatenate([a, b]), np.asarray(w))


@pytest.mark.parametrize("model", MODELS)
def test_broadcast_states_and_edge_sizes(model):
    x, z0 = inputs(5, 12, (4, 9), model)
    half = tuple(0.5 for _ in z0)
    full = tuple(jnp.full((4, 9), 0.5) for _ in z0)
    np.testing.assert_array_equal(np.asarray(call(model, x, half)), np.asarray(call(model, x, full)))
    row = tuple(z[0] for z in z0)  # [9] broadcasts over the leading neuron axis
    np.testing.assert_array_equal(
        np.asarray(call(model, x, row)), np.asarray(call(model, x, tuple(jnp.broadcast_to(r, (4, 9)) for r in row)))
    )
    for shape in [(0, 4, 9), (5, 0), (3, 2, 0), (0,), (4,), (1, 1), (0, 1)]:
        xs = jnp.ones(shape, jnp.float32)
        s, z = call(model, xs, return_states=True)
        assert s.shape == shape and all(a.shape == shape for a in z)
        want_s, want_z = numpy_run(model, xs, tuple(None for _ in z0), PARAMS[model])
        np.testing.assert_array_equal(np.asarray(s), want_s)
        states_close(z, want_z, 2e-6)


@pytest.mark.parametrize("model", MODELS)
def test_one_step(model):
    x, z0 = inputs(6, 1, (3, 17), model)
    s, z = call(model, x, z0, return_states=True)
    want_s, want_z = numpy_run(model, x, z0, PARAMS[model])
    np.testing.assert_array_equal(np.asarray(s), want_s)
    states_close(z, want_z, 2e-6)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("reset", ["soft", "hard"])
def test_per_neuron_parameters(model, reset):
    shape = (3, 40)
    x, z0 = inputs(7, 30, shape, model)
    params = per_neuron(model, shape)
    spikes, states = call(model, x, z0, params, spk_reset=reset, return_states=True)
    want_s, want_z = numpy_run(model, x, z0, params, hard=reset == "hard")
    np.testing.assert_array_equal(np.asarray(spikes), want_s)
    states_close(states, want_z, 4e-6)
    _spike_rate_is_mixed(spikes)
    # The fused primitive runs, with one [*shape] operand per constant.
    jaxpr = jax.make_jaxpr(lambda x: call(model, x, z0, params, spk_reset=reset))(x)
    (eqn,) = [e for e in jaxpr.eqns if e.primitive.name == "spikegrad_neuron_forward"]
    assert all(v.aval.shape == shape for v in eqn.invars[1:])


@pytest.mark.parametrize("model", MODELS)
def test_traced_parameters_equal_concrete_ones(model):
    x, z0 = inputs(8, 20, (4, 24), model)
    params = per_neuron(model, (4, 24))
    want = call(model, x, z0, params, return_states=True)
    got = jax.jit(lambda p: call(model, x, z0, p, return_states=True))(params)
    np.testing.assert_array_equal(np.asarray(got[0]), np.asarray(want[0]))
    states_close(got[1], want[1], 1e-6)
    jaxpr = jax.make_jaxpr(lambda p: call(model, x, z0, p))(params)
    assert "spikegrad_neuron_forward" in str(jaxpr) and "scan" not in str(jaxpr)


@pytest.mark.parametrize("model", MODELS)
def test_user_surrogate_takes_the_scan_path_with_the_same_values(model):
    class MySigmoid(sg.Surrogate):
        def surrogate_grad(self, x):
            z = jnp.exp(-4.0 * x)
            return 4.0 * z / (1 + z) ** 2

    x, z0 = inputs(9, 20, (8, 16), model)
    ours = call(model, x, z0, spk_fun=MySigmoid(), return_states=True)
    fused = call(model, x, z0, spk_fun=sg.Sigmoid(alpha=4.0), return_states=True)
    assert "scan" in str(jax.make_jaxpr(lambda x: call(model, x, z0, spk_fun=MySigmoid()))(x))
    np.testing.assert_array_equal(np.asarray(ours[0]), np.asarray(fused[0]))
    states_close(ours[1], fused[1], 2e-6)


@pytest.mark.parametrize("model", MODELS)
def test_save_every_does_not_change_values(model):
    x, z0 = inputs(10, 23, (3, 8), model)
    want = call(model, x, z0)
    for k in (1, 2, 5, 23, 100):
        np.testing.assert_array_equal(np.asarray(call(model, x, z0, save_every=k)), np.asarray(want))


def test_lif_return_v_is_the_first_state():
    x, (v0,) = inputs(11, 15, (4, 6))
    s, v = neuron.lif(x, v0, **PARAMS["lif"], return_v=True)
    s2, (v2,) = neuron.lif(x, v0, **PARAMS["lif"], return_states=True)
    np.testing.assert_array_equal(np.asarray(s), np.asarray(s2))
    np.testing.assert_array_equal(np.asarray(v), np.asarray(v2))


def test_initial_state_arguments_are_named_after_the_states():
    """``v0, a0, g0``: the initial states in model order (the parameters and
    defaults against every description: test_neuron_signatures.py)."""
    import inspect

    for name, z0 in Z0_NAMES.items():
        assert tuple(inspect.signature(getattr(neuron, name)).parameters)[1 : 1 + len(z0)] == z0, name


@pytest.mark.parametrize("model", MODELS)
def test_nan_parameter_under_jit(model):
    """A traced parameter cannot be checked: a NaN one gives no spikes (the
    Heaviside of NaN is 0), NaN states from the first step and NaN gradients
    (docs/neurons.md)."""
    x, z0 = inputs(12, 6, (5,), model)

    def f(tau):
        return call(model, x, z0, dict(PARAMS[model], tau=tau), return_states=True, spk_fun=sg.Sigmoid())

    s, z = jax.jit(f)(jnp.float32(np.nan))
    np.testing.assert_array_equal(np.asarray(s), np.zeros(x.shape))
    assert np.all(np.isnan(np.asarray(z[0])))
    g = jax.grad(lambda tau: jnp.sum(f(tau)[0] * x) + jnp.sum(f(tau)[1][0]))(jnp.float32(np.nan))
    assert np.isnan(float(g))
    gx = jax.grad(lambda x: jnp.sum(call(model, x, z0, dict(PARAMS[model], tau=jnp.nan), spk_fun=sg.Sigmoid())))
    with pytest.raises(ValueError, match="finite"):
        gx(x)
