"""spike_matmul against XLA's dense dot and brainevent, side by side in one
process: the forward product and the weight gradient (forward plus vjp with
respect to the weight), float32, at several firing rates, batch sizes and
layer shapes. Prints a Markdown table of medians and ratios (> 1: spikegrad
is faster).

    python benchmarks/synapse.py
    python benchmarks/synapse.py --batches 64 --shapes 700x256 --rates 0.05 --repeats 3

brainevent is optional (``BinaryArray(spikes) @ W``); its column is left out
when it does not import or run (0.3.0 needs numba for its CPU kernels) or
with ``--no-brainevent``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import fmt_time, time_interleaved  # noqa: E402

from spikegrad.synapse import spike_matmul  # noqa: E402


def _brainevent():
    """brainevent if it imports and its CPU kernel runs (0.3.0 needs numba), else None."""
    try:
        import brainevent

        jax.block_until_ready(brainevent.BinaryArray(jnp.ones((1, 1), bool)) @ jnp.ones((1, 1)))
    except Exception as e:  # noqa: BLE001  (any failure: no column)
        print(f"brainevent left out: {type(e).__name__}: {str(e)[:200]}", file=sys.stderr)
        return None
    return brainevent


def _contenders(brainevent):
    """name -> product ``f(s, w)``."""
    out = {"spikegrad": spike_matmul, "dense": jnp.matmul}
    if brainevent is not None:
        out["brainevent"] = lambda s, w: brainevent.BinaryArray(s) @ w
    return out


def _forward(f):
    return jax.jit(f)


def _wgrad(f):
    """Forward plus the vjp with respect to the weight."""
    return jax.jit(lambda s, w, ct: jax.vjp(lambda w: f(s, w), w)[1](ct)[0])


def _case(batch, n_in, n_out, rate, seed=0):
    rng = np.random.default_rng(seed)
    s = jnp.asarray(rng.random((batch, n_in)) < rate, jnp.float32)
    w = jnp.asarray(rng.standard_normal((n_in, n_out)) / np.sqrt(n_in), jnp.float32)
    ct = jnp.asarray(rng.standard_normal((batch, n_out)), jnp.float32)
    return s, w, ct


def run(batches, shapes, rates, repeats, use_brainevent=True, ops=("forward", "weight grad")):
    brainevent = _brainevent() if use_brainevent else None
    names = list(_contenders(brainevent))
    versions = f"jax {jax.__version__}, spikegrad {importlib.metadata.version('spikegrad')}"
    if brainevent is not None:
        versions += f", brainevent {importlib.metadata.version('brainevent')}"
    print(f"spike_matmul, float32, {os.cpu_count()} CPUs; {versions}\n")
    others = [n for n in names if n != "spikegrad"]
    header = ["B", "n_in → n_out", "firing", "op", *names, *(f"vs {n}" for n in others)]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for batch in batches:
        for n_in, n_out in shapes:
            for rate in rates:
                s, w, ct = _case(batch, n_in, n_out, rate)
                want = np.asarray(s, np.float64) @ np.asarray(w, np.float64)
                for op, make, args in (("forward", _forward, (s, w)), ("weight grad", _wgrad, (s, w, ct))):
                    if op not in ops:
                        continue
                    fns = {n: make(f) for n, f in _contenders(brainevent).items()}
                    if op == "forward":  # every contender computes the same product
                        for n, fn in fns.items():
                            np.testing.assert_allclose(fn(*args), want, rtol=1e-4, atol=1e-4, err_msg=n)
                    t = time_interleaved(fns, {n: args for n in fns}, repeats)
                    ratios = [t[n].median / t["spikegrad"].median for n in others]
                    row = [
                        str(batch),
                        f"{n_in} → {n_out}",
                        f"{rate:.0%}",
                        op,
                        *(fmt_time(t[n].median) for n in names),
                        *(f"{r:.2f}x" for r in ratios),
                    ]
                    print("| " + " | ".join(row) + " |", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", default="64,256")
    p.add_argument("--shapes", default="700x256,1024x1024", help="n_inxn_out, comma-separated")
    p.add_argument("--rates", default="0.01,0.05,0.2,0.3,0.5")
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--no-brainevent", action="store_true")
    p.add_argument("--ops", default="forward,weight grad", help="comma-separated: forward, weight grad")
    a = p.parse_args(argv)
    batches = [int(b) for b in a.batches.split(",")]
    shapes = [tuple(int(v) for v in s.split("x")) for s in a.shapes.split(",")]
    rates = [float(r) for r in a.rates.split(",")]
    ops = tuple(o.strip() for o in a.ops.split(","))
    run(batches, shapes, rates, a.repeats, use_brainevent=not a.no_brainevent, ops=ops)


if __name__ == "__main__":
    main()
