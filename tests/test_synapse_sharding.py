"""spike_matmul's kernels per shard under ``jit``, on 4 fake CPU devices (in
processes of their own: the device count is fixed when jax starts), under
the lowering setting ``native``, with Shardy and with GSPMD:

* spikes sharded over the batch (2-D, and 3-D over two mesh axes), the
  weight over ``n_out``, and both on a 2x2 mesh: the forward values equal
  the one-device ones with no collective in the compiled program, the output
  sharded over the batch and ``n_out``, and the kernel's custom call on one
  device's block; ``jax.grad`` w.r.t. the weight and the spikes equals the
  one-device gradients with no all-gather, the weight-gradient kernel on one
  device's block (a batch split adds its partial products with an
  all-reduce);
* spikes and weight sharded over ``n_in`` (the contraction): the forward
  values equal the one-device ones (XLA gathers ``n_in``);
* inside ``shard_map`` over the batch and ``n_out`` each device runs the
  kernel on its block, with no collective."""

from __future__ import annotations

import pytest
from helpers.isolated import case_line, run_python
from helpers.shared import shared

CASES_SOURCE = """
import re, sys
import jax, jax.numpy as jnp, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import spikegrad
from spikegrad.synapse import spike_matmul
jax.config.update("jax_use_shardy_partitioner", sys.argv[1] == "shardy")
COLLECTIVES = ("all-gather", "all-to-all", "all-reduce", "collective-permute", "reduce-scatter")
mesh = Mesh(np.array(jax.devices()[:4]).reshape(2, 2), ("a", "b"))
rng = np.random.default_rng(0)
S2 = np.where(rng.random((8, 64)) < 0.2, 1.0, 0.0).astype(np.float32)
S3 = np.where(rng.random((4, 6, 64)) < 0.2, 1.0, 0.0).astype(np.float32)
W = rng.standard_normal((64, 32)).astype(np.float32)

def forward(s, w):
    return spike_matmul(s, w)

def loss(s, w):
    return jnp.sum(jnp.sin(spike_matmul(s, w)))

# name -> (spikes, spec of spikes, spec of weight, output spec or None: n_in split)
CASES = {
    "batch": (S2, P("a", None), P(), P("a", None)),
    "batch_3d": (S3, P("a", "b", None), P(), P("a", "b", None)),
    "n_out": (S2, P(), P(None, "b"), P(None, "b")),
    "batch_and_n_out": (S2, P("a", None), P(None, "b"), P("a", "b")),
    "n_in": (S2, P(None, "a"), P("a", None), None),
}

def block(shape, spec):
    return [n // (mesh.shape[a] if a else 1) for n, a in zip(shape, tuple(spec) + (None,) * len(shape))]

def kernel_shapes(hlo, target):
    pattern = rf"= f32\\[([0-9,]*)\\]\\S* custom-call\\([^\\n]*custom_call_target=\\"{target}\\""
    return [[int(n) for n in m.split(",")] for m in re.findall(pattern, hlo)]

def run(name):
    s, s_spec, w_spec, out_spec = CASES[name]
    fwd, grad = jax.jit(forward), jax.jit(jax.grad(loss, (0, 1)))
    with spikegrad.lowering("native"):
        args = (jax.device_put(s, NamedSharding(mesh, s_spec)), jax.device_put(W, NamedSharding(mesh, w_spec)))
        want = np.asarray(fwd(s, W))
        got = fwd(*args)
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6, atol=1e-6)
        if out_spec is None:
            return
        hlo = fwd.lower(*args).compile().as_text()
        found = [c for c in COLLECTIVES if c in hlo]
        assert not found, f"forward: collectives {found}"
        out_shape = (*s.shape[:-1], W.shape[1])
        assert got.sharding.is_equivalent_to(NamedSharding(mesh, out_spec), got.ndim), f"forward: {got.sharding}"
        shapes = kernel_shapes(hlo, "spikegrad_spike_matmul")
        assert shapes == [block(out_shape, out_spec)], f"forward: kernel outputs {shapes}"
        want = [np.asarray(a) for a in grad(s, W)]
        got = grad(*args)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(np.asarray(a), b, rtol=1e-5, atol=1e-5)
        hlo = grad.lower(*args).compile().as_text()
        assert "all-gather" not in hlo, "grad: an all-gather"
        shapes = kernel_shapes(hlo, "spikegrad_spike_matmul_wgrad")
        assert shapes == [block(W.shape, P(None, out_spec[-1]))], f"grad: wgrad kernel outputs {shapes}"
        # A batch split sums the wgrad kernel's partial products over devices.
        batch_split = any(a is not None for a in out_spec[:-1])
        summed = re.search(r"all-reduce\\(%spikegrad_spike_matmul_wgrad", hlo) is not None
        assert summed == batch_split, f"grad: wgrad partial products summed: {summed}"

def run_shard_map():
    try:
        from jax import shard_map
    except ImportError:  # jax < 0.7
        from jax.experimental.shard_map import shard_map
    specs = (P("a", None), P(None, "b"))
    prog = jax.jit(shard_map(forward, mesh=mesh, in_specs=specs, out_specs=P("a", "b")))
    with spikegrad.lowering("native"):
        np.testing.assert_allclose(np.asarray(prog(S2, W)), S2 @ W, rtol=1e-5, atol=1e-5)
        hlo = prog.lower(S2, W).compile().as_text()
    found = [c for c in COLLECTIVES if c in hlo]
    assert not found, f"shard_map: collectives {found}"
    shapes = kernel_shapes(hlo, "spikegrad_spike_matmul")
    assert shapes == [[4, 16]], f"shard_map: kernel outputs {shapes}"

CASES["shard_map"] = None
for name in CASES:
    try:
        run_shard_map() if name == "shard_map" else run(name)
        print("ok", sys.argv[1], name, flush=True)
    except Exception as e:
        print("FAILED", sys.argv[1], name, type(e).__name__, e, flush=True)
"""

CASES = ["batch", "batch_3d", "n_out", "batch_and_n_out", "n_in", "shard_map"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One run of every case per partitioner, once per session."""

    def get(partitioner):
        return shared(
            tmp_path_factory,
            f"synapse-sharding-{partitioner}",
            lambda: run_python(
                CASES_SOURCE,
                partitioner,
                timeout=300,
                env={"JAX_PLATFORMS": "cpu", "XLA_FLAGS": "--xla_force_host_platform_device_count=4"},
            ),
        )

    return get


@pytest.mark.parametrize("partitioner", ["shardy", "gspmd"])
@pytest.mark.parametrize("case", CASES)
def test_spike_matmul_per_shard(partitioner, case, runs):
    line = case_line(runs(partitioner), partitioner, case)
    assert line.startswith("ok "), line
