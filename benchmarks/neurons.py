"""The fused neurons (``spikegrad.neuron``: LIF, ALIF, CubaLIF, IF, LIFRef, Gif, CobaLIF, ExpIF,
AdExIF) against their
brainpy.state classes stepped by ``brainstate.transform.for_loop``, with the
braintools surrogate, side by side in one process.

Sections:

* per model, forward and BPTT (grad of the summed spikes w.r.t. the input
  sequence and the initial states) at T=100 over population sizes: brainpy.state,
  the fused op with scalar parameters, with per-neuron array parameters, with
  traced parameters (jit arguments), all with the default checkpoint stride,
  and the fused op's BPTT with checkpoints every K steps (``save_every``); the
  compiled temp memory of each BPTT program;
* one training step of a PLIF classifier 784-1024-10 (per-neuron tau trained
  with the weights, batch 64, T=50): the fused op with the input projection as
  one matmul over all steps vs the same network in brainpy.state.

    python benchmarks/neurons.py [--quick] [--models lif,alif] [--sizes 1024,8192]
    python benchmarks/bench.py --sections neurons
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

import brainpy
import brainstate
import braintools
import braintools.surrogate as bt
import jax
import jax.numpy as jnp
import numpy as np

import spikegrad.surrogate as sg
from spikegrad import neuron
from spikegrad.neuron import DEFAULT_SAVE_EVERY

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import fmt_time, time_interleaved  # noqa: E402

STEPS = 100
DT = 1.0
#: brainpy.state's defaults, unitless; per model: (function, class, states, parameters).
MODELS = {
    "lif": ("lif", "LIF", ("V",), dict(tau=5.0, R=1.0, V_th=1.0, V_reset=0.0, V_rest=0.0)),
    "alif": (
        "alif",
        "ALIF",
        ("V", "a"),
        dict(tau=5.0, tau_a=100.0, R=1.0, V_th=1.0, V_reset=0.0, V_rest=0.0, beta=0.1),
    ),
    "cuba_lif": (
        "cuba_lif",
        "CubaLIF",
        ("V", "g"),
        dict(tau=5.0, tau_syn=5.0, R=1.0, V_th=1.0, V_reset=0.0, V_rest=0.0),
    ),
}
# The exponential-Euler models. ExpIF and AdExIF: brainpy.state's defaults shifted by
# +65 mV (V_rest = 0, where the initial states start) with V_th = V_T + 2 delta_T, so that
# the step does not run away at dt = 1 (the timing does not depend on the values).
_EXP = dict(tau=10.0, R=1.0, V_th=12.06, V_reset=-3.0, V_rest=0.0, V_T=5.1, delta_T=3.48)
MODELS["coba_lif"] = (
    "coba_lif",
    "CobaLIF",
    ("V", "g"),
    dict(tau=5.0, tau_syn=5.0, E=3.0, R=1.0, V_th=1.0, V_reset=0.0, V_rest=0.0),
)
MODELS["exp_if"] = ("exp_if", "ExpIF", ("V",), _EXP)
MODELS["adex_if"] = ("adex_if", "AdExIF", ("V", "w"), dict(_EXP, tau_w=30.0, a=1.0, b=1.0))
#: Input scale per model (CubaLIF integrates its input into g).
X_HIGH = {"lif": 2.5, "alif": 2.5, "cuba_lif": 0.6}
MODELS["if"] = ("if_", "IF", ("V",), dict(tau=5.0, R=1.0, V_th=1.0))
# LIFRef's clock starts as "never spiked" on both sides (brainpy.state has no initializer for it).
MODELS["lif_ref"] = (
    "lif_ref",
    "LIFRef",
    ("V",),
    dict(tau=5.0, tau_ref=5.0, R=1.0, V_th=1.0, V_reset=0.0, V_rest=0.0),
)
MODELS["gif"] = (
    "gif",
    "Gif",
    ("V", "I1", "I2", "V_th"),
    dict(
        R=20.0,
        tau=20.0,
        V_rest=-70.0,
        V_reset=-70.0,
        V_th_inf=-50.0,
        V_th_reset=-60.0,
        a=0.0,
        b=0.01,
        k1=0.2,
        k2=0.02,
        R1=0.0,
        R2=1.0,
        A1=0.0,
        A2=0.0,
    ),
)
X_HIGH.update({"if": 2.5, "lif_ref": 2.5, "gif": 2.5})
#: Offsets of the initial states (Gif's potential and threshold near brainpy.state's -70 and -50).
Z0_BASE = {"gif": (-70.0, 0.0, 0.0, -50.0)}
X_HIGH.update(coba_lif=0.6, exp_if=25.0, adex_if=30.0)
FULL = dict(sizes=[2**10, 2**13, 2**16, 2**18], dtypes=["f32"], save_every=[1, 4], repeats=5, train_repeats=5)
QUICK = dict(sizes=[2**10, 2**13], dtypes=["f32"], save_every=[1], repeats=2, train_repeats=2)
DTYPES = {"f32": jnp.float32, "bf16": jnp.bfloat16}


def brainpy_run(model, x, z0, params=None):
    """brainpy.state's class in for_loop with the braintools surrogate; CubaLIF
    driven through its delta input, as a projection drives it."""
    _, cls, states, defaults = MODELS[model]
    params = defaults if params is None else params
    with brainstate.environ.context(dt=DT):
        inits = {f"{s}_initializer": braintools.init.Constant(0.0) for s in states}
        n = getattr(brainpy.state, cls)(x.shape[1:], **params, **inits, spk_fun=bt.MultiGaussianGrad())
        n.init_state()
        for s, v in zip(states, z0):
            getattr(n, s).value = v
        if model == "lif_ref":  # never spiked, unitless
            n.last_spike_time.value = jnp.full(x.shape[1:], -1e7, jnp.float32)

        def step(i, xt):
            with brainstate.environ.context(t=i * DT):  # LIFRef reads the time
                if model in ("cuba_lif", "coba_lif"):
                    n.add_delta_input("x", xt)
                    return n(jnp.zeros_like(xt))
                return n(xt)

        return brainstate.transform.for_loop(step, jnp.arange(x.shape[0]), x)


def fused(model, params=None, save_every=None):
    fn, _, _, defaults = MODELS[model]
    params = defaults if params is None else params

    def run(x, z0, p=None):
        return getattr(neuron, fn)(
            x, *z0, dt=DT, **(params if p is None else p), spk_fun=sg.MultiGaussianGrad(), save_every=save_every
        )

    return run


def per_neuron_params(model, n):
    """The defaults spread over the neurons (the same mean behaviour)."""
    rng = np.random.default_rng(0)
    p = dict(MODELS[model][3])
    for k in ("tau", "tau_a", "tau_syn", "tau_w"):
        if k in p:
            p[k] = jnp.asarray(p[k] * rng.uniform(0.8, 1.2, n), jnp.float32)
    if "V_th" in p:
        p["V_th"] = jnp.asarray(p["V_th"] * rng.uniform(0.9, 1.1, n), jnp.float32)
    return p


def _contenders(model, n, save_every):
    """name -> (f(x, z0, *extra), extra args)."""
    defaults = MODELS[model][3]
    traced = {k: jnp.float32(v) for k, v in defaults.items()}
    out = {
        "brainpy.state": (lambda x, z0: brainpy_run(model, x, z0), ()),
        "spikegrad": (fused(model), ()),
        "per-neuron": (fused(model, per_neuron_params(model, n)), ()),
        "traced": (lambda x, z0, p: fused(model)(x, z0, p), (traced,)),
    }
    for k in save_every:
        out[f"K={k}"] = (fused(model, save_every=k), ())
    return out


def _programs(f):
    fwd = jax.jit(f)

    def loss(x, z0, *extra):
        return jnp.sum(f(x, z0, *extra).astype(jnp.float32))

    bptt = jax.jit(jax.grad(loss, argnums=(0, 1)))
    return fwd, bptt


def _inputs(model, n, dtype):
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.uniform(0.0, X_HIGH[model], (STEPS, n)), dtype)
    base = Z0_BASE.get(model, (0.0,) * len(MODELS[model][2]))
    z0 = tuple(jnp.asarray(b + rng.uniform(0.0, 0.5, n), jnp.float32) for b in base)
    return x, z0


def population_section(rep, cfg, results):
    rep.add(f"## Fused neurons: T={STEPS}, MultiGaussianGrad, forward and BPTT")
    rep.add()
    rep.add(
        "Per call (min over interleaved samples). Columns: brainpy.state's class in `for_loop`; "
        f"the fused op (checkpoints every `DEFAULT_SAVE_EVERY` = {DEFAULT_SAVE_EVERY} steps) with scalar, "
        "per-neuron array and traced (jit argument) parameters; the fused BPTT with checkpoints every "
        "K steps instead. Ratio = brainpy.state time / that time. "
        "Temp = `memory_analysis().temp_size_in_bytes` of the compiled BPTT program (MiB)."
    )
    rep.add()
    k_cols = [f"K={k}" for k in cfg["save_every"]]
    fused_cols = ["spikegrad", "per-neuron", "traced", *k_cols]
    rows = []
    for model in cfg["models"]:
        for dname in cfg["dtypes"]:
            for n in cfg["sizes"]:
                x, z0 = _inputs(model, n, DTYPES[dname])
                cont = _contenders(model, n, cfg["save_every"])
                progs = {name: _programs(f) for name, (f, _) in cont.items()}
                args = {name: (x, z0, *extra) for name, (_, extra) in cont.items()}
                temps = {
                    name: bptt.lower(*args[name]).compile().memory_analysis().temp_size_in_bytes
                    for name, (_, bptt) in progs.items()
                }
                for i, op in enumerate(("forward", "BPTT")):
                    names = [k for k in progs if i == 1 or k not in k_cols]
                    tm = time_interleaved({k: progs[k][i] for k in names}, {k: args[k] for k in names}, cfg["repeats"])
                    t = {k: v.best for k, v in tm.items()}
                    results[(model, dname, n, op)] = dict(t, temps=temps)
                    base = t["brainpy.state"]
                    cells = [f"{fmt_time(t[k])} ({base / t[k]:.2f}x)" if k in t else "" for k in fused_cols]
                    temp = "" if op == "forward" else " / ".join(f"{temps[k] / 2**20:.1f}" for k in progs)
                    rows.append([model, dname, f"2^{n.bit_length() - 1}", op, fmt_time(base), *cells, temp])
    temp_col = "BPTT temp MiB (" + " / ".join(["bp", "sg", "per-neuron", "traced", *k_cols]) + ")"
    rep.table(["model", "dtype", "N", "op", "brainpy.state", *fused_cols, temp_col], rows)


# ---- the memory floor and BPTT memory -----------------------------------------


def _backward(f, x, z0):
    """The BPTT pass alone: the vjp function of ``f`` at ``(x, z0)`` (its
    residuals computed once, outside the timing) and a jitted call of it."""
    _, vjp_fn = jax.vjp(f, x, z0)
    return jax.jit(lambda fn, ct: fn(ct)), vjp_fn


def _vjp_program(f):
    """spikes and their vjp in one program, with the cotangent an argument: its
    temp memory is what BPTT keeps between the passes (the residuals) and its
    scratch, without the spike sequence a loss would hold."""

    def prog(x, z0, ct):
        out, vjp_fn = jax.vjp(f, x, z0)
        return out, vjp_fn(ct)

    return jax.jit(prog)


def _ones_like_output(f, x, z0):
    out = jax.eval_shape(f, x, z0)
    return jnp.ones(out.shape, out.dtype)


def _pass_bytes(model, n, dtype, stride):
    """The traffic of the fused passes: forward reads ``x`` and writes the
    spikes; BPTT reads ``x``, the spike cotangent and the checkpoints (float32,
    ``ceil(T/stride)`` rows per state) and writes ``ct_x``."""
    seq = STEPS * n * jnp.dtype(dtype).itemsize
    ckpt = len(MODELS[model][2]) * (-(-STEPS // stride)) * n * 4
    return {"forward": 2 * seq, "BPTT": 3 * seq + ckpt}


def floor_section(rep, cfg, results):
    rep.add(f"## Fused neurons at the memory floor: T={STEPS}, the passes alone")
    rep.add()
    rep.add(
        "Forward = the jitted forward; BPTT = the backward pass alone (the vjp function, residuals "
        "computed beforehand). Bytes = the fused pass's traffic (forward: read x, write spikes; BPTT: "
        "read x, the spike cotangent and the float32 checkpoints, write ct_x); copy = `x * 2` on the "
        "`[T, N]` input in the same interleaved samples (bandwidth = 2 T N bytes / its time); floor% = "
        "(bytes / bandwidth) / time. Temp MiB = `temp_size_in_bytes` of a program returning the spikes "
        "and their vjp with the cotangent as an argument (what BPTT keeps between the passes), K = "
        f"checkpoint stride (default {DEFAULT_SAVE_EVERY})."
    )
    rep.add()
    rows = []
    for model in cfg["models"]:
        for dname in cfg["dtypes"]:
            dtype = DTYPES[dname]
            for n in cfg["sizes"]:
                x, z0 = _inputs(model, n, dtype)
                cont = {
                    "brainpy.state": partial(brainpy_run, model),
                    "spikegrad": fused(model),
                    "K=1": fused(model, save_every=1),
                }
                # each contender's cotangent has its own output's dtype (brainpy.state's
                # spikes take the float32 state's dtype for a bf16 input)
                cts = {k: _ones_like_output(f, x, z0) for k, f in cont.items()}
                temps = {
                    k: _vjp_program(f).lower(x, z0, cts[k]).compile().memory_analysis().temp_size_in_bytes
                    for k, f in cont.items()
                }
                fns = {"copy": jax.jit(lambda a: a * 2)}
                args = {"copy": (x,)}
                for k in ("brainpy.state", "spikegrad"):
                    fns[f"{k} forward"] = jax.jit(cont[k])
                    args[f"{k} forward"] = (x, z0)
                    call, vjp_fn = _backward(cont[k], x, z0)
                    fns[f"{k} BPTT"] = call
                    args[f"{k} BPTT"] = (vjp_fn, cts[k])
                tm = time_interleaved(fns, args, cfg["repeats"])
                t = {k: v.best for k, v in tm.items()}
                bw = 2 * x.size * x.dtype.itemsize / t["copy"]
                nbytes = _pass_bytes(model, n, dtype, DEFAULT_SAVE_EVERY)
                for op in ("forward", "BPTT"):
                    sg, bp = t[f"spikegrad {op}"], t[f"brainpy.state {op}"]
                    frac = nbytes[op] / bw / sg
                    results[(model, dname, n, op, "floor")] = dict(sg=sg, bp=bp, copy=t["copy"], frac=frac, temps=temps)
                    temp = "" if op == "forward" else " / ".join(f"{temps[k] / 2**20:.1f}" for k in cont)
                    ratio = "" if op == "forward" else f"{temps['brainpy.state'] / max(temps['spikegrad'], 1):.1f}x"
                    rows.append(
                        [
                            model,
                            dname,
                            f"2^{n.bit_length() - 1}",
                            op,
                            fmt_time(bp),
                            fmt_time(sg),
                            f"{bp / sg:.2f}x",
                            f"{nbytes[op] / 2**20:.1f}",
                            f"{bw / 1e9:.1f}",
                            f"{100 * frac:.0f}%",
                            temp,
                            ratio,
                        ]
                    )
    rep.table(
        [
            "model",
            "dtype",
            "N",
            "pass",
            "brainpy.state",
            "spikegrad",
            "ratio",
            "MiB moved",
            "copy GB/s",
            "floor%",
            "temp MiB (bp / sg / K=1)",
            "bp / sg temp",
        ],
        rows,
    )


# ---- end to end ----------------------------------------------------------------

SIZES = (784, 1024, 10)
BATCH, TRAIN_STEPS, LR = 64, 50, 1e-2
LIF_PARAMS = MODELS["lif"][3]


def _train_inputs():
    rng = np.random.default_rng(1)
    xs = (rng.random((TRAIN_STEPS, BATCH, SIZES[0])) < 0.15).astype(np.float32)
    labels = rng.integers(0, SIZES[2], BATCH)
    w1 = rng.normal(0.0, 3.0 / np.sqrt(SIZES[0] * 0.15), SIZES[:2]).astype(np.float32)
    w2 = rng.normal(0.0, 6.0 / np.sqrt(SIZES[1] * 0.2), SIZES[1:]).astype(np.float32)
    tau1 = rng.uniform(3.0, 7.0, SIZES[1]).astype(np.float32)
    tau2 = rng.uniform(3.0, 7.0, SIZES[2]).astype(np.float32)
    params = tuple(jnp.asarray(a) for a in (w1, w2, tau1, tau2))
    return params, jnp.asarray(xs), jnp.asarray(labels)


def _xent(count, labels):
    logp = jax.nn.log_softmax(count, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=-1))


def fused_loss(params, xs, labels):
    w1, w2, tau1, tau2 = params
    spk = sg.MultiGaussianGrad()
    p = {k: v for k, v in LIF_PARAMS.items() if k != "tau"}
    s1 = neuron.lif(xs @ w1, dt=DT, tau=tau1, **p, spk_fun=spk)  # one matmul over all T
    s2 = neuron.lif(s1 @ w2, dt=DT, tau=tau2, **p, spk_fun=spk)
    return _xent(s2.sum(0), labels)


def brainpy_loss(params, xs, labels):
    w1, w2, tau1, tau2 = params
    p = {k: v for k, v in LIF_PARAMS.items() if k != "tau"}
    with brainstate.environ.context(dt=DT):
        init = braintools.init.Constant(0.0)
        l1 = brainpy.state.LIF(SIZES[1], tau=tau1, **p, V_initializer=init, spk_fun=bt.MultiGaussianGrad())
        l2 = brainpy.state.LIF(SIZES[2], tau=tau2, **p, V_initializer=init, spk_fun=bt.MultiGaussianGrad())
        l1.init_state(BATCH)
        l2.init_state(BATCH)

        def step(x):
            return l2(l1(x @ w1) @ w2)

        s2 = brainstate.transform.for_loop(step, xs)
    return _xent(s2.sum(0), labels)


def matmul_loss(params, xs, labels):
    """The same network with each LIF layer replaced by a sigmoid: the time of
    everything but the neurons (the projections dominate it)."""
    w1, w2, _, _ = params
    s1 = jax.nn.sigmoid(xs @ w1 - 1.0)
    s2 = jax.nn.sigmoid(s1 @ w2 - 1.0)
    return _xent(s2.sum(0), labels)


def _train_step(loss_fn):
    def step(params, xs, labels):
        loss, grads = jax.value_and_grad(loss_fn)(params, xs, labels)
        return jax.tree_util.tree_map(lambda p, g: p - LR * g, params, grads), loss

    return jax.jit(step)


def _share(seconds):
    """The neurons' share of a step: a time, or "<= 0" where the step took no
    longer than the same step without neurons."""
    return fmt_time(seconds) if seconds > 0 else "<= 0 (within the noise)"


def train_section(rep, cfg, results):
    rep.add(
        f"## Training step: PLIF {SIZES[0]}-{SIZES[1]}-{SIZES[2]} (per-neuron tau trained), batch {BATCH}, "
        f"T={TRAIN_STEPS}, MultiGaussianGrad"
    )
    rep.add()
    params, xs, labels = _train_inputs()
    fns = {"brainpy.state": _train_step(brainpy_loss), "spikegrad": _train_step(fused_loss)}
    temps = {k: f.lower(params, xs, labels).compile().memory_analysis().temp_size_in_bytes for k, f in fns.items()}
    outs = {k: f(params, xs, labels) for k, f in fns.items()}
    losses = {k: float(o[1]) for k, o in outs.items()}
    grads = {k: jax.jit(jax.grad(f))(params, xs, labels) for k, f in (("sg", fused_loss), ("bp", brainpy_loss))}
    grad_diff = max(
        float(jnp.max(jnp.abs(a - b)) / jnp.max(jnp.abs(b))) for a, b in zip(grads["sg"], grads["bp"], strict=True)
    )
    timed = dict(fns, floor=_train_step(matmul_loss))
    tm = time_interleaved(timed, {k: (params, xs, labels) for k in timed}, cfg["train_repeats"], 0.0)
    t = {k: v.best for k, v in tm.items()}
    neurons = {k: t[k] - t["floor"] for k in fns}
    results[("plif_train",)] = dict(t, temps=temps, losses=losses)
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
            [
                f"time per step less the same step without neurons (sigmoid layers: {fmt_time(t['floor'])})",
                *(_share(neurons[k]) for k in ("brainpy.state", "spikegrad")),
                # a share at or below zero: the step is within the noise of the matmuls' time
                f"{neurons['brainpy.state'] / neurons['spikegrad']:.2f}x" if min(neurons.values()) > 0 else "",
            ],
            ["loss", f"{losses['brainpy.state']:.5f}", f"{losses['spikegrad']:.5f}", ""],
            ["gradients (w1, w2, tau1, tau2): max relative difference", "", f"{grad_diff:.1e}", ""],
        ],
    )


def neurons_section(rep, cfg, results):
    """The neuron benchmarks; ``cfg`` has ``quick`` (bool)."""
    ncfg = dict(QUICK if cfg.get("quick") else FULL, models=list(MODELS))
    population_section(rep, ncfg, results)
    floor_section(rep, ncfg, results)
    train_section(rep, ncfg, results)


def main(argv=None):
    global STEPS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--models", help=f"comma-separated, of {','.join(MODELS)}")
    ap.add_argument("--sizes", help="comma-separated N, e.g. 1024,8192")
    ap.add_argument("--dtypes", help="comma-separated, of f32,bf16")
    ap.add_argument("--save-every", help="comma-separated checkpoint strides K for the BPTT columns, e.g. 4,10")
    ap.add_argument("--repeats", type=int)
    ap.add_argument("--steps", type=int, help=f"T of the population sections (default {STEPS})")
    ap.add_argument(
        "--sections", default="population,floor,train", help="comma-separated subset of: population, floor, train"
    )
    ap.add_argument("--skip-train", action="store_true", help="same as leaving train out of --sections")
    ap.add_argument("--train-only", action="store_true", help="same as --sections train")
    args = ap.parse_args(argv)
    if args.steps:
        STEPS = args.steps
    sections = set(args.sections.split(","))
    if args.train_only:
        sections = {"train"}
    if args.skip_train:
        sections.discard("train")
    cfg = dict(QUICK if args.quick else FULL, models=list(MODELS))
    if args.models:
        cfg["models"] = args.models.split(",")
    if args.sizes:
        cfg["sizes"] = [int(s) for s in args.sizes.split(",")]
    if args.dtypes:
        cfg["dtypes"] = args.dtypes.split(",")
    if args.save_every:
        cfg["save_every"] = [int(k) for k in args.save_every.split(",")]
    if args.repeats:
        cfg["repeats"] = cfg["train_repeats"] = args.repeats

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
    if "population" in sections:
        population_section(rep, cfg, results)
    if "floor" in sections:
        floor_section(rep, cfg, results)
    if "train" in sections:
        train_section(rep, cfg, results)


if __name__ == "__main__":
    main()
