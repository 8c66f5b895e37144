"""The fused LIF neuron (``spikegrad.neuron.lif``) against brainpy.state.LIF
stepped by ``brainstate.transform.for_loop`` and against a ``lax.scan`` LIF,
both with the braintools surrogate, side by side in one process.

Sections: forward and BPTT (grad w.r.t. the input sequence and v0) at
T=100 over population sizes, float32 and bfloat16, with the compiled temp
memory of each BPTT program; and one training step of a 784-1024-10 LIF
classifier (batch 64, T=50), the fused op with the input projection as one
matmul over all steps vs brainpy.state stepping in ``for_loop``.

    python benchmarks/neurons.py [--quick]       # standalone
    python benchmarks/bench.py --sections neurons
"""

from __future__ import annotations

import argparse
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
from spikegrad.neuron import lif

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import fmt_time, time_interleaved  # noqa: E402

#: The LIF parameters of every contender (brainpy.state's defaults, unitless, dt = 1).
LIF_PARAMS = dict(dt=1.0, tau=5.0, R=1.0, V_th=1.0, V_reset=0.0, V_rest=0.0)
STEPS = 100
FULL = dict(sizes=[2**10, 2**13, 2**16, 2**18], dtypes=["f32", "bf16"], repeats=5, train_repeats=5)
QUICK = dict(sizes=[2**10, 2**13], dtypes=["f32"], repeats=2, train_repeats=2)
DTYPES = {"f32": jnp.float32, "bf16": jnp.bfloat16}


def _brainpy_neuron(shape, spk_fun, dt):
    p = {k: v for k, v in LIF_PARAMS.items() if k != "dt"}
    neuron = brainpy.state.LIF(shape, **p, V_initializer=braintools.init.Constant(0.0), spk_fun=spk_fun)
    neuron.init_state()
    return neuron


def brainpy_lif(x, v0):
    """brainpy.state.LIF in for_loop with the braintools surrogate."""
    with brainstate.environ.context(dt=LIF_PARAMS["dt"]):
        neuron = _brainpy_neuron(x.shape[1:], bt.MultiGaussianGrad(), LIF_PARAMS["dt"])
        neuron.V.value = v0
        return brainstate.transform.for_loop(neuron, x)


def scan_lif(x, v0):
    """The same update as a plain lax.scan with the braintools surrogate."""
    p = LIF_PARAMS
    spk = bt.MultiGaussianGrad()
    a = float(np.exp(-p["dt"] / p["tau"]))
    delta = p["V_th"] - p["V_reset"]

    def step(v, xt):
        s = spk((v - p["V_th"]) / delta)
        v = a * (v - delta * s) + (1 - a) * (p["V_rest"] + p["R"] * xt)
        return v, spk((v - p["V_th"]) / delta)

    return jax.lax.scan(step, v0, x)[1]


def fused_lif(x, v0):
    return lif(x, v0, **LIF_PARAMS, spk_fun=sg.MultiGaussianGrad())


CONTENDERS = {"brainpy.state": brainpy_lif, "lax.scan": scan_lif, "spikegrad": fused_lif}


def _programs(f):
    fwd = jax.jit(f)
    bptt = jax.jit(jax.grad(lambda x, v0: jnp.sum(f(x, v0).astype(jnp.float32)), argnums=(0, 1)))
    return fwd, bptt


def _row_inputs(n, dtype):
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.uniform(0.0, 2.5, (STEPS, n)), dtype)
    v0 = jnp.asarray(rng.uniform(0.0, 1.0, n), jnp.float32)
    return x, v0


def population_section(rep, cfg, results):
    rep.add(f"## Fused LIF: T={STEPS}, MultiGaussianGrad, forward and BPTT")
    rep.add()
    rep.add(
        "Per call (min over interleaved samples); ratio = contender time / spikegrad time; "
        "temp = `memory_analysis().temp_size_in_bytes` of the compiled BPTT program."
    )
    rep.add()
    rows = []
    for dname in cfg["dtypes"]:
        for n in cfg["sizes"]:
            x, v0 = _row_inputs(n, DTYPES[dname])
            progs = {name: _programs(f) for name, f in CONTENDERS.items()}
            temps = {
                name: bptt.lower(x, v0).compile().memory_analysis().temp_size_in_bytes
                for name, (_, bptt) in progs.items()
            }
            for i, op in enumerate(("forward", "BPTT")):
                fns = {name: p[i] for name, p in progs.items()}
                tm = time_interleaved(fns, {k: (x, v0) for k in fns}, cfg["repeats"])
                t = {k: v.best for k, v in tm.items()}
                results[("lif", dname, n, op)] = dict(t, temps=temps)
                rows.append(
                    [
                        dname,
                        f"2^{n.bit_length() - 1}",
                        op,
                        fmt_time(t["spikegrad"]),
                        fmt_time(t["brainpy.state"]),
                        f"{t['brainpy.state'] / t['spikegrad']:.2f}x",
                        fmt_time(t["lax.scan"]),
                        f"{t['lax.scan'] / t['spikegrad']:.2f}x",
                        ""
                        if op == "forward"
                        else " / ".join(f"{temps[k] / 2**20:.1f}" for k in ("spikegrad", "brainpy.state", "lax.scan")),
                    ]
                )
    rep.table(
        [
            "dtype",
            "N",
            "op",
            "spikegrad",
            "brainpy.state",
            "ratio",
            "lax.scan",
            "ratio",
            "BPTT temp MiB (sg / bp / scan)",
        ],
        rows,
    )


# ---- end to end ----------------------------------------------------------------

SIZES = (784, 1024, 10)
BATCH, TRAIN_STEPS, LR = 64, 50, 1e-2


def _train_inputs():
    rng = np.random.default_rng(1)
    xs = (rng.random((TRAIN_STEPS, BATCH, SIZES[0])) < 0.15).astype(np.float32)
    labels = rng.integers(0, SIZES[2], BATCH)
    w1 = rng.normal(0.0, 3.0 / np.sqrt(SIZES[0] * 0.15), SIZES[:2]).astype(np.float32)
    w2 = rng.normal(0.0, 6.0 / np.sqrt(SIZES[1] * 0.2), SIZES[1:]).astype(np.float32)
    return (jnp.asarray(w1), jnp.asarray(w2)), jnp.asarray(xs), jnp.asarray(labels)


def _xent(count, labels):
    logp = jax.nn.log_softmax(count, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=-1))


def fused_loss(params, xs, labels):
    w1, w2 = params
    spk = sg.MultiGaussianGrad()
    s1 = lif(xs @ w1, **LIF_PARAMS, spk_fun=spk)  # one matmul over all T
    s2 = lif(s1 @ w2, **LIF_PARAMS, spk_fun=spk)
    return _xent(s2.sum(0), labels)


def brainpy_loss(params, xs, labels):
    w1, w2 = params
    with brainstate.environ.context(dt=LIF_PARAMS["dt"]):
        l1 = _brainpy_neuron((BATCH, SIZES[1]), bt.MultiGaussianGrad(), LIF_PARAMS["dt"])
        l2 = _brainpy_neuron((BATCH, SIZES[2]), bt.MultiGaussianGrad(), LIF_PARAMS["dt"])

        def step(x):
            return l2(l1(x @ w1) @ w2)

        s2 = brainstate.transform.for_loop(step, xs)
    return _xent(s2.sum(0), labels)


def _train_step(loss_fn):
    def step(params, xs, labels):
        loss, grads = jax.value_and_grad(loss_fn)(params, xs, labels)
        return jax.tree_util.tree_map(lambda p, g: p - LR * g, params, grads), loss

    return jax.jit(step)


def train_section(rep, cfg, results):
    rep.add(
        f"## Training step: LIF {SIZES[0]}-{SIZES[1]}-{SIZES[2]}, batch {BATCH}, T={TRAIN_STEPS}, MultiGaussianGrad"
    )
    rep.add()
    params, xs, labels = _train_inputs()
    fns = {"brainpy.state": _train_step(brainpy_loss), "spikegrad": _train_step(fused_loss)}
    temps = {k: f.lower(params, xs, labels).compile().memory_analysis().temp_size_in_bytes for k, f in fns.items()}
    losses = {k: float(f(params, xs, labels)[1]) for k, f in fns.items()}
    tm = time_interleaved(fns, {k: (params, xs, labels) for k in fns}, cfg["train_repeats"], 0.0)
    t = {k: v.best for k, v in tm.items()}
    results[("lif_train",)] = dict(t, temps=temps)
    rep.table(
        ["", "brainpy.state (for_loop)", "spikegrad (fused)", "ratio"],
        [
            [
                "time per step",
                fmt_time(t["brainpy.state"]),
                fmt_time(t["spikegrad"]),
                f"{t['brainpy.state'] / t['spikegrad']:.2f}x",
            ],
            [
                "temp MiB",
                f"{temps['brainpy.state'] / 2**20:.1f}",
                f"{temps['spikegrad'] / 2**20:.1f}",
                f"{temps['brainpy.state'] / max(temps['spikegrad'], 1):.2f}x",
            ],
            ["loss", f"{losses['brainpy.state']:.5f}", f"{losses['spikegrad']:.5f}", ""],
        ],
    )


def neurons_section(rep, cfg, results):
    """The neuron benchmarks; ``cfg`` has ``quick`` (bool)."""
    ncfg = QUICK if cfg.get("quick") else FULL
    population_section(rep, ncfg, results)
    train_section(rep, ncfg, results)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sizes", help="comma-separated N, e.g. 1024,8192")
    ap.add_argument("--dtypes", help="comma-separated, of f32,bf16")
    ap.add_argument("--skip-train", action="store_true")
    args = ap.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    if args.sizes:
        cfg["sizes"] = [int(s) for s in args.sizes.split(",")]
    if args.dtypes:
        cfg["dtypes"] = args.dtypes.split(",")

    class Echo:
        def add(self, text=""):
            print(text, flush=True)

        def table(self, header, rows):
            self.add("| " + " | ".join(header) + " |")
            self.add("|" + "|".join("---" for _ in header) + "|")
            for r in rows:
                self.add("| " + " | ".join(r) + " |")
            self.add()

    rep, results = Echo(), {}
    population_section(rep, cfg, results)
    if not args.skip_train:
        train_section(rep, cfg, results)


if __name__ == "__main__":
    main()
