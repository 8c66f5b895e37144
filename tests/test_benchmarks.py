"""The neuron benchmark runs end to end at a tiny size: every section the README
quotes (population, memory floor) in float32 and bfloat16, each row present
and each ratio a finite positive number. A benchmark that crashes on one dtype
is caught here, not when its numbers are next needed. The synapse benchmark
likewise, forward and weight gradient, and the feed-forward training step."""

from __future__ import annotations

import math
import re
from pathlib import Path

from helpers.isolated import run_python

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "neurons.py"
ARGS = ["--models", "lif", "--dtypes", "f32,bf16", "--sizes", "256", "--steps", "8", "--repeats", "1"]


def test_neuron_benchmark_population_and_floor_sections():
    res = run_python(SCRIPT, *ARGS, "--sections", "population,floor", timeout=600)
    assert res.returncode == 0, res.stderr[-4000:]
    rows = [line for line in res.stdout.splitlines() if line.startswith("| lif |")]
    # population: forward and BPTT per dtype; floor: the same.
    for dtype in ("f32", "bf16"):
        for op in ("forward", "BPTT"):
            found = [r for r in rows if f"| {dtype} | 2^8 | {op} |" in r]
            assert len(found) == 2, f"{dtype} {op}: rows {found}"
    ratios = [float(v) for r in rows for v in re.findall(r"([0-9.]+)x\b", r)]
    assert ratios and all(math.isfinite(v) and v > 0 for v in ratios)


SYNAPSE_SCRIPT = SCRIPT.parent / "synapse.py"


def test_synapse_benchmark_runs_at_a_tiny_size():
    """Both ops at two firing rates; brainevent's column only where it imports."""
    args = ["--batches", "4", "--shapes", "48x16", "--rates", "0.05,0.5", "--repeats", "1"]
    res = run_python(SYNAPSE_SCRIPT, *args, timeout=600)
    assert res.returncode == 0, res.stderr[-4000:]
    rows = [line for line in res.stdout.splitlines() if line.startswith("| 4 | 48 → 16 |")]
    for rate in ("5%", "50%"):
        for op in ("forward", "weight grad"):
            assert len([r for r in rows if f"| {rate} | {op} |" in r]) == 1, f"{rate} {op}: {rows}"
    ratios = [float(v) for r in rows for v in re.findall(r"([0-9.]+)x\b", r)]
    assert ratios and all(math.isfinite(v) and v > 0 for v in ratios)


FF_STEP_SCRIPT = SCRIPT.parent / "ff_step.py"


def test_ff_step_benchmark_runs_at_a_tiny_size():
    """Three contenders, one network: the same loss, gradients within float32
    rounding of brainpy.state's, every layer's firing rate, finite ratios."""
    args = ["--sizes", "40,24,24,4", "--steps", "6", "--batch", "3", "--repeats", "1"]
    res = run_python(FF_STEP_SCRIPT, *args, timeout=600)
    assert res.returncode == 0, res.stderr[-4000:]
    assert re.search(r"firing rates .*layer 1 [0-9.]+%, layer 2 [0-9.]+%, layer 3 [0-9.]+%", res.stdout)
    rows = {
        cells[0]: cells[1:]
        for line in res.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| contender")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    assert set(rows) == {"brainpy.state", "spikegrad", "spikegrad, dense Linear"}, rows
    losses = {float(r[3]) for r in rows.values()}
    assert len(losses) == 1 or max(losses) - min(losses) <= 1e-4 * max(abs(v) for v in losses), rows
    for name, (_, ratio, _, _, diff) in rows.items():
        assert 0 < float(ratio.rstrip("x")) < math.inf, name
        assert float(diff) < 1e-4, name
