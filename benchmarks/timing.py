"""Timing helpers for the benchmark: interleaved repeats, medians, adaptive
inner counts, so that a shared or noisy machine skews all contenders alike."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import jax


@dataclass
class Timing:
    """Seconds per call: the median and the minimum over the samples."""

    median: float
    best: float


def _block(out):
    jax.block_until_ready(out)


def _calls_per_sample(fn, args, target_s: float) -> int:
    t0 = time.perf_counter()
    _block(fn(*args))
    one = max(time.perf_counter() - t0, 1e-7)
    return max(1, min(2000, int(target_s / one)))


def time_interleaved(fns: dict, args: dict, repeats: int, target_s: float = 2e-3) -> dict:
    """Time every ``fns[name](*args[name])``; each sample runs every contender
    once in turn (``k`` blocking calls each, ``k`` chosen so that a sample takes
    about ``target_s``). Returns ``{name: Timing}``."""
    for name, fn in fns.items():  # compile and warm up
        for _ in range(2):
            _block(fn(*args[name]))
    counts = {name: _calls_per_sample(fn, args[name], target_s) for name, fn in fns.items()}
    samples = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            a, k = args[name], counts[name]
            t0 = time.perf_counter()
            for _ in range(k):
                _block(fn(*a))
            samples[name].append((time.perf_counter() - t0) / k)
    return {n: Timing(statistics.median(s), min(s)) for n, s in samples.items()}


def fmt_time(seconds: float) -> str:
    """A duration with a unit that keeps 3 significant digits readable."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds:.2f} s"
