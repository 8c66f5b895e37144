"""End to end: a small brainpy.state LIF network trained for a few steps with
brainstate, once with spikegrad's surrogate and once with braintools' of the
same name. Losses and every parameter gradient agree at every step."""

import brainpy.state as bps
import brainstate
import braintools
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spikegrad.surrogate

# Four kinds of kernel: a sum of exps, one exp, a logistic, a clipped line.
CANDIDATES = ["MultiGaussianGrad", "GaussianGrad", "Sigmoid", "ReluGrad"]
SHARED = [n for n in CANDIDATES if hasattr(spikegrad.surrogate, n) and hasattr(braintools.surrogate, n)]
N_IN, N_HIDDEN, N_OUT, BATCH, STEPS_IN_TIME, TRAIN_STEPS = 6, 12, 3, 4, 20, 3


def test_enough_surrogates_to_compare():
    # The pipeline is checked with at least four different surrogates.
    assert len(SHARED) >= 4, f"only {SHARED} exist in both spikegrad.surrogate and braintools.surrogate"


class Net(brainstate.nn.Module):
    """Linear -> LIF -> Linear, with fixed initial weights."""

    def __init__(self, spk_fun):
        super().__init__()
        rng = np.random.default_rng(0)
        w1 = jnp.asarray(rng.normal(scale=0.8, size=(N_IN, N_HIDDEN)), jnp.float32)
        w2 = jnp.asarray(rng.normal(scale=0.5, size=(N_HIDDEN, N_OUT)), jnp.float32)
        self.fc1 = brainstate.nn.Linear(N_IN, N_HIDDEN, w_init=w1)
        self.lif = bps.LIF(N_HIDDEN, tau=5.0 * u.ms, V_th=1.0 * u.mV, spk_fun=spk_fun)
        self.fc2 = brainstate.nn.Linear(N_HIDDEN, N_OUT, w_init=w2)

    def update(self, x):
        return self.fc2(self.lif(self.fc1(x) * u.mA))


def train(spk_fun):
    """Losses and gradients (as NumPy) of TRAIN_STEPS steps of plain SGD."""
    net = Net(spk_fun)
    rng = np.random.default_rng(1)
    inputs = jnp.asarray(rng.uniform(0, 3, size=(STEPS_IN_TIME, BATCH, N_IN)), jnp.float32)
    target = jnp.asarray(rng.normal(size=(BATCH, N_OUT)), jnp.float32)
    params = net.states(brainstate.ParamState)

    def loss_fn():
        brainstate.nn.init_all_states(net, batch_size=BATCH)
        with brainstate.environ.context(dt=1.0 * u.ms):
            outs = brainstate.transform.for_loop(net, inputs)
        return jnp.mean((outs.mean(0) - target) ** 2)

    grad_fn = brainstate.transform.grad(loss_fn, grad_states=params, return_value=True)
    history = []
    for _ in range(TRAIN_STEPS):
        grads, loss = grad_fn()
        history.append((float(loss), jax.tree.map(np.asarray, grads)))
        for key, state in params.items():
            state.value = jax.tree.map(lambda p, g: p - 0.5 * g, state.value, grads[key])
    return history


@pytest.mark.parametrize("name", SHARED)
def test_training_matches_braintools(name):
    ours = train(getattr(spikegrad.surrogate, name)())
    theirs = train(getattr(braintools.surrogate, name)())
    for step, ((loss_o, grads_o), (loss_t, grads_t)) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(loss_o, loss_t, rtol=1e-5, err_msg=f"loss at step {step}")
        flat_o, tree_o = jax.tree.flatten(grads_o)
        flat_t, tree_t = jax.tree.flatten(grads_t)
        assert tree_o == tree_t
        for a, b in zip(flat_o, flat_t):
            scale = max(float(np.abs(b).max()), 1e-6)
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * scale, err_msg=f"grad at step {step}")
    # the first layer only learns through the surrogate: its gradient must be non-zero
    first_layer = [
        g for path, g in jax.tree_util.tree_leaves_with_path(ours[0][1]) if "fc1" in jax.tree_util.keystr(path)
    ]
    assert first_layer and any(np.abs(g).max() > 0 for g in first_layer)
    assert ours[-1][0] < ours[0][0]  # and training makes progress
