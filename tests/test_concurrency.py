"""Concurrent calls from eight Python threads give bitwise the serial results
and never deadlock, with XLA's intra-op pool at its default size, with
Eigen multithreading off, and with a one-thread pool.

The FFI ThreadPool the shim splits work over is XLA's intra-op (Eigen) pool.
Its size is the number of CPUs in the process's affinity mask when the CPU
client starts (``taskset -c 0`` gives one thread);
``--xla_cpu_multi_thread_eigen=false`` does not change it (it only affects
XLA's own Eigen kernels), so both are run. Each configuration runs in a fresh
interpreter (concurrent_calls.py) under a timeout, so a deadlock fails the
test instead of hanging the run."""

import json
import os
import shutil

import pytest
from helpers.isolated import run_python

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
ITERATIONS = 500
CONFIGS = {
    "default": ({}, ()),
    "eigen_multithreading_off": ({"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false"}, ()),
    "one_cpu_one_thread_pool": (
        {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false --xla_force_host_platform_device_count=1"},
        ("taskset", "-c", "0"),
    ),
}


def _run(config):
    env, prefix = CONFIGS[config]
    if prefix and shutil.which(prefix[0]) is None:
        pytest.fail(f"{prefix[0]} is needed for this configuration (util-linux)")
    env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [TESTS_DIR, os.environ.get("PYTHONPATH")]))}
    result = run_python(
        f"import concurrent_calls; concurrent_calls.main({ITERATIONS})", timeout=300, env=env, prefix=prefix
    )
    assert result.returncode == 0, f"worker died (rc={result.returncode}): {result.stderr[-3000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("config", CONFIGS)
def test_concurrent_calls_bitwise_equal_and_no_deadlock(config):
    report = _run(config)
    assert report["alive"] == 0, f"{report['alive']} threads still running: deadlock or livelock"
    assert report["errors"] == []
    assert report["calls"] == 8 * ITERATIONS * 2
    assert report["mismatches"] == 0
    if config == "one_cpu_one_thread_pool" and report["xla_pool_threads"]:
        assert report["xla_pool_threads"] == 1  # the configuration is what it claims to be
