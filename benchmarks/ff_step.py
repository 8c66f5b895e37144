"""A feed-forward spiking training step, 784-1024-1024-10 LIF, T = 50, batch
64, Poisson-encoded input spikes: spikegrad (``SpikeLinear`` projections and
the fused ``spikegrad.neuron.LIF``) against brainpy.state (dense
``brainstate.nn.Linear`` and ``brainpy.state.LIF`` stepped by
``brainstate.transform.for_loop``), side by side in one process.

Each contender is one ``jax.jit`` of the cross-entropy loss's
``value_and_grad`` and an SGD update; the logits are the output layer's spike
counts. A third column, spikegrad's fused LIF behind dense
``brainstate.nn.Linear`` layers, separates what the event-driven projections
add from what the fused neurons add. The table gives the median time per step,
the ratios (> 1: spikegrad is faster), the compiled temp memory, the loss and
gradients of both libraries (the same network from the same weights), and the
firing rate of every layer.

    python benchmarks/ff_step.py            # 15 interleaved samples per contender
    python benchmarks/ff_step.py --quick    # 3 samples, for a check
    python benchmarks/ff_step.py --sizes 784,256,10 --steps 25 --batch 32
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
from pathlib import Path

import brainpy
import brainstate
import braintools
import braintools.surrogate as bt
import jax
import jax.numpy as jnp
import numpy as np

import spikegrad.surrogate as sg
from spikegrad.neuron import LIF as FusedLIF
from spikegrad.synapse import SpikeLinear

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import fmt_time, time_interleaved  # noqa: E402

from neurons import _train_step, _xent  # noqa: E402

SIZES = (784, 1024, 1024, 10)
STEPS, BATCH, DT = 50, 64, 1.0
#: brainpy.state's LIF defaults, unitless.
LIF_PARAMS = dict(R=1.0, tau=5.0, V_th=1.0, V_reset=0.0, V_rest=0.0)
#: The input neurons' Poisson rates per step, drawn uniformly in [0, MAX_RATE).
MAX_RATE = 0.2


def make_inputs(seed: int = 0):
    """Weights (``w1, w2, w3``), Poisson input spikes ``[T, B, 784]`` (float32) and labels."""
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.0, MAX_RATE, (BATCH, SIZES[0]))
    xs = (rng.random((STEPS, BATCH, SIZES[0])) < rates).astype(np.float32)
    # scaled to the expected active inputs per step, so that every layer fires
    active = (SIZES[0] * MAX_RATE / 2, SIZES[1] * 0.1, SIZES[2] * 0.1)
    gains = (3.0, 3.0, 6.0)
    ws = tuple(
        rng.normal(0.0, g / np.sqrt(a), (n_in, n_out)).astype(np.float32)
        for g, a, n_in, n_out in zip(gains, active, SIZES[:-1], SIZES[1:], strict=True)
    )
    labels = rng.integers(0, SIZES[-1], BATCH)
    return tuple(jnp.asarray(w) for w in ws), jnp.asarray(xs), jnp.asarray(labels)


def _layers(params, linear):
    return [linear(n_in, n_out, w_init=w, b_init=None) for w, n_in, n_out in zip(params, SIZES[:-1], SIZES[1:])]


def spikegrad_spikes(params, xs, linear=SpikeLinear, spk_fun=None):
    """Every layer's spikes ``[T, B, n]``: each projection and each fused LIF runs the
    whole sequence in one call."""
    with brainstate.environ.context(dt=DT):
        out, layers = [], _layers(params, linear)
        s = xs
        for proj in layers:
            lif = FusedLIF(proj.out_size[-1], **LIF_PARAMS, spk_fun=spk_fun or sg.MultiGaussianGrad())
            lif.init_state(batch_size=xs.shape[1])
            s = lif(proj(s))
            out.append(s)
    return out


def brainpy_spikes(params, xs, spk_fun=None):
    """The same network in brainpy.state, one time step at a time in ``for_loop``."""
    with brainstate.environ.context(dt=DT):
        layers = _layers(params, brainstate.nn.Linear)
        init = braintools.init.Constant(0.0)
        lifs = [
            brainpy.state.LIF(n, **LIF_PARAMS, V_initializer=init, spk_fun=spk_fun or bt.MultiGaussianGrad())
            for n in SIZES[1:]
        ]
        for lif in lifs:
            lif.init_state(batch_size=xs.shape[1])

        def step(x):
            spikes = []
            for proj, lif in zip(layers, lifs, strict=True):
                x = lif(proj(x))
                spikes.append(x)
            return spikes

        return brainstate.transform.for_loop(step, xs)


CONTENDERS = {
    "brainpy.state": lambda p, xs: brainpy_spikes(p, xs),
    "spikegrad": lambda p, xs: spikegrad_spikes(p, xs),
    "spikegrad, dense Linear": lambda p, xs: spikegrad_spikes(p, xs, linear=brainstate.nn.Linear),
}


def loss_of(spikes_fn):
    """Cross-entropy of the output layer's spike counts."""
    return lambda params, xs, labels: _xent(spikes_fn(params, xs)[-1].sum(0), labels)


def run(repeats: int):
    params, xs, labels = make_inputs()
    versions = ", ".join(f"{p} {importlib.metadata.version(p)}" for p in ("jax", "spikegrad", "brainpy", "brainstate"))
    print(
        f"Training step {'-'.join(map(str, SIZES))} LIF, T={STEPS}, batch {BATCH}, MultiGaussianGrad, float32, "
        f"{os.cpu_count()} CPUs; {versions}\n"
    )
    rates = [float(s.mean()) for s in jax.jit(CONTENDERS["spikegrad"])(params, xs)]
    print(
        f"firing rates (fraction of neuron-steps): input {float(xs.mean()):.1%}, "
        + ", ".join(f"layer {i + 1} {r:.1%}" for i, r in enumerate(rates))
        + "\n"
    )
    steps = {name: _train_step(loss_of(f)) for name, f in CONTENDERS.items()}
    temps = {n: f.lower(params, xs, labels).compile().memory_analysis().temp_size_in_bytes for n, f in steps.items()}
    losses = {n: float(f(params, xs, labels)[1]) for n, f in steps.items()}
    grads = {n: jax.jit(jax.grad(loss_of(f)))(params, xs, labels) for n, f in CONTENDERS.items()}
    ref = grads["brainpy.state"]
    diffs = {
        n: max(float(jnp.max(jnp.abs(a - b)) / jnp.max(jnp.abs(b))) for a, b in zip(g, ref, strict=True))
        for n, g in grads.items()
    }
    t = time_interleaved(steps, {n: (params, xs, labels) for n in steps}, repeats, 0.0)
    base = t["brainpy.state"].median
    print("| contender | time per step | brainpy.state / it | temp MiB | loss | gradients vs brainpy.state |")
    print("|---|---|---|---|---|---|")
    for n in steps:
        print(
            f"| {n} | {fmt_time(t[n].median)} | {base / t[n].median:.2f}x | {temps[n] / 2**20:.1f} "
            f"| {losses[n]:.5f} | {diffs[n]:.1e} |",
            flush=True,
        )
    return dict(times={n: v.median for n, v in t.items()}, rates=rates, losses=losses, diffs=diffs)


def main(argv=None):
    global SIZES, STEPS, BATCH, MAX_RATE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 samples per contender")
    ap.add_argument("--repeats", type=int, help="interleaved samples per contender (default 15, --quick 3)")
    ap.add_argument("--sizes", help=f"layer sizes, comma-separated (default {','.join(map(str, SIZES))})")
    ap.add_argument("--steps", type=int, default=STEPS, help="time steps T")
    ap.add_argument("--batch", type=int, default=BATCH)
    ap.add_argument("--max-rate", type=float, default=MAX_RATE, help="the input rates' upper bound per step")
    a = ap.parse_args(argv)
    if a.sizes:
        SIZES = tuple(int(n) for n in a.sizes.split(","))
    STEPS, BATCH, MAX_RATE = a.steps, a.batch, a.max_rate
    run(a.repeats or (3 if a.quick else 15))


if __name__ == "__main__":
    main()
