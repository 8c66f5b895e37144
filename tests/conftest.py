"""Shared test configuration: hypothesis profiles and the float64 switch.

Hypothesis profiles (select with ``HYPOTHESIS_PROFILE``, default ``ci``):
``ci`` runs 200 examples per property, ``ci_short`` 40 (scripts/test.sh, under
the oldest jax), ``dev`` 25 fresh ones for quick iteration. None has a
deadline: the first call of each new shape compiles.
"""

from __future__ import annotations

import os

import pytest
from helpers.x64 import enable_x64
from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
# ci, ci_short: the same examples on every run (no flaky CI); dev: fresh random examples.
settings.register_profile("ci", max_examples=200, derandomize=True, **_COMMON)
settings.register_profile("ci_short", max_examples=40, derandomize=True, **_COMMON)
settings.register_profile("dev", max_examples=25, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def x64():
    """Run the test with float64 enabled, restoring the setting afterwards."""
    with enable_x64():
        yield


@pytest.fixture(params=["native", "xla"])
def each_lowering(request):
    """Run the test once with the Rust kernels and once with the XLA code, the
    two implementations the lowering setting chooses between on CPU."""
    import spikegrad

    with spikegrad.lowering(request.param):
        yield request.param
