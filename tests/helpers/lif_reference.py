"""Independent references for the fused LIF neuron.

* ``numpy_lif``: the LIF loop in float64 NumPy, written in brainpy.state's own
  exponential-Euler form ``V' = U + (1 - a)(V_rest + R x - U)``;
* ``brainpy_lif``: ``brainpy.state.LIF`` itself, stepped by
  ``brainstate.transform.for_loop`` under ``brainstate.environ.context(dt=...)``,
  as a pure function of ``(x, v0)`` (so ``jax.grad`` and ``jax.jvp`` apply);
* ``scan_lif``: a plain ``lax.scan`` of the update with any spike function
  (a braintools surrogate in the tests), differentiated by JAX.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

PARAMS = dict(dt=0.5, tau=2.0, R=1.5, V_th=1.0, V_reset=-0.2, V_rest=0.1)


def numpy_lif(x, v0, *, dt, tau, R, V_th, V_reset, V_rest, hard=False):
    """``(spikes, v)`` in float64 for time-major ``x``."""
    x = np.asarray(x, np.float64)
    v = np.broadcast_to(np.asarray(v0, np.float64), x.shape[1:]).copy()
    one_minus_a = -np.expm1(-dt / tau)
    delta = V_th - V_reset
    spikes, vs = [], []
    for xt in x:
        s = ((v - V_th) / delta >= 0).astype(np.float64)
        u = v - ((v - V_reset) if hard else delta) * s
        v = u + one_minus_a * (V_rest + R * xt - u)
        vs.append(v)
        spikes.append(((v - V_th) / delta >= 0).astype(np.float64))
    if not vs:  # no steps
        return np.zeros(x.shape), np.zeros(x.shape)
    return np.stack(spikes), np.stack(vs)


def brainpy_lif(x, v0, *, dt, tau, R, V_th, V_reset, V_rest, spk_fun, hard=False):
    """``(spikes, v)`` from ``brainpy.state.LIF`` stepped over ``x``."""
    import brainpy
    import brainstate
    import braintools

    with brainstate.environ.context(dt=dt):
        neuron = brainpy.state.LIF(
            x.shape[1:],
            R=R,
            tau=tau,
            V_th=V_th,
            V_reset=V_reset,
            V_rest=V_rest,
            V_initializer=braintools.init.Constant(0.0),
            spk_fun=spk_fun,
            spk_reset="hard" if hard else "soft",
        )
        neuron.init_state()
        neuron.V.value = jnp.broadcast_to(v0, x.shape[1:]).astype(x.dtype)

        def step(xt):
            return neuron(xt), neuron.V.value

        return brainstate.transform.for_loop(step, x)


def scan_lif(x, v0, *, dt, tau, R, V_th, V_reset, V_rest, spk_fun, hard=False):
    """``(spikes, v)`` by a plain ``lax.scan`` of brainpy.state's update."""
    a = np.exp(-dt / tau)
    delta = V_th - V_reset

    def step(v, xt):
        s = spk_fun((v - V_th) / delta)
        reset = (jax.lax.stop_gradient(v) - V_reset) if hard else delta
        u = v - reset * s
        vn = u + (1 - a) * (V_rest + R * xt - u)
        return vn, (spk_fun((vn - V_th) / delta), vn)

    _, out = jax.lax.scan(step, jnp.broadcast_to(v0, x.shape[1:]).astype(x.dtype), x)
    return out


def inputs(key, T, shape, dtype=np.float32, scale=3.0):
    """A drive that makes a good share of neurons spike, and a random v0."""
    kx, kv = jax.random.split(jax.random.PRNGKey(key))
    x = jax.random.uniform(kx, (T, *shape), jnp.float32, -0.5, scale).astype(dtype)
    v0 = jax.random.uniform(kv, shape, jnp.float32, -0.3, 1.2).astype(dtype)
    return x, v0


def away_from_threshold(v, V_th, V_reset, margin):
    """Mask of potentials whose spike decision is robust to ``margin`` of rounding."""
    return np.abs((np.asarray(v, np.float64) - V_th) / (V_th - V_reset)) > margin
