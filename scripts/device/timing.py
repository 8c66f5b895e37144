"""The timing run: the fused LIF's Pallas kernels against a ``lax.scan`` LIF
and brainpy.state's LIF, with the copy floor of the memory-bound passes.

Sections, in order of importance (sizes are skipped past the budget):

``copy``   the device's copy bandwidth (``x + 1`` over 1 GiB of float32): the
           floor of one read of ``x`` and one write of the output.
``lif``    forward and BPTT (the gradient of the summed spikes w.r.t. the
           input and the initial potential), T = 100, N = 2^13, 2^16, 2^19
           and 2^22, float32 then bfloat16: the fused LIF (``pallas``
           setting), brainpy.state's LIF in ``brainstate.transform.for_loop``
           and the same update as a ``lax.scan``, both with the braintools
           surrogate (benchmarks/neurons.py's contenders), timed interleaved
           (benchmarks/timing.py), with each BPTT program's temp memory.
``blocks`` the fused LIF at N = 2^22 per Pallas neuron block (64 to 512),
           with the grid each program got.
"""

from __future__ import annotations

import re

import braintools.surrogate as bt
import jax
import jax.numpy as jnp
import numpy as np
from helpers.neuron_reference import scan_run
from timing import time_interleaved  # benchmarks/timing.py

import neurons as bench  # benchmarks/neurons.py

from .common import Run, best_seconds, pallas

STEPS = 100
DTYPES = {"f32": jnp.float32, "bf16": jnp.bfloat16}


def copy(run: Run, rows: list) -> bool:
    n = 1 << (20 if run.dry else 28)
    x = jax.device_put(jnp.zeros(n, jnp.float32), run.device)
    seconds = best_seconds(jax.jit(lambda a: a + 1.0), x)
    gbps = 2 * 4 * n / seconds / 1e9
    run.report["copy_GBps"] = gbps
    rows.append(dict(n=n, seconds=seconds, GBps=gbps))
    print(f"copy bandwidth: {gbps:.0f} GB/s ({2 * 4 * n / 2**30:.2f} GiB moved in {seconds * 1e3:.3f} ms)")
    return gbps > 0


def contenders():
    """name -> ``f(x, v0)``: the LIF's spikes."""
    params = dict(dt=bench.DT, **bench.MODELS["lif"][3])

    def scan(x, v0):
        return scan_run("lif", x, (v0,), params, bt.MultiGaussianGrad())[0]

    return {
        "spikegrad": lambda x, v0: bench.fused("lif")(x, (v0,)),
        "brainpy.state": lambda x, v0: bench.brainpy_run("lif", x, (v0,)),
        "lax.scan": scan,
    }


def programs(f, x, v0):
    """The compiled forward and BPTT programs of ``f`` (traced under the
    ``pallas`` setting: the fused LIF's Pallas kernels; the others ignore it)."""
    bptt = jax.grad(lambda x, v0: jnp.sum(f(x, v0).astype(jnp.float32)), argnums=(0, 1))
    with pallas():
        return jax.jit(f).lower(x, v0).compile(), jax.jit(bptt).lower(x, v0).compile()


def lif_inputs(n, dtype, device):
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.uniform(0.0, bench.X_HIGH["lif"], (STEPS, n)).astype(np.float32), dtype)
    v0 = jnp.asarray(rng.uniform(0.0, 1.0, n).astype(np.float32))
    return jax.device_put((x, v0), device)


def lif(run: Run, rows: list) -> bool:
    sizes = [1 << 8] if run.dry else [1 << 13, 1 << 16, 1 << 19, 1 << 22]
    repeats = 2 if run.dry else 5
    gbps = run.report.get("copy_GBps")
    for dname, dtype in DTYPES.items():
        for n in sizes:
            if run.over():
                run.skip(f"lif {dname} N=2^{n.bit_length() - 1}")
                continue
            x, v0 = lif_inputs(n, dtype, run.device)
            progs = {name: programs(f, x, v0) for name, f in contenders().items()}
            temps = {name: bptt.memory_analysis().temp_size_in_bytes for name, (_, bptt) in progs.items()}
            # One read of x and one write of the spikes at the copy bandwidth.
            floor = 2 * x.size * x.dtype.itemsize / (gbps * 1e9) if gbps else None
            for i, op in enumerate(("forward", "BPTT")):
                fns = {name: p[i] for name, p in progs.items()}
                t = {k: v.best for k, v in time_interleaved(fns, {k: (x, v0) for k in fns}, repeats).items()}
                rows.append(dict(dtype=dname, n=n, steps=STEPS, op=op, seconds=t, temp_bytes=temps, floor_s=floor))
                print(
                    f"{dname:4s} N=2^{n.bit_length() - 1:<2d} {op:7s} spikegrad {t['spikegrad'] * 1e3:8.3f} ms"
                    f"  brainpy.state {t['brainpy.state'] / t['spikegrad']:5.2f}x"
                    f"  lax.scan {t['lax.scan'] / t['spikegrad']:5.2f}x"
                    + (f"  floor {floor * 1e3:.3f} ms" if floor else "")
                    + ("  temp MiB " + " / ".join(f"{temps[k] / 2**20:.1f}" for k in progs) if op == "BPTT" else "")
                )
            run.write()  # a run stopped later still leaves these rows
    return True


def blocks(run: Run, rows: list) -> bool:
    from spikegrad.neuron import _pallas

    n = 1 << (10 if run.dry else 22)
    saved = _pallas.MIN_BLOCK, _pallas.MAX_BLOCK
    fused = contenders()["spikegrad"]
    try:
        x, v0 = lif_inputs(n, jnp.float32, run.device)
        for block in (64, 512) if run.dry else (64, 128, 256, 512):
            if run.over():
                run.skip(f"blocks {block}")
                continue
            _pallas.MIN_BLOCK = _pallas.MAX_BLOCK = block
            # A new function each time: jit's cache must not serve an earlier block.
            fwd, bptt = programs(lambda x, v0: fused(x, v0), x, v0)
            tm = time_interleaved({"forward": fwd, "BPTT": bptt}, {"forward": (x, v0), "BPTT": (x, v0)}, 3)
            row = dict(block=block, n=n, forward_s=tm["forward"].best, bptt_s=tm["BPTT"].best)
            if run.device.platform == "gpu":  # the grid the kernel got: the setting reached it
                with pallas():
                    text = jax.jit(lambda x, v0: fused(x, v0)).lower(x, v0).as_text()
                grid = re.search(r"grid_x = (\d+)", text)
            else:
                grid = None
            row["grid_x"] = int(grid.group(1)) if grid else None
            rows.append(row)
            print(f"block {block:4d}: forward {row['forward_s'] * 1e3:.3f} ms, BPTT {row['bptt_s'] * 1e3:.3f} ms")
    finally:
        _pallas.MIN_BLOCK, _pallas.MAX_BLOCK = saved
    return True


SECTIONS = {"copy": copy, "lif": lif, "blocks": blocks}
