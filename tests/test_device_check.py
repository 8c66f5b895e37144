"""The device check's dry runs (scripts/device_check.sh dry-correctness and
dry-timing): the two GPU commands at tiny sizes on this CPU, the Pallas
kernels interpreted, in the GPU machine's versions (.venv-device: Python 3.12,
jax 0.11.2; ``triton`` marks that environment, and the test is skipped
where it is not installed). Each run must end with its ``ok`` line, leave a
JSON report with every section and case, skip nothing, and a comparison that
disagrees must fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers.neuron_reference import PARAMS

pytest.importorskip("triton")

ROOT = Path(__file__).resolve().parents[1]


def dry_run(name, tmp_path):
    env = dict(os.environ, PYTHON=sys.executable, OUT=str(tmp_path))
    proc = subprocess.run(
        ["bash", "scripts/device_check.sh", f"dry-{name}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert lines[-1] == f"{name}: ok" and any(line.startswith(f"{name}: ok in ") for line in lines), lines[-3:]
    report = json.loads((tmp_path / f"{name}.json").read_text())
    assert report["ok"] and report["dry"] and not report["skipped"] and not report["errors"]
    return report


def test_dry_correctness(tmp_path):
    report = dry_run("correctness", tmp_path)
    rows = report["sections"]["neurons"]
    cases = [r["case"] for r in rows]
    assert {c["model"] for c in cases} == set(PARAMS)  # every model of the shared reference
    assert {c["hard"] for c in cases} == {False, True}
    assert {c["dtype"] for c in cases} == {"float32", "float64", "bfloat16"}
    assert all(c["steps"] % c["save_every"] != 0 for c in cases)  # T not a multiple of the stride
    assert all(int(np.prod(c["shape"])) % 32 != 0 for c in cases)  # a partial last block
    for r in rows:  # BPTT at stride 16 and 1, with the states' cotangents, and the JVP, compared
        assert {"grad_x_K", "grad_x_1", "grad_z0_0_K", "grad_z0_0_1", "jvp", "state0"} <= set(r["rel_errors"])
    surrogates = report["sections"]["surrogates"]
    assert {(r["surrogate"], r["dtype"]) for r in surrogates} == {
        (s, d) for s in ("MultiGaussianGrad", "GaussianGrad") for d in ("float32", "bfloat16", "float16")
    }


def test_dry_timing(tmp_path):
    report = dry_run("timing", tmp_path)
    assert report["copy_GBps"] > 0
    rows = report["sections"]["lif"]
    assert {(r["dtype"], r["op"]) for r in rows} == {(d, o) for d in ("f32", "bf16") for o in ("forward", "BPTT")}
    for r in rows:
        assert set(r["seconds"]) == {"spikegrad", "brainpy.state", "lax.scan"}
        assert all(t > 0 for t in r["seconds"].values())
    assert [r["block"] for r in report["sections"]["blocks"]] == [64, 512]  # the dry run's two


def test_compare_fails_on_a_difference():
    """The neuron comparison flags a flipped spike past the allowed share and
    an output off by more than the tolerance."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from device.correctness import compare

    rng = np.random.default_rng(0)
    spikes = (rng.uniform(size=(10, 50)) > 0.5).astype(np.float32)
    states = (rng.normal(size=(10, 50)),)
    grads = (rng.normal(size=(10, 50)), (rng.normal(size=50),), 1.5)
    want = (spikes, states, grads, grads, rng.normal(size=(10, 50)))
    assert compare(want, want, "float32")["ok"]
    flipped = spikes.copy()
    flipped[3, 7] = 1 - flipped[3, 7]
    assert not compare((flipped, *want[1:]), want, "float32")["ok"]
    off = (spikes, states, ((grads[0] * 1.01), grads[1], grads[2]), grads, want[4])
    result = compare(off, want, "float32")
    assert not result["ok"] and result["rel_errors"]["grad_x_K"] > 1e-3


def test_budget_skips_and_fails_correctness(tmp_path):
    """Past its budget a run skips its sections and lists them; a correctness
    run that skipped a section is FAILED (its verdict covers every check)."""
    out = tmp_path / "c.json"
    proc = subprocess.run(
        [sys.executable, "scripts/device_check.py", "correctness", "--dry", "--budget", "0", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("correctness: FAILED") and "neurons, surrogates" in last, last
    assert json.loads(out.read_text())["skipped"] == ["neurons", "surrogates"]
