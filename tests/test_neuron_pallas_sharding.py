"""The fused neurons' Pallas kernels per shard of neurons under ``jit``, on 4
fake CPU devices (in processes of their own: the device count is fixed when
jax starts), under the lowering setting ``pallas`` (the kernels interpreted
on CPU), with Shardy and with GSPMD:

* inputs sharded over one or both neuron axes: the compiled program has no
  collective, every kernel runs on its device's shard of neurons (the
  interpreted kernels' arrays have the shard's size, never the whole), and
  the forward pass (spikes and states), ``jax.grad`` with checkpoints every 3
  steps and (over both axes) ``jax.jvp`` equal the one-device results, with
  the outputs sharded like the inputs;
* inputs sharded over time, or 30 neurons cut unevenly over 4 devices, give
  the one-device results (XLA gathers what it must);
* inside ``shard_map`` over the neurons each device runs the kernels on its
  block: ``jax.grad`` equals one device's, with no collective;
* lowered for CUDA with a mesh on this machine without a GPU, each pass is
  one call to jax's custom partitioner carrying a Shardy rule, and the module
  has no collective (XLA partitions it when compiling, on the GPU machine)."""

from __future__ import annotations

import pytest
from helpers.isolated import case_line, run_python
from helpers.shared import shared

CASES_SOURCE = """
import os, re, sys
os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
import jax, jax.numpy as jnp, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import spikegrad, spikegrad.surrogate as sg
from spikegrad import neuron
jax.config.update("jax_use_shardy_partitioner", sys.argv[1] == "shardy")
COLLECTIVES = ("all-gather", "all-to-all", "all-reduce", "collective-permute", "reduce-scatter")
T = 20
k1, k2 = jax.random.split(jax.random.PRNGKey(0))
X = jax.random.uniform(k1, (T, 8, 32), jnp.float32, -0.5, 3.0)
V0 = jax.random.uniform(k2, (8, 32), jnp.float32, -0.3, 1.2)
mesh = Mesh(np.array(jax.devices()[:4]), ("d",))
mesh2 = Mesh(np.array(jax.devices()[:4]).reshape(2, 2), ("a", "b"))
SPK = sg.MultiGaussianGrad()
P_ALIF = dict(dt=0.5, tau=4.0, tau_a=8.0, V_th=1.0, beta=0.3, spk_fun=SPK, spk_reset="hard")

def f(x, v0):
    return neuron.alif(x, v0, 0.5 * v0, **P_ALIF, return_states=True)

def loss(x, v0):
    s = neuron.alif(x, v0, 0.5 * v0, **P_ALIF, save_every=3)
    return jnp.sum(s * jnp.cos(x))

def jvp(x, v0):
    return jax.jvp(f, (x, v0), (jnp.cos(x), jnp.sin(v0)))

# name -> (mesh, spec of x, spec of v0, neurons per device or None: not split)
CASES = {
    "neurons_last_axis": (mesh, P(None, None, "d"), P(None, "d"), 8 * 8),
    "both_neuron_axes": (mesh2, P(None, "a", "b"), P("a", "b"), 4 * 16),
    "over_time": (mesh, P("d", None, None), P(None, None), None),
    # 30 neurons over 4 devices: replicated in, cut unevenly inside the program.
    "uneven": (mesh, P(), P(), None),
}

def cut(name, fn):
    if name != "uneven":
        return fn
    wsc = jax.lax.with_sharding_constraint
    return lambda x, v0: fn(wsc(x, NamedSharding(mesh, P(None, None, "d"))), wsc(v0, NamedSharding(mesh, P(None, "d"))))

def run(name):
    m, xspec, vspec, local = CASES[name]
    x, v0 = (X[:, :, :30], V0[:, :30]) if name == "uneven" else (X, V0)
    n = x.shape[1] * x.shape[2]
    with spikegrad.lowering("pallas"):
        programs = {"forward": f, "grad": jax.grad(loss, (0, 1))}
        if name == "both_neuron_axes":  # the tangent kernel once (each program compiles its kernels)
            programs["jvp"] = jvp
        programs = {what: jax.jit(cut(name, fn)) for what, fn in programs.items()}
        xs = jax.device_put(x, NamedSharding(m, xspec))
        vs = jax.device_put(v0, NamedSharding(m, vspec))
        for what, prog in programs.items():
            want = jax.tree.leaves(prog(x, v0))  # one device
            got = jax.tree.leaves(prog(xs, vs))
            for a, b in zip(got, want, strict=True):
                assert np.array_equal(np.asarray(a), np.asarray(b)), f"{what}: differs from one device"
            if local is None:
                continue
            hlo = prog.lower(xs, vs).compile().as_text()
            found = [c for c in COLLECTIVES if c in hlo]
            assert not found, f"{what}: collectives {found}"
            # The interpreted kernels work on [T, neurons] (and [rows, neurons]) arrays.
            assert re.search(rf"f32\\[{T},{local}\\]", hlo), f"{what}: no kernel on the shard of {local} neurons"
            assert f",{n}]" not in hlo, f"{what}: an array of all {n} neurons"
            if what == "forward":
                for a in got:
                    assert a.sharding.is_equivalent_to(xs.sharding, a.ndim), f"{what}: output sharding {a.sharding}"
        if local is not None:  # lowered for CUDA: jax's partitioner call, split when compiled there
            text = jax.jit(jax.grad(loss, (0, 1))).trace(xs, vs).lower(lowering_platforms=("cuda",)).as_text()
            calls = re.findall(r"custom_call @CustomSPMDPartitioning\\(.*", text)
            assert len(calls) == 2, f"cuda: {len(calls)} partitioner calls, not forward and BPTT"
            if sys.argv[1] == "shardy":
                assert all("sdy.sharding_rule" in c for c in calls), "cuda: a partitioner call without a Shardy rule"
            assert not any(c in text for c in ("all_gather", "all-gather", "all_reduce")), "cuda: a collective"

def run_shard_map():
    try:
        from jax import shard_map
    except ImportError:  # jax < 0.7
        from jax.experimental.shard_map import shard_map
    g = jax.grad(loss, (0, 1))
    specs = (P(None, None, "d"), P(None, "d"))
    with spikegrad.lowering("pallas"):
        want = jax.jit(g)(X, V0)
        prog = jax.jit(shard_map(g, mesh=mesh, in_specs=specs, out_specs=specs))
        for a, b in zip(prog(X, V0), want, strict=True):
            assert np.array_equal(np.asarray(a), np.asarray(b)), "shard_map: differs from one device"
        hlo = prog.lower(X, V0).compile().as_text()
    found = [c for c in COLLECTIVES if c in hlo]
    assert not found, f"shard_map: collectives {found}"

CASES["shard_map"] = None
for name in CASES:
    try:
        run_shard_map() if name == "shard_map" else run(name)
        print("ok", sys.argv[1], name, flush=True)
    except Exception as e:
        print("FAILED", sys.argv[1], name, type(e).__name__, e, flush=True)
"""

CASES = ["neurons_last_axis", "both_neuron_axes", "over_time", "uneven", "shard_map"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One run of every case per partitioner, once per session."""

    def get(partitioner):
        return shared(
            tmp_path_factory,
            f"neuron-pallas-sharding-{partitioner}",
            lambda: run_python(CASES_SOURCE, partitioner, timeout=600, env={"JAX_PLATFORMS": "cpu"}),
        )

    return get


@pytest.mark.parametrize("partitioner", ["shardy", "gspmd"])
@pytest.mark.parametrize("case", CASES)
def test_pallas_kernels_per_shard(partitioner, case, runs):
    line = case_line(runs(partitioner), partitioner, case)
    assert line.startswith("ok "), line
