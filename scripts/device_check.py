"""GPU check of spikegrad, run by scripts/device_check.sh on a GPU machine.

Sections (``--sections``, all by default, in this order; each is skipped once
``--budget`` seconds have passed, and an error in one is reported and the
others still run):

``neurons``       the fused neurons (``spikegrad.neuron.lif``, ``alif``,
                  ``cuba_lif``) on the GPU, where they run the Pallas (Triton)
                  kernels, against the CPU (the Rust kernels): spikes,
                  states, gradients w.r.t. the input, the initial states and
                  ``tau``, and a JVP, for soft and hard reset, float32 and one
                  float64 case; the checkpoint stride does not change the
                  gradient; the compiled GPU code calls the Triton kernels.
``surrogates``    the compiled GPU code of a surrogate holds no spikegrad
                  custom call; forward, vjp and jvp on the GPU against the
                  CPU custom calls, braintools and the float64 NumPy formula,
                  for float32, bfloat16 and float16.
``bandwidth``     the device's copy bandwidth (``x + 1`` over 1 GiB), the
                  floor for the memory-bound passes below.
``neuron_timing`` the fused LIF against brainpy.state's LIF in
                  ``brainstate.transform.for_loop`` and a ``lax.scan`` LIF,
                  both with the braintools surrogate (benchmarks/neurons.py),
                  T = 100, N = 2^13 .. 2^22, forward and BPTT, float32 and
                  bfloat16, with each BPTT program's temp memory and the time
                  of one read of x and one write of the output at the copy
                  bandwidth.
``train``         the 784-1024-10 LIF training step of benchmarks/neurons.py,
                  fused against brainpy.state.
``surrogate_timing`` forward and vjp of two surrogates on ``--n-time``
                  elements, spikegrad against braintools' math.
``blocks``        the fused LIF at N = 2^22 per Pallas neuron block size and
                  pipelining depth.

Prints a report, writes it as JSON to --out, exits 1 if a comparison fails.
Without a GPU it is a dry run: the "device" is the CPU, where the fused
neurons run their Pallas kernels in interpret mode (``spikegrad.lowering
("pallas")``) against the CPU's default path; ``--quick`` makes every size
tiny.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

import braintools.surrogate as bt
import jax
import jax.numpy as jnp
import numpy as np

import spikegrad
import spikegrad.surrogate as sg

ROOT = Path(__file__).resolve().parents[1]
# The float64 references the tests use (tests/helpers/family.py).
sys.path.insert(0, str(ROOT / "tests"))
from helpers.family import reference  # noqa: E402

SURROGATES = {
    "MultiGaussianGrad": dict(h=0.2, s=4.0, sigma=0.6, scale=0.7),
    "GaussianGrad": dict(sigma=0.4, alpha=0.9),
}
# dtype -> (rtol, atol) between two float32-widened computations rounded once;
# float32 as tests/test_mgg_values.py: 4e-6 of g's peak (about 0.5 here), since
# the CPU kernel's MultiGaussianGrad is within 1.3e-7 where g crosses zero.
TOLERANCE = {"float32": (4e-6, 2e-6), "bfloat16": (2.0**-7, 1e-6), "float16": (2.0**-10, 1e-6)}


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
    """The surrogates' values on the device against the CPU, braintools and NumPy."""
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
    """A surrogate's compiled device code holds no spikegrad custom call."""
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
    """Forward and vjp of two surrogates, spikegrad against braintools."""
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
                report["surrogate_timing"].append(row)
                print(
                    f"{name:18s} {dtype:8s} {lib:10s} forward {fwd:7.3f} ms ({row['forward_GBps']:6.0f} GB/s)"
                    f"  vjp {bwd:7.3f} ms ({row['vjp_GBps']:6.0f} GB/s)"
                )


# ---- fused neurons ---------------------------------------------------------------

#: Brainpy-like parameters per model (dt and tau short enough to spike often),
#: and the initial-state argument names.
NEURON_PARAMS = {
    "lif": (("v0",), dict(dt=0.5, tau=2.0, R=1.5, V_th=1.0, V_reset=-0.2, V_rest=0.1)),
    "alif": (("v0", "a0"), dict(dt=0.5, tau=2.0, tau_a=8.0, R=1.5, V_th=1.0, V_reset=-0.2, V_rest=0.1, beta=0.3)),
    "cuba_lif": (("v0", "g0"), dict(dt=0.5, tau=2.0, tau_syn=3.0, R=1.5, V_th=1.0, V_reset=-0.2, V_rest=0.1)),
}
X_SCALE = {"lif": 2.5, "alif": 2.5, "cuba_lif": 1.0}
#: Spike mismatches allowed between the device and the CPU (float32: a
#: potential within rounding of the threshold can fall either way, and the
#: neuron's trajectory differs from there on), and the error budget of the
#: neurons whose spike trains agree, relative to each output's largest value.
MISMATCH = {"float32": 1e-4, "float64": 0.0}
NEURON_RTOL = {"float32": 1e-4, "float64": 1e-9}


def neuron_program(model, hard, save_every):
    """jit of ``(spikes, states, grads w.r.t. (x, z0, tau), jvp w.r.t. x)``."""
    import spikegrad.neuron as neuron

    names, params = NEURON_PARAMS[model]
    fn = getattr(neuron, model)
    spk = sg.MultiGaussianGrad(h=0.2, s=4.0, sigma=0.6, scale=0.7)
    reset = "hard" if hard else "soft"

    def call(x, z0, tau, **kw):
        return fn(x, **dict(zip(names, z0)), **{**params, "tau": tau}, spk_fun=spk, spk_reset=reset, **kw)

    def program(x, z0, w, dx):
        spikes, states = call(x, z0, params["tau"], return_states=True)

        def loss(x, z0, tau):
            return jnp.sum(w * call(x, z0, tau, save_every=save_every))

        grads = jax.grad(loss, argnums=(0, 1, 2))(x, z0, params["tau"])
        _, tangent = jax.jvp(lambda x: call(x, z0, params["tau"]), (x,), (dx,))
        return spikes, states, grads, tangent

    return jax.jit(program)


def neuron_inputs(model, steps, shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    names, _ = NEURON_PARAMS[model]
    x = (X_SCALE[model] * rng.uniform(-0.2, 1.0, (steps, *shape))).astype(dtype)
    z0 = tuple(rng.uniform(-0.2, 1.0 if i == 0 else 0.5, shape).astype(dtype) for i in range(len(names)))
    w = rng.normal(size=x.shape).astype(dtype)
    dx = rng.normal(size=x.shape).astype(dtype)
    return x, z0, w, dx


def _on(device, tree):
    return jax.device_put(tree, device)


def _compare_neurons(got, want, dtype):
    """Spike mismatches, and the largest error of every other output over
    the neurons whose spike trains agree (the scalar ``tau`` gradient only
    when all agree)."""
    spikes_g, spikes_w = got[0], want[0]
    agree = np.all(spikes_g == spikes_w, axis=0)  # per neuron
    mismatch = float(np.mean(spikes_g != spikes_w))
    (states_g, grads_g, tangent_g), (states_w, grads_w, tangent_w) = got[1:], want[1:]
    outputs = {f"state{i}": (a, b) for i, (a, b) in enumerate(zip(states_g, states_w))}
    outputs["grad_x"] = (grads_g[0], grads_w[0])
    outputs.update({f"grad_z0_{i}": (a, b) for i, (a, b) in enumerate(zip(grads_g[1], grads_w[1]))})
    outputs["jvp"] = (tangent_g, tangent_w)
    errors = {}
    for name, (a, b) in outputs.items():
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        mask = np.broadcast_to(agree, a.shape)
        scale = max(float(np.max(np.abs(b[mask]))) if mask.any() else 0.0, 1e-30)
        errors[name] = float(np.max(np.abs(a - b)[mask])) / scale if mask.any() else 0.0
    if agree.all():
        a, b = float(grads_g[2]), float(grads_w[2])
        errors["grad_tau"] = abs(a - b) / max(abs(b), 1e-30)
    ok = mismatch <= MISMATCH[dtype] and all(e <= NEURON_RTOL[dtype] for e in errors.values())
    return dict(spike_mismatch=mismatch, rel_errors=errors, ok=bool(ok))


def neuron_values(report, device, cpu, quick, pallas_on_cpu):
    """The fused neurons on ``device`` (the Pallas kernels) against the CPU."""
    steps, shape = (20, (2, 75)) if quick else (100, (16, 4096))
    ok = True
    cases = [(m, h, "float32") for m in NEURON_PARAMS for h in (False, True)] + [("alif", True, "float64")]
    for model, hard, dtype in cases:
        x64 = dtype == "float64"
        with _x64(x64):
            args = neuron_inputs(model, steps, shape, np.dtype(dtype), seed=len(report["neurons"]))
            prog = neuron_program(model, hard, 1)
            want = jax.device_get(prog(*_on(cpu, args)))
            with _device_lowering(pallas_on_cpu):
                on_dev = _on(device, args)
                compiled = prog.lower(*on_dev).compile()  # one compilation, run and read
                got = jax.device_get(compiled(*on_dev))
                # The checkpoint stride changes the memory, not the gradient.
                strided = jax.device_get(neuron_program(model, hard, 10)(*on_dev))
                text = compiled.as_text() if device.platform == "gpu" else ""
        row = dict(model=model, reset="hard" if hard else "soft", dtype=dtype, steps=steps, shape=list(shape))
        row.update(_compare_neurons(got, want, dtype))
        stride_err = max(
            float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))) / max(np.max(np.abs(b)), 1e-30))
            for a, b in zip(jax.tree.leaves(strided[2]), jax.tree.leaves(got[2]))
        )
        row["save_every_10_vs_1_rel_error"] = stride_err
        row["ok"] &= stride_err <= NEURON_RTOL[dtype]
        if device.platform == "gpu":
            row["triton_kernels_in_compiled_code"] = text.count("__gpu$xla.gpu.triton")
            row["ok"] &= row["triton_kernels_in_compiled_code"] > 0
        report["neurons"].append(row)
        ok &= row["ok"]
        print(
            f"{model:8s} {row['reset']:4s} {dtype:7s} spike mismatch {row['spike_mismatch']:.2e}"
            f"  max rel err {max(row['rel_errors'].values()):.2e}  stride 10 vs 1 {stride_err:.2e}  "
            + ("ok" if row["ok"] else "FAILED")
        )
    return ok


def _x64(on):
    if not on:
        return _null()
    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(True)
    from jax.experimental import enable_x64

    return enable_x64()


def _device_lowering(pallas_on_cpu):
    """The device side's lowering setting: the default on a GPU (the Pallas
    kernels); "pallas" on the CPU of a dry run (the same kernels, interpreted)."""
    return spikegrad.lowering("pallas") if pallas_on_cpu else _null()


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def copy_bandwidth(report, device, quick):
    """GB/s of ``x + 1`` over 1 GiB of float32 (one read, one write)."""
    n = 1 << (20 if quick else 28)
    x = jax.device_put(jnp.zeros(n, jnp.float32), device)
    add = jax.jit(lambda a: a + 1.0)
    best = min(_timed(add, x) for _ in range(20))
    gbps = 2 * 4 * n / best / 1e9
    report["copy_GBps"] = gbps
    print(f"copy bandwidth: {gbps:.0f} GB/s ({2 * 4 * n / 2**30:.2f} GiB moved in {best * 1e3:.3f} ms)")
    return gbps


def _timed(fn, *args):
    jax.block_until_ready(fn(*args))
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - t0


def _bench_neurons():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import timing as bench_timing  # benchmarks/timing.py

    import neurons  # benchmarks/neurons.py

    return neurons, bench_timing


#: The LIF of every timing contender (brainpy.state's defaults, unitless, dt = 1).
LIF = dict(dt=1.0, tau=5.0, R=1.0, V_th=1.0, V_reset=0.0, V_rest=0.0)
STEPS = 100


def brainpy_lif(x, v0):
    """brainpy.state.LIF in ``brainstate.transform.for_loop``, braintools surrogate."""
    import brainpy
    import brainstate
    import braintools

    p = {k: v for k, v in LIF.items() if k != "dt"}
    with brainstate.environ.context(dt=LIF["dt"]):
        neuron = brainpy.state.LIF(
            x.shape[1:], **p, V_initializer=braintools.init.Constant(0.0), spk_fun=bt.MultiGaussianGrad()
        )
        neuron.init_state()
        neuron.V.value = v0
        return brainstate.transform.for_loop(neuron, x)


def scan_lif(x, v0):
    """The same update as a plain ``lax.scan``, braintools surrogate."""
    spk = bt.MultiGaussianGrad()
    a = float(np.exp(-LIF["dt"] / LIF["tau"]))
    delta = LIF["V_th"] - LIF["V_reset"]

    def step(v, xt):
        s = spk((v - LIF["V_th"]) / delta)
        v = a * (v - delta * s) + (1 - a) * (LIF["V_rest"] + LIF["R"] * xt)
        return v, spk((v - LIF["V_th"]) / delta)

    return jax.lax.scan(step, v0, x)[1]


def fused_lif(x, v0):
    from spikegrad.neuron import lif

    return lif(x, v0, **LIF, spk_fun=sg.MultiGaussianGrad())


CONTENDERS = {"spikegrad": fused_lif, "brainpy.state": brainpy_lif, "lax.scan": scan_lif}


def lif_programs(f):
    """jit of the forward pass and of the BPTT (grad of the summed spikes
    w.r.t. the input and the initial potential)."""
    bptt = jax.grad(lambda x, v0: jnp.sum(f(x, v0).astype(jnp.float32)), argnums=(0, 1))
    return jax.jit(f), jax.jit(bptt)


def lif_inputs(n, dtype):
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.uniform(0.0, 2.5, (STEPS, n)).astype(np.float32), dtype)
    v0 = jnp.asarray(rng.uniform(0.0, 1.0, n).astype(np.float32))
    return x, v0


def neuron_timing(report, device, quick, budget_end):
    """The fused LIF against brainpy.state and lax.scan, interleaved."""
    _, bench_timing = _bench_neurons()
    sizes = [1 << 8, 1 << 10] if quick else [1 << 13, 1 << 16, 1 << 19, 1 << 22]
    repeats = 2 if quick else 5
    gbps = report.get("copy_GBps")
    with jax.default_device(device):
        for dname, dtype in (("f32", jnp.float32), ("bf16", jnp.bfloat16)):
            for n in sizes:
                if time.monotonic() > budget_end:
                    report["skipped"].append(f"neuron_timing {dname} N={n}")
                    continue
                x, v0 = lif_inputs(n, dtype)
                # Compiled once each: timed, and the BPTT programs' temp memory read.
                progs = {
                    name: tuple(p.lower(x, v0).compile() for p in lif_programs(f)) for name, f in CONTENDERS.items()
                }
                temps = {name: bptt.memory_analysis().temp_size_in_bytes for name, (_, bptt) in progs.items()}
                # One read of x and one write of the output, at the copy bandwidth.
                floor = 2 * x.size * x.dtype.itemsize / (gbps * 1e9) if gbps else None
                for i, op in enumerate(("forward", "BPTT")):
                    fns = {name: p[i] for name, p in progs.items()}
                    tm = bench_timing.time_interleaved(fns, {k: (x, v0) for k in fns}, repeats)
                    t = {k: v.best for k, v in tm.items()}
                    row = dict(dtype=dname, n=n, steps=STEPS, op=op, seconds=t, temp_bytes=temps, floor_s=floor)
                    report["neuron_timing"].append(row)
                    print(
                        f"{dname:4s} N=2^{n.bit_length() - 1:<2d} {op:7s} spikegrad {t['spikegrad'] * 1e3:8.3f} ms"
                        f"  brainpy.state {t['brainpy.state'] / t['spikegrad']:5.2f}x"
                        f"  lax.scan {t['lax.scan'] / t['spikegrad']:5.2f}x"
                        + (f"  floor {floor * 1e3:.3f} ms" if floor else "")
                        + (
                            "  temp MiB " + " / ".join(f"{temps[k] / 2**20:.1f}" for k in CONTENDERS)
                            if op == "BPTT"
                            else ""
                        )
                    )


def train_step(report, device, quick):
    """The 784-1024-10 LIF training step of benchmarks/neurons.py."""
    neurons, bench_timing = _bench_neurons()
    with jax.default_device(device):
        params, xs, labels = neurons._train_inputs()
        if quick:
            xs = xs[:5]
        steps = {"brainpy.state": neurons.brainpy_loss, "spikegrad": neurons.fused_loss}
        fns = {k: neurons._train_step(f).lower(params, xs, labels).compile() for k, f in steps.items()}
        temps = {k: f.memory_analysis().temp_size_in_bytes for k, f in fns.items()}
        losses = {k: float(f(params, xs, labels)[1]) for k, f in fns.items()}
        tm = bench_timing.time_interleaved(fns, {k: (params, xs, labels) for k in fns}, 2 if quick else 5, 0.0)
    t = {k: v.best for k, v in tm.items()}
    report["train"] = dict(seconds=t, temp_bytes=temps, losses=losses)
    print(
        f"training step: spikegrad {t['spikegrad'] * 1e3:.2f} ms, brainpy.state {t['brainpy.state'] * 1e3:.2f} ms "
        f"({t['brainpy.state'] / t['spikegrad']:.2f}x); temp MiB {temps['spikegrad'] / 2**20:.1f} vs "
        f"{temps['brainpy.state'] / 2**20:.1f}; losses {losses['spikegrad']:.5f} vs {losses['brainpy.state']:.5f}"
    )


def block_sweep(report, device, quick, budget_end):
    """The fused LIF per Pallas neuron block and pipelining depth."""
    from spikegrad.neuron import _pallas

    _, bench_timing = _bench_neurons()
    n = 1 << (10 if quick else 22)
    saved = _pallas.MIN_BLOCK, _pallas.MAX_BLOCK, _pallas.NUM_STAGES
    try:
        with jax.default_device(device):
            x, v0 = lif_inputs(n, jnp.float32)
            for block, stages in ((64, None), (128, None), (256, None), (512, None), (256, 1), (256, 2)):
                if time.monotonic() > budget_end:
                    report["skipped"].append(f"blocks {block}/{stages}")
                    continue
                _pallas.MIN_BLOCK = _pallas.MAX_BLOCK = block
                _pallas.NUM_STAGES = stages
                # A new function each time: jit's cache must not serve an earlier block size.
                fwd, bptt = lif_programs(lambda x, v0: fused_lif(x, v0))
                tm = bench_timing.time_interleaved(
                    {"forward": fwd, "BPTT": bptt}, {"forward": (x, v0), "BPTT": (x, v0)}, 3
                )
                row = dict(block=block, num_stages=stages, n=n, forward_s=tm["forward"].best, bptt_s=tm["BPTT"].best)
                if device.platform == "gpu":  # the grid the kernel got: the setting reached it
                    grid = re.search(r"grid_x = (\d+)", fwd.lower(x, v0).as_text())
                    row["grid_x"] = int(grid.group(1)) if grid else None
                report["blocks"].append(row)
                print(
                    f"block {block:4d} stages {stages!s:4s}: forward {row['forward_s'] * 1e3:.3f} ms, "
                    f"BPTT {row['bptt_s'] * 1e3:.3f} ms"
                )
    finally:
        _pallas.MIN_BLOCK, _pallas.MAX_BLOCK, _pallas.NUM_STAGES = saved


SECTIONS = ("neurons", "surrogates", "bandwidth", "neuron_timing", "train", "surrogate_timing", "blocks")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=None, help="write the report here as JSON")
    parser.add_argument("--n-time", type=int, default=1 << 26, help="elements per timed surrogate call")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    parser.add_argument("--budget", type=float, default=420.0, help="seconds; later sections are skipped after it")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a dry run on a machine without a GPU)")
    args = parser.parse_args()
    sections = args.sections.split(",")
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}")
    start = time.monotonic()
    budget_end = start + args.budget

    cpu = jax.devices("cpu")[0]
    gpu = jax.devices()[0]
    report = {
        "jax": jax.__version__,
        "device": str(gpu),
        "neurons": [],
        "compare": [],
        "neuron_timing": [],
        "surrogate_timing": [],
        "blocks": [],
        "errors": {},
        "skipped": [],
    }
    print(f"jax {jax.__version__}; default device {gpu} ({gpu.platform}); reference {cpu}")
    dry = gpu.platform == "cpu"
    if dry:
        print("no GPU found: dry run; the fused neurons' Pallas kernels run interpreted on the CPU")
    n_time = min(args.n_time, 1 << 16) if args.quick else args.n_time
    steps = {
        "neurons": lambda: neuron_values(report, gpu, cpu, args.quick, dry),
        "surrogates": lambda: (
            (no_custom_call_on(gpu, report) or dry) & compare(report, gpu, cpu, 1 << (12 if args.quick else 20))
        ),
        "bandwidth": lambda: copy_bandwidth(report, gpu, args.quick) and True,
        "neuron_timing": lambda: neuron_timing(report, gpu, args.quick, budget_end) or True,
        "train": lambda: train_step(report, gpu, args.quick) or True,
        "surrogate_timing": lambda: timing(report, gpu, n_time) or True,
        "blocks": lambda: block_sweep(report, gpu, args.quick, budget_end) or True,
    }
    ok = True
    for name in SECTIONS:
        if name not in sections:
            continue
        if time.monotonic() > budget_end:
            report["skipped"].append(name)
            print(f"== {name}: skipped (over the {args.budget:.0f} s budget)")
            continue
        print(f"== {name} ({time.monotonic() - start:.0f} s)")
        try:
            ok &= bool(steps[name]())
        except Exception as e:  # report and go on with the other sections
            report["errors"][name] = f"{type(e).__name__}: {e}"
            print(f"{name}: ERROR {type(e).__name__}: {e}")
            ok = False
        if args.out:  # after every section, so a run cut short still leaves a report
            report["ok"] = bool(ok)
            report["elapsed_s"] = time.monotonic() - start
            with open(args.out, "w") as f:
                json.dump(report, f, indent=1, default=str)
    report["ok"] = bool(ok)
    print(f"device check: {'ok' if ok else 'FAILED'} in {time.monotonic() - start:.0f} s; skipped: {report['skipped']}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
