"""The end-to-end benchmark model: one BPTT training step of a LIF network
784-256-10 over T steps with ``lax.scan``, a loss on the output spike counts,
and an SGD update; the spike function is the surrogate under test."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

SIZES = (784, 256, 10)
DECAY = 0.9
THRESHOLD = 1.0
LEARNING_RATE = 1e-2


def make_inputs(batch: int, steps: int, seed: int = 0):
    """Poisson-like input spikes (T, B, 784), labels, and weights that make
    both layers spike."""
    rng = np.random.default_rng(seed)
    n_in, n_hidden, n_out = SIZES
    xs = (rng.random((steps, batch, n_in)) < 0.15).astype(np.float32)
    labels = rng.integers(0, n_out, size=batch)
    w1 = rng.normal(0.0, 2.0 / np.sqrt(n_in * 0.15), (n_in, n_hidden)).astype(np.float32)
    w2 = rng.normal(0.0, 4.0 / np.sqrt(n_hidden * 0.2), (n_hidden, n_out)).astype(np.float32)
    return (jnp.asarray(w1), jnp.asarray(w2)), jnp.asarray(xs), jnp.asarray(labels)


def make_train_step(spike_fn):
    """``step(params, xs, labels) -> (new_params, loss)``, not yet jitted."""

    def loss_fn(params, xs, labels):
        w1, w2 = params
        batch = xs.shape[1]

        def step(carry, x_t):
            v1, v2, count = carry
            v1 = DECAY * v1 + x_t @ w1
            s1 = spike_fn(v1 - THRESHOLD)
            v1 = v1 - s1 * THRESHOLD  # soft reset
            v2 = DECAY * v2 + s1 @ w2
            s2 = spike_fn(v2 - THRESHOLD)
            v2 = v2 - s2 * THRESHOLD
            return (v1, v2, count + s2), None

        zeros = lambda n: jnp.zeros((batch, n), jnp.float32)  # noqa: E731
        init = (zeros(SIZES[1]), zeros(SIZES[2]), zeros(SIZES[2]))
        (_, _, count), _ = jax.lax.scan(step, init, xs)
        logp = jax.nn.log_softmax(count, axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=-1))

    def train_step(params, xs, labels):
        loss, grads = jax.value_and_grad(loss_fn)(params, xs, labels)
        new = jax.tree_util.tree_map(lambda p, g: p - LEARNING_RATE * g, params, grads)
        return new, loss

    return train_step
