"""``spikegrad.neuron.LIF``/``ALIF``/``CubaLIF``: brainstate modules whose call
runs a whole sequence; they match brainpy.state's classes stepped over the
same sequence, including the states they leave behind and a second call
continuing from them; a ``brainstate.ParamState`` parameter (a PLIF's
per-neuron tau) is trained by ``brainstate.transform.grad``."""

from __future__ import annotations

import brainpy
import brainstate
import braintools
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.neuron_reference import CLASSES, MODELS, PARAMS, STATES, brainpy_run, inputs

import spikegrad.surrogate as sg
from spikegrad import neuron


def _module_params(model):
    return {k: v for k, v in PARAMS[model].items() if k != "dt"}


def _drive(neuron_, model, chunk):
    """brainpy.state's neuron over ``chunk``, driven as a projection would."""

    def step(xt):
        if model == "cuba_lif":
            neuron_.add_delta_input("x", xt)
            return neuron_(jnp.zeros_like(xt))
        return neuron_(xt)

    return brainstate.transform.for_loop(step, chunk)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("reset", ["soft", "hard"])
def test_module_matches_brainpy_state_across_calls(model, reset):
    x, _ = inputs(40, 30, (4, 16), model)
    p = _module_params(model)
    with brainstate.environ.context(dt=PARAMS[model]["dt"]):
        ours = getattr(neuron, CLASSES[model])(16, **p, spk_fun=sg.MultiGaussianGrad(), spk_reset=reset)
        ours.init_state(batch_size=4)
        inits = {f"{n}_initializer": braintools.init.Constant(0.0) for n in STATES[model]}
        theirs = getattr(brainpy.state, CLASSES[model])(
            16, **p, **inits, spk_fun=braintools.surrogate.MultiGaussianGrad(), spk_reset=reset
        )
        theirs.init_state(batch_size=4)
        for n in STATES[model]:
            assert getattr(ours, n).value.shape == (4, 16)
            assert isinstance(getattr(ours, n), brainstate.HiddenState)
        for chunk in (x[:12], x[12:]):
            got = ours(chunk)
            want = _drive(theirs, model, chunk)
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
            for n in STATES[model]:
                np.testing.assert_allclose(
                    np.asarray(getattr(ours, n).value), np.asarray(getattr(theirs, n).value), atol=4e-6
                )
        assert 0.05 < float(jnp.mean(want)) < 0.95
        ours.reset_state(batch_size=4)
        for n in STATES[model]:
            np.testing.assert_array_equal(np.asarray(getattr(ours, n).value), np.zeros((4, 16)))


@pytest.mark.parametrize("model", MODELS)
def test_module_initializers_and_unbatched_state(model):
    names = STATES[model]
    with brainstate.environ.context(dt=0.5):
        inits = {f"{n}_initializer": 0.25 for n in names}
        inits[f"{names[0]}_initializer"] = braintools.init.Constant(0.5)
        m = getattr(neuron, CLASSES[model])((2, 3), **inits)
        m.init_state()
        for n in names:
            assert getattr(m, n).value.shape == (2, 3)
        np.testing.assert_array_equal(np.asarray(m.V.value), np.full((2, 3), 0.5))
        s = m(jnp.zeros((0, 2, 3)))
        assert s.shape == (0, 2, 3)
        np.testing.assert_array_equal(np.asarray(m.V.value), np.full((2, 3), 0.5))
        for n in names[1:]:
            np.testing.assert_array_equal(np.asarray(getattr(m, n).value), np.full((2, 3), 0.25))


def test_lif_v0_keyword():
    with brainstate.environ.context(dt=0.5):
        m = neuron.LIF((2, 3), v0=0.25)
        m.init_state(batch_size=2)
        np.testing.assert_array_equal(np.asarray(m.V.value), np.full((2, 2, 3), 0.25))


@pytest.mark.parametrize("model", MODELS)
def test_module_leaves_the_states_of_the_last_step_with_checkpoints(model):
    """The states left behind are the last checkpoint rows: any save_every."""
    x, _ = inputs(41, 17, (3, 5), model)
    finals = []
    for k in (1, 4, 17, 30):
        with brainstate.environ.context(dt=0.5):
            m = getattr(neuron, CLASSES[model])(5, save_every=k)
            m.init_state(batch_size=3)
            m(x)
            finals.append([np.asarray(getattr(m, n).value) for n in STATES[model]])
    for f in finals[1:]:
        for a, b in zip(f, finals[0]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("model", MODELS)
def test_trainable_per_neuron_tau(model):
    """A PLIF: ``tau`` a per-neuron ``brainstate.ParamState``; brainstate.transform.grad
    gives brainpy.state's gradient w.r.t. tau (traced there), and a step of
    gradient descent changes it."""
    n, dt = 12, PARAMS[model]["dt"]
    x, _ = inputs(42, 20, (4, n), model)
    w = jax.random.normal(jax.random.PRNGKey(0), x.shape)
    tau0 = jnp.linspace(1.5, 4.0, n)
    p = _module_params(model)
    p.pop("tau")
    with brainstate.environ.context(dt=dt):
        layer = getattr(neuron, CLASSES[model])(n, tau=brainstate.ParamState(tau0), **p, spk_fun=sg.Sigmoid(alpha=2.0))
        layer.init_state(batch_size=4)

        def loss():
            layer.reset_state(batch_size=4)
            return jnp.sum(w * layer(x))

        params = layer.states(brainstate.ParamState)
        grads = brainstate.transform.grad(loss, grad_states=params)()
    assert len(params) == 1
    (g,) = jax.tree.leaves(grads)
    z0 = tuple(jnp.zeros((4, n)) for _ in STATES[model])
    bt = braintools.surrogate.Sigmoid(alpha=2.0)
    want = jax.grad(lambda tau: jnp.sum(w * brainpy_run(model, x, z0, dict(PARAMS[model], tau=tau), bt)[0]))(tau0)
    assert np.abs(np.asarray(want)).max() > 0
    np.testing.assert_allclose(np.asarray(g), np.asarray(want), rtol=0, atol=5e-5 * np.abs(np.asarray(want)).max())
    # jit of the whole step, then an update through the state.
    with brainstate.environ.context(dt=dt):
        step = brainstate.transform.jit(
            lambda: brainstate.transform.grad(loss, grad_states=params, return_value=True)()
        )
        g2, value = step()
        np.testing.assert_allclose(np.asarray(jax.tree.leaves(g2)[0]), np.asarray(g), rtol=1e-5, atol=1e-6)
        (state,) = jax.tree.leaves(params, is_leaf=lambda s: isinstance(s, brainstate.State))
        state.value = state.value - 0.1 * jax.tree.leaves(g2)[0]
        assert not np.array_equal(np.asarray(layer.tau.value), np.asarray(tau0))
        assert np.isfinite(float(value))
