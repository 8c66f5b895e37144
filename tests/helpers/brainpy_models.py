"""brainpy.state's IF, LIFRef and Gif stepped over a whole sequence, as pure
functions of ``(x, z0, params)`` in spikegrad's state layout: the independent
reference of tests/test_neuron_if_ref_gif.py.

Each class is built with the (possibly traced) parameters, its states are set
from ``z0`` and it is stepped by ``brainstate.transform.for_loop`` under
``brainstate.environ`` ``dt`` and ``t = i dt``. LIFRef keeps the absolute
time of the last spike (``last_spike_time``); spikegrad keeps the time since
it, ``r``: at the start ``last_spike_time = -(r0 + dt)`` (the step at
``t = 0`` is ``r0 + dt`` after it), and after step ``i`` ``r = t_i -
last_spike_time`` (``inf`` before any spike).
"""

from __future__ import annotations

import jax.numpy as jnp

#: Parameters under which a good share of neurons spike on ``drive``'s input.
PARAMS = {
    "if": dict(dt=0.5, tau=2.0, R=1.5, V_th=1.0),
    "lif_ref": dict(dt=0.5, tau=2.0, tau_ref=1.2, R=1.5, V_th=1.0, V_reset=-0.2, V_rest=0.1),
    "gif": dict(
        dt=0.5,
        R=20.0,
        tau=5.0,
        V_rest=-70.0,
        V_reset=-70.0,
        V_th_inf=-50.0,
        V_th_reset=-52.0,  # above some thresholds at a spike: max() picks it
        a=0.05,
        b=0.1,
        k1=0.2,
        k2=0.02,
        R1=0.5,
        R2=1.0,
        A1=0.3,
        A2=-0.2,
    ),
}
#: brainpy.state class and spikegrad's state names and initial-state arguments, in order.
CLASSES = {"if": "IF", "lif_ref": "LIFRef", "gif": "Gif"}
STATES = {"if": ("V",), "lif_ref": ("V", "r"), "gif": ("V", "I1", "I2", "V_th")}
Z0_NAMES = {"if": ("v0",), "lif_ref": ("v0", "r0"), "gif": ("v0", "i1_0", "i2_0", "v_th0")}


def drive(key, T, shape, model, dtype=jnp.float32):
    """An input sequence and initial states that make neurons spike (LIFRef:
    some already refractory at the start)."""
    import jax

    ks = jax.random.split(jax.random.PRNGKey(key), 5)
    u = lambda k, lo, hi, s=shape: jax.random.uniform(k, s, jnp.float32, lo, hi).astype(dtype)  # noqa: E731
    if model == "gif":
        z0 = (u(ks[1], -70.0, -45.0), u(ks[2], -0.5, 0.5), u(ks[3], -0.5, 0.5), u(ks[4], -55.0, -45.0))
        return u(ks[0], 1.0, 4.0, (T, *shape)), z0
    v0 = u(ks[1], -0.3, 1.2)
    if model == "if":
        return u(ks[0], -0.5, 3.0, (T, *shape)), (v0,)
    # r0: never spiked, spiked just before the start, or one step before that.
    pick = jax.random.randint(ks[2], shape, 0, 3)
    r0 = jnp.where(pick == 0, jnp.inf, jnp.where(pick == 1, 0.0, 0.5)).astype(dtype)
    return u(ks[0], -0.5, 3.0, (T, *shape)), (v0, r0)


def brainpy_run(model, x, z0, params, spk_fun, hard=False, w_rec=None):
    """``(spikes, states)`` of brainpy.state's class over ``x`` (with
    ``w_rec``: each step's input ``x_t + spike @ w_rec``, the spike of the
    state the step starts from)."""
    import brainpy
    import brainstate

    p = dict(params)
    dt = p.pop("dt")
    shape = x.shape[1:]
    with brainstate.environ.context(dt=dt):
        neuron = getattr(brainpy.state, CLASSES[model])(
            shape, **p, spk_fun=spk_fun, spk_reset="hard" if hard else "soft"
        )
        neuron.init_state()
        for name, a in zip(STATES[model], z0):
            value = jnp.broadcast_to(jnp.asarray(a, x.dtype), shape)
            if name == "r":
                neuron.last_spike_time.value = -(value + dt)
            else:
                getattr(neuron, name).value = value

        def step(i, xt):
            t = i * dt
            with brainstate.environ.context(t=t):
                if w_rec is not None:
                    xt = xt + neuron.get_spike() @ w_rec
                out = neuron(xt)
            states = []
            for name in STATES[model]:
                states.append(t - neuron.last_spike_time.value if name == "r" else getattr(neuron, name).value)
            return out, tuple(states)

        return brainstate.transform.for_loop(step, jnp.arange(x.shape[0]), x)
