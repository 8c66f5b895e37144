"""Worker for test_concurrency.py, run in a fresh interpreter:
``python -c "import concurrent_calls; concurrent_calls.main(iterations)"``.

Eight Python threads call jitted forward and vjp functions concurrently, each
on its own input (its own size, dtype and surrogate), many times. Every result
must be bitwise equal to the one computed serially beforehand. Prints one JSON
line: the number of calls, the mismatches, and threads still running after the
join timeout (a hang)."""

from __future__ import annotations

import json
import os
import threading

import jax
import jax.numpy as jnp
import numpy as np

import spikegrad.surrogate as surrogate

CHUNK = 1 << 15
SIZES = [3 * CHUNK + 5, 2 * CHUNK, 2 * CHUNK + 1, 100_003, 17, 1000, 4 * CHUNK - 7, 1]
DTYPES = [jnp.float32, jnp.bfloat16, jnp.float16, jnp.float32]
SURROGATES = [surrogate.MultiGaussianGrad(), surrogate.GaussianGrad(sigma=0.7, alpha=1.3)]


def _job(i):
    rng = np.random.default_rng(i)
    n, dtype, f = SIZES[i % len(SIZES)], DTYPES[i % len(DTYPES)], SURROGATES[i % len(SURROGATES)]
    x = jnp.asarray(rng.normal(scale=2.0, size=n), dtype)
    t = jnp.asarray(rng.normal(size=n), dtype)
    forward = jax.jit(lambda v: f(v))
    backward = jax.jit(lambda v, c: jax.vjp(f, v)[1](c)[0])
    return forward, backward, x, t


def _bytes(a):
    return np.asarray(a).tobytes()


def main(iterations: int = 30, threads: int = 8, join_timeout: float = 240.0) -> None:
    jobs = [_job(i) for i in range(threads)]
    serial = [(_bytes(fw(x)), _bytes(bw(x, t))) for fw, bw, x, t in jobs]
    mismatches = [0] * threads
    calls = [0] * threads
    errors: list[str] = []
    start = threading.Barrier(threads)

    def work(i):
        fw, bw, x, t = jobs[i]
        try:
            start.wait()
            for _ in range(iterations):
                y, g = fw(x), bw(x, t)
                mismatches[i] += (_bytes(y) != serial[i][0]) + (_bytes(g) != serial[i][1])
                calls[i] += 2
        except Exception as e:  # reported, not swallowed
            errors.append(f"thread {i}: {type(e).__name__}: {e}")

    pool = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(join_timeout)
    alive = sum(th.is_alive() for th in pool)
    report = dict(calls=sum(calls), mismatches=sum(mismatches), alive=alive, errors=errors)
    report["xla_pool_threads"] = _xla_pool_threads()
    print(json.dumps(report))


def _xla_pool_threads() -> int:
    """Threads of XLA's intra-op (Eigen) pool, which backs the FFI ThreadPool."""
    count = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as fh:
                count += "XLAEigen" in fh.read()
        except OSError:
            pass
    return count
