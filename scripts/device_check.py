"""GPU check of spikegrad, run by scripts/device_check.sh on a GPU machine.

1. On the default device (the GPU): the compiled code holds no spikegrad
   custom call (the XLA-native lowering is used).
2. Values: forward, vjp and jvp on the GPU against the same on the CPU (the
   Rust custom calls), against braintools on the GPU, and against the float64
   NumPy formula, for float32, bfloat16 and float16.
3. Timing: forward and vjp on the GPU, spikegrad against braintools' own math,
   median of repeated runs, with the effective memory bandwidth.

Prints a report, writes it as JSON to --out, exits 1 if a comparison fails.
On a machine without a GPU it compares the CPU with itself (a dry run).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import braintools.surrogate as bt
import jax
import jax.numpy as jnp
import numpy as np

import spikegrad.surrogate as sg

# The float64 references the tests use (tests/helpers/family.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers.family import reference  # noqa: E402

SURROGATES = {
    "MultiGaussianGrad": dict(h=0.2, s=4.0, sigma=0.6, scale=0.7),
    "GaussianGrad": dict(sigma=0.4, alpha=0.9),
}
# dtype -> (rtol, atol) between two float32-widened computations rounded once
TOLERANCE = {"float32": (2e-6, 1e-7), "bfloat16": (2.0**-7, 1e-6), "float16": (2.0**-10, 1e-6)}


def functions(spike):
    def forward(x):
        return spike(x)

    def vjp(x, ct):
        return jax.vjp(spike, x)[1](ct)[0]

    def jvp(x, t):
        return jax.jvp(spike, (x,), (t,))[1]

    return {"forward": jax.jit(forward), "vjp": jax.jit(vjp), "jvp": jax.jit(jvp)}


def run_all(fns, x, w):
    return {
        "forward": np.asarray(fns["forward"](x), np.float64),
        "vjp": np.asarray(fns["vjp"](x, w), np.float64),
        "jvp": np.asarray(fns["jvp"](x, w), np.float64),
    }


def compare(report, gpu, cpu, n=1 << 20):
    rng = np.random.default_rng(5)
    x_np = rng.normal(scale=1.5, size=n)
    x_np[:4] = [0.0, -0.0, np.nan, -1e-30]
    w_np = rng.normal(size=n)
    ok = True
    for name, params in SURROGATES.items():
        ours = functions(getattr(sg, name)(**params))
        theirs = functions(getattr(bt, name)(**params))
        for dtype, (rtol, atol) in TOLERANCE.items():
            x_h, w_h = (np.asarray(jnp.asarray(a, dtype)) for a in (x_np, w_np))
            devices = {"gpu": gpu, "cpu": cpu}
            on = {k: tuple(jax.device_put(a, devices[k]) for a in (x_h, w_h)) for k in devices}
            got_gpu = run_all(ours, *on["gpu"])
            got_cpu = run_all(ours, *on["cpu"])
            got_bt = run_all(theirs, *on["gpu"])
            x64, w64 = (np.asarray(a, np.float64) for a in (x_h, w_h))
            slope = w64 * reference(name, x64, params)
            checks = {
                "forward_gpu_eq_cpu": np.array_equal(got_gpu["forward"], got_cpu["forward"], equal_nan=True),
                "forward_gpu_eq_step": np.array_equal(got_gpu["forward"], (x64 >= 0).astype(np.float64)),
                "forward_gpu_eq_braintools": np.array_equal(got_gpu["forward"], got_bt["forward"], equal_nan=True),
            }
            # braintools computes half precision in half precision; spikegrad
            # widens to float32 and rounds once: compare gradients with it in
            # float32 only.
            refs = ["cpu", "numpy"] + (["braintools"] if dtype == "float32" else [])
            for mode in ("vjp", "jvp"):
                for ref_name in refs:
                    ref = {"cpu": got_cpu[mode], "braintools": got_bt[mode], "numpy": slope}[ref_name]
                    checks[f"{mode}_gpu_vs_{ref_name}"] = bool(
                        np.allclose(got_gpu[mode], ref, rtol=rtol, atol=atol, equal_nan=True)
                    )
            err = float(np.nanmax(np.abs(got_gpu["vjp"] - got_cpu["vjp"])))
            report["compare"].append(dict(surrogate=name, dtype=dtype, max_abs_vjp_gpu_minus_cpu=err, **checks))
            ok &= all(checks.values())
            print(
                f"{name:18s} {dtype:8s} max|vjp gpu-cpu|={err:.3g} "
                + ("ok" if all(checks.values()) else f"FAILED {[k for k, v in checks.items() if not v]}")
            )
    return ok


def no_custom_call_on(device, report):
    spike = sg.MultiGaussianGrad()
    x = jax.device_put(jnp.ones(16), device)
    text = jax.jit(lambda x: jax.vjp(spike, x)[1](x)[0]).lower(x).compile().as_text()
    clean = "spikegrad_" not in text
    report["gpu_hlo_has_no_spikegrad_custom_call"] = clean
    print(f"compiled GPU code free of spikegrad custom calls: {clean}")
    return clean


def median_ms(fn, *args, repeats=30):
    jax.block_until_ready(fn(*args))
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def timing(report, device, n=1 << 26):
    rng = np.random.default_rng(9)
    for dtype in ("float32", "bfloat16"):
        x = jax.device_put(jnp.asarray(rng.normal(size=n), dtype), device)
        w = jax.device_put(jnp.asarray(rng.normal(size=n), dtype), device)
        item = jnp.dtype(dtype).itemsize
        for name, params in SURROGATES.items():
            for lib, module in (("spikegrad", sg), ("braintools", bt)):
                fns = functions(getattr(module, name)(**params))
                fwd = median_ms(fns["forward"], x)
                bwd = median_ms(fns["vjp"], x, w)
                row = dict(
                    surrogate=name,
                    dtype=dtype,
                    library=lib,
                    n=n,
                    forward_ms=fwd,
                    vjp_ms=bwd,
                    forward_GBps=2 * n * item / fwd / 1e6,
                    vjp_GBps=3 * n * item / bwd / 1e6,
                )
                report["timing"].append(row)
                print(
                    f"{name:18s} {dtype:8s} {lib:10s} forward {fwd:7.3f} ms ({row['forward_GBps']:6.0f} GB/s)"
                    f"  vjp {bwd:7.3f} ms ({row['vjp_GBps']:6.0f} GB/s)"
                )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=None, help="write the report here as JSON")
    parser.add_argument("--n-time", type=int, default=1 << 26, help="elements per timed call")
    args = parser.parse_args()

    cpu = jax.devices("cpu")[0]
    gpu = jax.devices()[0]
    report = {"jax": jax.__version__, "device": str(gpu), "compare": [], "timing": []}
    print(f"jax {jax.__version__}; default device {gpu} ({gpu.platform}); reference {cpu}")
    if gpu.platform == "cpu":
        print("no GPU found: dry run, comparing the CPU with itself")
    ok = no_custom_call_on(gpu, report) or gpu.platform == "cpu"
    ok &= compare(report, gpu, cpu)
    timing(report, gpu, args.n_time)
    report["ok"] = bool(ok)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)
    print("device check:", "ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
