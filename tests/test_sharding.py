"""SPMD: under jit with sharded inputs, and inside shard_map, every device runs
the custom calls on its own shard, with no collective, under both
partitioners. The cases run in processes of their own (tests/spmd_case.py), one
per partitioner and lowering, because the number of fake CPU devices is fixed
when jax starts."""

from __future__ import annotations

import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.isolated import case_line, run_python
from helpers.reference import gaussian
from helpers.shared import shared
from jax.sharding import PartitionSpec as P

import spikegrad

CASE_SCRIPT = Path(__file__).with_name("spmd_case.py")
sys.path.insert(0, str(CASE_SCRIPT.parent))
from spmd_case import CASES  # noqa: E402

COMBINATIONS = [("shardy", "native"), ("gspmd", "native"), ("shardy", "xla")]


@pytest.fixture(scope="module")
def spmd_runs(tmp_path_factory):
    """One run of every case per partitioner and lowering, made when first asked
    for, once per session (``helpers.shared``)."""

    def get(partitioner, lowering):
        args = (CASE_SCRIPT, partitioner, lowering, *sorted(CASES))
        return shared(
            tmp_path_factory,
            f"spmd-{partitioner}-{lowering}",
            lambda: run_python(*args, env={"JAX_PLATFORMS": "cpu"}, timeout=900),
        )

    return get


@pytest.mark.parametrize("partitioner, lowering", COMBINATIONS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_spmd_case(partitioner, lowering, case, spmd_runs):
    """``native``: the kernels run per shard; ``xla``: XLA's own partitioning
    of the same function (what ``auto`` lowers to for the step and the smaller
    gradients)."""
    line = case_line(spmd_runs(partitioner, lowering), partitioner, case, lowering)
    assert line.startswith("ok "), line


@pytest.mark.parametrize("partitioner, lowering", COMBINATIONS)
def test_spmd_process_exits_cleanly(partitioner, lowering, spmd_runs):
    proc = spmd_runs(partitioner, lowering)
    assert proc.returncode == 0, f"rc={proc.returncode}:\n{proc.stdout}\n{proc.stderr[-4000:]}"


def test_case_script_rejects_unknown_case():
    proc = run_python(CASE_SCRIPT, "shardy", "native", "no-such-case", timeout=300)
    assert proc.returncode != 0 and "usage" in proc.stderr


def _one_device_mesh():
    auto = (jax.sharding.AxisType.Auto,)
    return jax.make_mesh((1,), ("a",), axis_types=auto, devices=jax.devices()[:1])


def test_shard_map_mixed_variance_is_refused():
    """x invariant and t varying over a manual axis would give a result typed
    as invariant: refused with a clear error instead of a silent wrong answer."""
    mesh = _one_device_mesh()

    def f(x, t):
        return spikegrad.surrogate_grad_apply(x, t, "gaussian", (0.5, 0.5))

    g = jax.shard_map(f, mesh=mesh, in_specs=(P(), P("a")), out_specs=P())
    with pytest.raises(TypeError, match="same mesh axes"):
        jax.jit(g)(jnp.ones(4), jnp.ones(4))


def test_shard_map_invariant_input_with_varying_weights():
    """The gradient through an invariant x with varying weights: jax's own
    pvary transpose sums the cotangent; the op must accept that."""
    mesh = _one_device_mesh()
    spike = spikegrad.surrogate.GaussianGrad()

    def loss_grad(x, w):
        return jax.grad(lambda x: (spike(x) * w).sum())(x)

    g = jax.shard_map(loss_grad, mesh=mesh, in_specs=(P(), P("a")), out_specs=P())
    x = jnp.linspace(-1.0, 1.0, 5, dtype=jnp.float32)
    w = jnp.arange(5, dtype=jnp.float32)
    want = np.asarray(w) * gaussian(np.asarray(x), sigma=0.5, alpha=0.5)
    np.testing.assert_allclose(np.asarray(jax.jit(g)(x, w)), want, rtol=2e-6, atol=1e-7)
