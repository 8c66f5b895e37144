"""Spike functions where users call them: inside a time loop.

Two models, forward and BPTT gradient, braintools against spikegrad under each
lowering setting (``auto``, the default, and ``native`` / ``xla`` forced),
compiled ahead of time so that every contender keeps its lowering:

* a LIF layer in ``lax.scan``: ``v = 0.9 v + I[t]; s = spike(v - 1);
  v = v - s`` over a precomputed ``I[T, N]``, T = 100;
* ``brainpy.state.LIF(4096)`` stepped by ``brainstate.transform.for_loop``
  for 100 steps, with the surrogate instance as ``spk_fun``.

For the scan gradient a straight-through spike (``x >= 0`` forward, gradient
1, XLA code) is timed too: ``1 - ste / braintools`` is the share of the
braintools BPTT step that is the surrogate and its step.
"""

from __future__ import annotations

import braintools.surrogate as bt
import jax
import jax.numpy as jnp
import numpy as np
from timing import fmt_time, time_interleaved

import spikegrad
import spikegrad.surrogate as sg

STEPS = 100
SETTINGS = ("auto", "native", "xla")
CONTENDERS = ("braintools", *(f"spikegrad {s}" for s in SETTINGS))


def lif_scan(spike_fn):
    """Spikes ``(T, N)`` of the LIF layer driven by ``I``."""

    def run(inputs):
        def step(v, i_t):
            v = 0.9 * v + i_t
            s = spike_fn(v - 1.0)
            return v - s, s

        _, spikes = jax.lax.scan(step, jnp.zeros_like(inputs[0]), inputs)
        return spikes

    return run


def _straight_through(x):
    step = (x >= 0).astype(x.dtype)
    return x - jax.lax.stop_gradient(x) + step


def _ops(model):
    """forward and BPTT gradient (w.r.t. the input) of ``model(inputs)``."""
    return {
        "forward": model,
        "gradient": jax.grad(lambda inputs: model(inputs).astype(jnp.float32).sum()),
    }


def _compiled(fn, args, setting):
    with spikegrad.lowering(setting):
        return jax.jit(fn).lower(*args).compile()


def _time_contenders(make_model, args, repeats, stat, extra=None):
    """``{op: {contender: seconds}}`` for the forward and the gradient."""
    out = {}
    models = {"braintools": make_model(bt.MultiGaussianGrad())}
    spike = make_model(sg.MultiGaussianGrad())
    for op in ("forward", "gradient"):
        fns = {"braintools": _compiled(_ops(models["braintools"])[op], args, "auto")}
        for s in SETTINGS:
            fns[f"spikegrad {s}"] = _compiled(_ops(spike)[op], args, s)
        if extra is not None and op == "gradient":
            fns["straight-through"] = _compiled(_ops(make_model(extra))[op], args, "auto")
        tm = time_interleaved(fns, {k: args for k in fns}, repeats)
        out[op] = {k: stat(v) for k, v in tm.items()}
    return out


def scan_section(rep, cfg, results, stat, size_label):
    rep.add(f"## LIF layer in `lax.scan`, T={STEPS}, MultiGaussianGrad")
    rep.add()
    rep.add(
        "`v = 0.9 v + I[t]; s = spike(v - 1); v = v - s`, forward (the spikes) and BPTT gradient "
        "of their sum w.r.t. `I`. ratio = braintools / spikegrad under each lowering setting "
        "(> 1: spikegrad faster). share = 1 - straight-through / braintools: the part of the "
        "BPTT step that is the surrogate."
    )
    rep.add()
    rows = []
    for dname in cfg["loop_dtypes"]:
        dtype = {"f32": jnp.float32, "bf16": jnp.bfloat16}[dname]
        for n in cfg["scan_sizes"]:
            rng = np.random.default_rng(0)
            inputs = jnp.asarray(rng.normal(0.15, 0.3, (STEPS, n)), dtype)
            t = _time_contenders(lif_scan, (inputs,), cfg["repeats"], stat, extra=_straight_through)
            for op in ("forward", "gradient"):
                r = t[op]
                results[("scan", dname, n, op)] = dict(r)
                row = [dname, size_label(n), op, fmt_time(r["braintools"])]
                row += [f"{r['braintools'] / r[c]:.2f}x" for c in CONTENDERS[1:]]
                share = f"{100 * (1 - r['straight-through'] / r['braintools']):.0f}%" if op == "gradient" else ""
                rows.append(row + [share])
    rep.table(["dtype", "N", "op", "braintools", "auto", "native", "xla", "share"], rows)


def brainpy_lif(n):
    """``make_model(spk_fun)`` for ``brainpy.state.LIF(n)`` in brainstate's for_loop."""
    import brainpy.state as bps
    import brainstate
    import brainunit as u

    def make_model(spk_fun):
        lif = bps.LIF(n, tau=10.0 * u.ms, V_th=1.0 * u.mV, spk_fun=spk_fun)

        def run(inputs):
            brainstate.nn.init_all_states(lif)
            with brainstate.environ.context(dt=1.0 * u.ms):
                return brainstate.transform.for_loop(lambda i: lif(i * u.mA), inputs)

        return run

    return make_model


def brainpy_section(rep, cfg, results, stat, size_label):
    n = cfg["brainpy_n"]
    rep.add(f"## `brainpy.state.LIF({n})` in `brainstate.transform.for_loop`, T={STEPS}, MultiGaussianGrad")
    rep.add()
    rep.add("Forward (the spikes) and gradient of their sum w.r.t. the input current; ratios as above.")
    rep.add()
    rng = np.random.default_rng(0)
    inputs = jnp.asarray(rng.normal(1.0, 0.5, (STEPS, n)), jnp.float32)
    t = _time_contenders(brainpy_lif(n), (inputs,), cfg["repeats"], stat)
    rows = []
    for op in ("forward", "gradient"):
        r = t[op]
        results[("brainpy", "f32", n, op)] = dict(r)
        rows.append(
            [size_label(n), op, fmt_time(r["braintools"])] + [f"{r['braintools'] / r[c]:.2f}x" for c in CONTENDERS[1:]]
        )
    rep.table(["N", "op", "braintools", "auto", "native", "xla"], rows)


def targets(results, check, size_label):
    """The loop targets: spikegrad (auto) >= 1.0x braintools."""
    for key, r in sorted(results.items(), key=lambda kv: str(kv[0])):
        if key[0] in ("scan", "brainpy"):
            ratio = r["braintools"] / r["spikegrad auto"]
            what = "LIF scan" if key[0] == "scan" else "brainpy.state LIF"
            check(f"{what} {key[1]} N={size_label(key[2])} {key[3]}", f"{ratio:.2f}x", ">= 1.0x", ratio >= 1.0)
