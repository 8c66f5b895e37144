"""Time one spikegrad build against braintools in this process, for comparing
two builds of spikegrad (say the manylinux wheel and a `pip install .` build),
which cannot load into one process.

Run it alternately in each build's venv; compare the per-build ratios
(braintools time / spikegrad time), which cancel most of the machine's load.
Besides wall time it reports the process's CPU time per call (all threads),
which other jobs on a busy machine disturb less than wall time:

    python benchmarks/build_compare.py --label wheel
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import pathlib
import time

import braintools
import jax
import jax.numpy as jnp
from timing import time_interleaved  # benchmarks/, this script's directory

import spikegrad.surrogate

CASES = [
    ("vjp", 2**16, jnp.float32),
    ("vjp", 2**20, jnp.float32),
    ("vjp", 2**20, jnp.bfloat16),
    ("fwd", 2**20, jnp.float32),
]


def op(kind, f):
    if kind == "fwd":
        return jax.jit(f)
    return jax.jit(lambda x, t: jax.vjp(f, x)[1](t)[0])


def cpu_per_call(fns, operands, repeats, calls=20):
    """Minimum over interleaved samples of the process CPU time per call."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.process_time()
            for _ in range(calls):
                jax.block_until_ready(fn(*operands))
            best[name] = min(best[name], (time.process_time() - t0) / calls)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--label", required=True, help="name of this build in the output")
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args(argv)
    ours, theirs = spikegrad.surrogate.MultiGaussianGrad(), braintools.surrogate.MultiGaussianGrad()
    results = {}
    for kind, n, dtype in CASES:
        key = jax.random.PRNGKey(0)
        x = jax.random.normal(key, (n,), jnp.float32).astype(dtype)
        t = jax.random.normal(jax.random.split(key)[0], (n,), jnp.float32).astype(dtype)
        operands = (x,) if kind == "fwd" else (x, t)
        fns = {"spikegrad": op(kind, ours), "braintools": op(kind, theirs)}
        timings = time_interleaved(fns, {name: operands for name in fns}, repeats=args.repeats)
        name = f"{kind} {jnp.dtype(dtype).name} 2^{n.bit_length() - 1}"
        cpu = cpu_per_call(fns, operands, args.repeats)
        results[name] = {
            "spikegrad_us": round(timings["spikegrad"].best * 1e6, 1),
            "braintools_us": round(timings["braintools"].best * 1e6, 1),
            "ratio": round(timings["braintools"].best / timings["spikegrad"].best, 2),
            "spikegrad_cpu_us": round(cpu["spikegrad"] * 1e6, 1),
            "braintools_cpu_us": round(cpu["braintools"] * 1e6, 1),
        }
    where = pathlib.Path(spikegrad.__file__).parent
    print(
        json.dumps(
            {"build": args.label, "spikegrad": importlib.metadata.version("spikegrad"), "from": str(where), **results}
        )
    )


if __name__ == "__main__":
    main()
