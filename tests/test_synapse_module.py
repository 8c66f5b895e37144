"""SpikeLinear against brainstate.nn.Linear itself: the same parameters from
the same random seed (layout, keys, shapes, values), the same outputs and
gradients, with and without bias and mask, under brainstate's own grad."""

import brainstate
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spikegrad.synapse import SpikeLinear


def _pair(seed, **kwargs):
    brainstate.random.seed(seed)
    ours = SpikeLinear(20, 7, **kwargs)
    brainstate.random.seed(seed)
    theirs = brainstate.nn.Linear(20, 7, **kwargs)
    return ours, theirs


def _spikes(shape=(5, 20), rate=0.3, seed=1):
    rng = np.random.default_rng(seed)
    return jnp.asarray(rng.random(shape) < rate, jnp.float32)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"b_init": None},
        {"b_init": brainstate.nn.init.ZeroInit()},
        {"b_init": brainstate.nn.init.Constant(0.25), "w_init": brainstate.nn.init.XavierNormal()},
        {"b_init": None, "w_mask": np.arange(140).reshape(20, 7) % 3 != 0},
    ],
)
def test_same_params_outputs_and_grads(kwargs):
    ours, theirs = _pair(3, **kwargs)
    assert set(ours.weight.value) == set(theirs.weight.value)
    for key, value in theirs.weight.value.items():
        np.testing.assert_array_equal(ours.weight.value[key], value)
        assert ours.weight.value[key].shape == value.shape
    x = _spikes()
    np.testing.assert_allclose(ours(x), theirs(x), rtol=1e-6, atol=1e-6)

    def grads(layer):
        return brainstate.transform.grad(lambda: jnp.sum(jnp.sin(layer(x))), layer.states(brainstate.ParamState))()

    g_ours, g_theirs = grads(ours), grads(theirs)
    assert len(g_ours) == len(g_theirs) == 1
    (a,), (b,) = g_ours.values(), g_theirs.values()
    assert set(a) == set(b)
    for key in b:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-5, atol=1e-6)


def test_default_is_bias_free_and_bool_spikes_work():
    brainstate.random.seed(0)
    layer = SpikeLinear(6, 4)
    assert set(layer.weight.value) == {"weight"}
    x = _spikes((3, 6), seed=2)
    np.testing.assert_allclose(layer(x != 0), x @ layer.weight.value["weight"], rtol=1e-6)
    assert layer(x[:, None, :]).shape == (3, 1, 4)


def test_jit_in_a_training_step():
    ours, theirs = _pair(7, b_init=brainstate.nn.init.ZeroInit())
    x = _spikes((8, 20), seed=4)

    def trainer(layer):
        params = layer.states(brainstate.ParamState)

        @brainstate.transform.jit
        def step():
            grads = brainstate.transform.grad(lambda: jnp.mean(layer(x) ** 2), params)()
            for key, state in params.items():
                state.value = jax.tree.map(lambda p, g: p - 0.1 * g, state.value, grads[key])
            return jnp.mean(layer(x) ** 2)

        return step

    step_ours, step_theirs = trainer(ours), trainer(theirs)
    for _ in range(3):
        a, b = step_ours(), step_theirs()
    np.testing.assert_allclose(a, b, rtol=1e-5)
    np.testing.assert_allclose(ours.weight.value["weight"], theirs.weight.value["weight"], rtol=1e-5, atol=1e-6)


def test_bad_sizes_and_inputs():
    with pytest.raises(ValueError, match="leading entries"):
        SpikeLinear((2, 3), (4, 5))
    layer = SpikeLinear(3, 2)
    with pytest.raises(ValueError, match="last axis of spikes"):
        layer(jnp.ones((2, 4)))
    with pytest.raises(TypeError, match="bool or floating"):
        layer(jnp.ones((2, 3), jnp.int32))
