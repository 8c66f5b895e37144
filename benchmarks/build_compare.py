"""Time one spikegrad build against braintools in this process, for comparing
two builds of spikegrad (say the manylinux wheel and a `pip install .` build),
which cannot load into one process.

Run it alternately in each build's venv; compare the per-build ratios
(braintools time / spikegrad time), which cancel most of the machine's load:

    python benchmarks/build_compare.py --label wheel
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import pathlib

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
        results[name] = {
            "spikegrad_us": round(timings["spikegrad"].best * 1e6, 1),
            "braintools_us": round(timings["braintools"].best * 1e6, 1),
            "ratio": round(timings["braintools"].best / timings["spikegrad"].best, 2),
        }
    where = pathlib.Path(spikegrad.__file__).parent
    print(
        json.dumps(
            {"build": args.label, "spikegrad": importlib.metadata.version("spikegrad"), "from": str(where), **results}
        )
    )


if __name__ == "__main__":
    main()
