"""The neuron benchmark runs end to end at a tiny size: every section the README
quotes (population, memory floor) in float32 and bfloat16, each row present
and each ratio a finite positive number. A benchmark that crashes on one dtype
is caught here, not when its numbers are next needed."""

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
