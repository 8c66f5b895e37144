"""spikegrad vs braintools, side by side in one process.

Sections: the memory-bandwidth floor; forward / vjp / jvp of MultiGaussianGrad
at several sizes and dtypes (ratio = braintools time / spikegrad time, and the
fraction of the floor spikegrad reaches); per-call cost inside a compiled
``fori_loop``; LIF layers in time loops (``loops``); a BPTT training step of a LIF network per surrogate (time and
compiled temp memory); the vjp of every surrogate the two libraries share; and
a check of the performance targets. Results go to stdout and, as markdown, to
``--out`` (default out/bench.md).

    python benchmarks/bench.py            # full run (several minutes)
    python benchmarks/bench.py --quick    # small sizes, few repeats (< 1 min)
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import braintools.surrogate as bt
import jax
import jax.numpy as jnp
import numpy as np

import spikegrad
import spikegrad.surrogate as sg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loops  # noqa: E402
from snn import make_inputs, make_train_step  # noqa: E402
from timing import fmt_time, time_interleaved  # noqa: E402

from neurons import neurons_section  # noqa: E402

# For the float64 rows. After the imports: importing braintools resets it.
jax.config.update("jax_enable_x64", True)

DTYPES = {"f32": jnp.float32, "bf16": jnp.bfloat16, "f16": jnp.float16, "f64": jnp.float64}

FULL = dict(
    sizes=[1, 2**10, 2**16, 2**20, 2**24],
    dtypes=["f32", "bf16", "f16", "f64"],
    repeats=11,
    loop_sizes=[1, 2**10, 2**16],
    family_n=2**20,
    train_repeats=5,
    train_all=True,
    scan_sizes=[2**6, 2**10, 2**13, 2**16],
    loop_dtypes=["f32", "bf16"],
    brainpy_n=4096,
)
QUICK = dict(
    sizes=[1, 2**10, 2**16],
    dtypes=["f32", "bf16"],
    repeats=3,
    loop_sizes=[1, 2**10],
    family_n=2**16,
    train_repeats=2,
    train_all=False,
    scan_sizes=[2**6, 2**10],
    loop_dtypes=["f32"],
    brainpy_n=4096,
)


def STAT(timing):
    """The statistic the tables report (set by --stat)."""
    return timing.best if _STAT[0] == "min" else timing.median


_STAT = ["min"]


class Report:
    """Collects markdown lines and echoes them to stdout."""

    def __init__(self):
        self.lines: list[str] = []

    def add(self, text: str = ""):
        print(text, flush=True)
        self.lines.append(text)

    def table(self, header: list[str], rows: list[list[str]]):
        self.add("| " + " | ".join(header) + " |")
        self.add("|" + "|".join("---" for _ in header) + "|")
        for r in rows:
            self.add("| " + " | ".join(r) + " |")
        self.add()


def size_label(n: int) -> str:
    return f"2^{n.bit_length() - 1}" if n > 1 and n & (n - 1) == 0 else str(n)


def inputs(n: int, dtype, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.normal(0.0, 1.0, n), dtype=dtype)
    t = jnp.asarray(rng.normal(0.0, 1.0, n), dtype=dtype)
    return x, t


def op_fns(f):
    """The three compiled operations of a spike function ``f``."""
    fwd = jax.jit(lambda x, t: f(x))
    vjp = jax.jit(lambda x, t: jax.vjp(f, x)[1](t)[0])
    jvp = jax.jit(lambda x, t: jax.jvp(f, (x,), (t,)))
    return {"forward": fwd, "vjp": vjp, "jvp": jvp}


# Same memory traffic as each op, with trivial arithmetic: the floor.
FLOOR_FNS = {
    "forward": jax.jit(lambda x, t: x * 2),  # read 1 array, write 1
    "vjp": jax.jit(lambda x, t: x + t),  # read 2, write 1
    "jvp": jax.jit(lambda x, t: (x + t, x - t)),  # read 2, write 2
}


def machine_section(rep: Report):
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            info = fh.read()
        model = next(ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith("model name"))
        flags = next(ln.split(":", 1)[1].split() for ln in info.splitlines() if ln.startswith("flags"))
        simd = [f for f in ("avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_bf16") if f in flags]
        cpu = f"{model} ({', '.join(simd)})"
    except (OSError, StopIteration):
        pass
    rep.add(f"- CPU: {cpu}; {os.cpu_count()} logical CPUs visible")
    rep.add(f"- jax {jax.__version__}, braintools 0.3.0 vs spikegrad {spikegrad.__version__}")
    n = 2**24
    a = np.ones(n, np.float32)
    b = np.empty_like(a)
    best = min(_timed(lambda: np.copyto(b, a)) for _ in range(7))
    rep.add(f"- numpy copy of 64 MiB: {2 * a.nbytes / best / 1e9:.1f} GB/s (read + write)")
    rep.add()


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def ops_section(rep: Report, cfg, results: dict):
    rep.add("## MultiGaussianGrad: forward, vjp, jvp")
    rep.add()
    rep.add(
        f"Time per compiled call ({_STAT[0]} over interleaved samples; Python dispatch included, "
        "the same for both). "
        "ratio = braintools / spikegrad (> 1: spikegrad faster); floor = time of an XLA op "
        "with the same memory traffic (`x*2`, `x+t`, `(x+t, x-t)`); floor% = floor / spikegrad."
    )
    rep.add()
    bt_ops, sg_ops = op_fns(bt.MultiGaussianGrad()), op_fns(sg.MultiGaussianGrad())
    rows = []
    for dname in cfg["dtypes"]:
        for n in cfg["sizes"]:
            x, t = inputs(n, DTYPES[dname])
            for op in ("forward", "vjp", "jvp"):
                fns = {"braintools": bt_ops[op], "spikegrad": sg_ops[op], "floor": FLOOR_FNS[op]}
                tm = time_interleaved(fns, {k: (x, t) for k in fns}, cfg["repeats"])
                b, s, fl = (STAT(tm[k]) for k in ("braintools", "spikegrad", "floor"))
                results[(dname, n, op)] = dict(bt=b, sg=s, floor=fl)
                rows.append(
                    [
                        dname,
                        size_label(n),
                        op,
                        fmt_time(b),
                        fmt_time(s),
                        f"{b / s:.2f}x",
                        fmt_time(fl),
                        f"{100 * fl / s:.0f}%",
                    ]
                )
            del x, t
    rep.table(["dtype", "N", "op", "braintools", "spikegrad", "ratio", "floor", "floor%"], rows)


def loop_section(rep: Report, cfg, results: dict):
    rep.add("## Per-call cost inside a compiled `fori_loop` (f32)")
    rep.add()
    rep.add(
        f"Each iteration computes `op(x + carry)`; time per iteration ({_STAT[0]}). "
        "`add only` is the loop with the op removed."
    )
    rep.add()
    iters = 1000
    rows = []
    for n in cfg["loop_sizes"]:
        x, _ = inputs(n, jnp.float32)
        fns = {}
        for name, f in (("braintools", bt.MultiGaussianGrad()), ("spikegrad", sg.MultiGaussianGrad())):
            ones = jnp.ones_like(x)
            fns[(name, "forward")] = _loop(lambda v, f=f: f(v), iters)
            fns[(name, "vjp")] = _loop(lambda v, f=f, o=ones: jax.vjp(f, v)[1](o)[0], iters)
        fns[("add only", "-")] = _loop(lambda v: v * 0.5, iters)
        tm = time_interleaved(fns, {k: (x,) for k in fns}, cfg["repeats"])
        base = STAT(tm[("add only", "-")]) / iters
        for op in ("forward", "vjp"):
            b = STAT(tm[("braintools", op)]) / iters
            s = STAT(tm[("spikegrad", op)]) / iters
            results[("loop", n, op)] = dict(bt=b, sg=s)
            rows.append([size_label(n), op, fmt_time(b), fmt_time(s), f"{b / s:.2f}x", fmt_time(base)])
    rep.table(["N", "op", "braintools / iter", "spikegrad / iter", "ratio", "add only / iter"], rows)


def _loop(op, iters):
    def run(x):
        return jax.lax.fori_loop(0, iters, lambda i, c: op(x + c), jnp.zeros_like(x))

    return jax.jit(run)


def shared_surrogates():
    """Every surrogate class in spikegrad.surrogate that braintools.surrogate
    also has, as ``(name, spikegrad instance, braintools instance)`` with
    default parameters; classes that fail to construct are reported."""
    out, skipped = [], []
    for name in sorted(getattr(sg, "__all__", dir(sg))):
        cls = getattr(sg, name, None)
        if not (isinstance(cls, type) and issubclass(cls, sg.Surrogate)):
            continue
        if cls in (sg.Surrogate, getattr(sg, "NativeSurrogate", None)):
            continue
        bt_cls = getattr(bt, name, None)
        if not isinstance(bt_cls, type):
            continue
        try:
            out.append((name, cls(), bt_cls()))
        except Exception as e:  # noqa: BLE001  (reported, not fatal)
            skipped.append(f"{name}: {type(e).__name__}: {e}")
    return out, skipped


def train_section(rep: Report, cfg, results: dict):
    batch, steps = 32, 50
    rep.add(f"## BPTT training step: LIF 784-256-10, batch {batch}, T={steps}, `lax.scan`")
    rep.add()
    rep.add(
        "value_and_grad of a cross-entropy loss on output spike counts + SGD update; "
        f"time per step ({_STAT[0]}); temp = `compiled.memory_analysis().temp_size_in_bytes`."
    )
    rep.add()
    params, xs, labels = make_inputs(batch, steps)
    pairs, _ = shared_surrogates()
    if not cfg["train_all"]:
        pairs = [p for p in pairs if p[0] == "MultiGaussianGrad"]
    rows = []
    for name, sg_obj, bt_obj in pairs:
        fns, temps = {}, {}
        for lib, obj in (("braintools", bt_obj), ("spikegrad", sg_obj)):
            step = jax.jit(make_train_step(obj))
            compiled = step.lower(params, xs, labels).compile()
            temps[lib] = compiled.memory_analysis().temp_size_in_bytes
            fns[lib] = compiled
        tm = time_interleaved(fns, {k: (params, xs, labels) for k in fns}, cfg["train_repeats"], 0.0)
        b, s = STAT(tm["braintools"]), STAT(tm["spikegrad"])
        results[("train", name)] = dict(bt=b, sg=s, bt_temp=temps["braintools"], sg_temp=temps["spikegrad"])
        rows.append(
            [
                name,
                fmt_time(b),
                fmt_time(s),
                f"{b / s:.2f}x",
                f"{temps['braintools'] / 2**20:.2f} MiB",
                f"{temps['spikegrad'] / 2**20:.2f} MiB",
            ]
        )
    rep.table(["surrogate", "braintools", "spikegrad", "ratio", "braintools temp", "spikegrad temp"], rows)


def family_section(rep: Report, cfg, results: dict):
    n = cfg["family_n"]
    rep.add(f"## Every shared surrogate: vjp at N={size_label(n)}, default parameters")
    rep.add()
    pairs, skipped = shared_surrogates()
    rows = []
    for dname in ("f32", "bf16"):
        x, t = inputs(n, DTYPES[dname])
        for name, sg_obj, bt_obj in pairs:
            fns = {"braintools": op_fns(bt_obj)["vjp"], "spikegrad": op_fns(sg_obj)["vjp"]}
            tm = time_interleaved(fns, {k: (x, t) for k in fns}, cfg["repeats"])
            b, s = STAT(tm["braintools"]), STAT(tm["spikegrad"])
            results[("family", name, dname)] = dict(bt=b, sg=s)
            rows.append([name, dname, fmt_time(b), fmt_time(s), f"{b / s:.2f}x"])
    rep.table(["surrogate", "dtype", "braintools", "spikegrad", "ratio"], rows)
    for s in skipped:
        rep.add(f"- not benchmarked: {s}")


def targets_section(rep: Report, results: dict):
    """Check the performance targets against what this run measured."""
    rep.add("## Targets")
    rep.add()
    rows = []

    def check(what, value, goal, ok):
        rows.append([what, value, goal, "yes" if ok else "**no**"])

    big = [k for k in results if len(k) == 3 and k[0] in DTYPES and k[1] >= 2**16]
    for dname, n, op in sorted(big, key=lambda k: (k[0], k[1], k[2])):
        r = results[(dname, n, op)]
        ratio, frac = r["bt"] / r["sg"], r["floor"] / r["sg"]
        where = f"{dname} N={size_label(n)} {op}"
        if dname == "f32" and op == "vjp":
            check(
                where, f"{ratio:.2f}x, {100 * frac:.0f}% of floor", ">= 2.0x and >= 70%", ratio >= 2.0 and frac >= 0.7
            )
        elif dname == "f32" and op == "forward":
            check(where, f"{ratio:.2f}x", ">= 1.0x", ratio >= 1.0)
        elif dname in ("bf16", "f16") and op == "vjp":
            check(where, f"{ratio:.2f}x", ">= 3.0x", ratio >= 3.0)
    for key, r in sorted(results.items(), key=lambda kv: str(kv[0])):
        if key[0] in DTYPES and key[1] <= 1024:
            ratio = r["bt"] / r["sg"]
            check(f"{key[0]} N={size_label(key[1])} {key[2]} (direct call)", f"{ratio:.2f}x", ">= 0.9x", ratio >= 0.9)
        elif key[0] == "loop" and key[1] <= 1024:
            ratio = r["bt"] / r["sg"]
            check(f"f32 N={size_label(key[1])} {key[2]} (in fori_loop)", f"{ratio:.2f}x", ">= 0.9x", ratio >= 0.9)
        elif key[0] == "train":
            ratio = r["bt"] / r["sg"]
            check(
                f"training step, {key[1]}",
                f"{ratio:.2f}x, temp {r['sg_temp'] / 2**20:.2f} vs {r['bt_temp'] / 2**20:.2f} MiB",
                ">= 1.0x, lower temp",
                ratio >= 1.0 and r["sg_temp"] < r["bt_temp"],
            )
    loops.targets(results, check, size_label)
    rep.table(["case", "measured", "target", "met"], rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes and few repeats (smoke test)")
    ap.add_argument("--out", default="out/bench.md", help="markdown output file")
    ap.add_argument(
        "--sections",
        default="ops,loop,scan,brainpy,train,family,neurons",
        help="comma-separated subset of: ops, loop, scan, brainpy, train, family, neurons",
    )
    ap.add_argument(
        "--stat",
        choices=("min", "median"),
        default="min",
        help="statistic over the interleaved samples (default: min, the most robust "
        "on a shared machine, where interference only adds time)",
    )
    ap.add_argument("--sizes", help="comma-separated N for the ops section, e.g. 1024,1048576")
    ap.add_argument("--scan-sizes", help="comma-separated N for the scan section")
    ap.add_argument("--dtypes", help="comma-separated dtypes for the ops section, e.g. f32,bf16")
    args = ap.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    if args.sizes:
        cfg["sizes"] = [int(v) for v in args.sizes.split(",")]
    if args.scan_sizes:
        cfg["scan_sizes"] = [int(v) for v in args.scan_sizes.split(",")]
    if args.dtypes:
        cfg["dtypes"] = args.dtypes.split(",")
    sections = set(args.sections.split(","))
    _STAT[0] = args.stat
    rep = Report()
    rep.add(f"# spikegrad vs braintools benchmark{' (--quick)' if args.quick else ''}")
    rep.add()
    machine_section(rep)
    results: dict = {}
    t0 = time.perf_counter()
    if "ops" in sections:
        ops_section(rep, cfg, results)
    if "loop" in sections:
        loop_section(rep, cfg, results)
    for name in ("scan", "brainpy"):
        if name in sections:
            getattr(loops, f"{name}_section")(rep, cfg, results, STAT, size_label)
    if "train" in sections:
        train_section(rep, cfg, results)
    if "family" in sections:
        family_section(rep, cfg, results)
    if "neurons" in sections:
        neurons_section(rep, dict(quick=args.quick), results)
    targets_section(rep, results)
    rep.add(f"_Total benchmark time: {time.perf_counter() - t0:.0f} s._")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(rep.lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
