"""What both device runs share: the report and its sections under a time
budget, the devices, the ``pallas`` lowering on the device side, timing."""

from __future__ import annotations

import contextlib
import json
import time
import traceback

import jax

import spikegrad


class Run:
    """One device run: its sections in order, each skipped once ``budget``
    seconds have passed, an error in one reported and the next run; the
    report written to ``out`` (JSON) after every section, and one last line
    ``<name>: ok`` or ``<name>: FAILED``.

    ``device`` is the first default device (the GPU) and ``cpu`` the
    reference; ``dry`` (tiny sizes) is set for a run on a machine without
    a GPU, where the device is the CPU and the Pallas kernels run
    interpreted. ``skip_fails``: a skipped section makes the run FAILED
    (the correctness run: a verdict means every check ran)."""

    def __init__(self, name: str, budget: float, out: str | None, dry: bool, skip_fails: bool):
        self.name, self.out, self.dry, self.skip_fails = name, out, dry, skip_fails
        self.start = time.monotonic()
        self.end = self.start + budget
        self.device = jax.devices()[0]
        self.cpu = jax.devices("cpu")[0]
        self.ok = True
        self.report = {
            "run": name,
            "jax": jax.__version__,
            "spikegrad": spikegrad.__version__,
            "device": str(self.device),
            "dry": dry,
            "budget_s": budget,
            "sections": {},
            "skipped": [],
            "errors": {},
        }
        on = "interpreted on the CPU (dry run)" if self.device.platform == "cpu" else f"on {self.device}"
        print(f"{name}: jax {jax.__version__}, spikegrad {spikegrad.__version__}; Pallas kernels {on}")

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def over(self) -> bool:
        return time.monotonic() > self.end

    def skip(self, what: str) -> None:
        self.report["skipped"].append(what)
        print(f"  skipped (over the budget): {what}")
        if self.skip_fails:
            self.ok = False

    def section(self, name: str, fn) -> None:
        """Run ``fn(self, rows)``: ``rows`` collects the section's results;
        ``fn`` returns whether every check passed."""
        if self.over():
            self.skip(name)
            return
        print(f"== {name} ({self.elapsed():.0f} s)")
        rows: list = []
        self.report["sections"][name] = rows
        try:
            passed = bool(fn(self, rows))
        except Exception as e:  # reported; the next section still runs
            traceback.print_exc()
            self.report["errors"][name] = f"{type(e).__name__}: {e}"
            print(f"{name}: ERROR {type(e).__name__}: {e}")
            passed = False
        self.ok &= passed
        self.write()

    def write(self) -> None:
        self.report["ok"] = bool(self.ok)
        self.report["elapsed_s"] = self.elapsed()
        if self.out:
            with open(self.out, "w") as f:
                json.dump(self.report, f, indent=1, default=str)

    def finish(self) -> int:
        self.write()
        skipped = ", ".join(self.report["skipped"]) or "none"
        print(f"{self.name}: {'ok' if self.ok else 'FAILED'} in {self.elapsed():.0f} s (skipped: {skipped})")
        return 0 if self.ok else 1


def pallas():
    """The device side's lowering setting: the Pallas kernels (on a GPU,
    compiled by Triton; on the CPU of a dry run, interpreted)."""
    return spikegrad.lowering("pallas")


def x64(on: bool):
    """float64 in jax for a block, when ``on``."""
    if not on:
        return contextlib.nullcontext()
    from helpers.x64 import enable_x64

    return enable_x64()


def best_seconds(fn, *args, repeats: int = 20) -> float:
    """The fastest of ``repeats`` blocking calls (after two warm-up calls)."""
    jax.block_until_ready(fn(*args))
    jax.block_until_ready(fn(*args))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - t0)
    return best
