"""Fused neurons (every model) on several (fake CPU) devices, in processes of their own (the
device count is fixed when jax starts).

* inside ``shard_map`` over a neuron axis every device runs the kernels on its
  own shard: values and gradients equal the single-device ones and the
  compiled program has no collective;
* under ``jit`` with inputs sharded over neuron axes, under Shardy and GSPMD,
  XLA splits the custom calls over the neurons: every call runs on its
  device's shard, never over the time axis, with no collective; forward
  (with and without the states), grad and jvp equal the single-device
  results bit for bit, grad with checkpoints every 3 steps and w.r.t. a
  per-neuron tau sharded like the neurons within 1e-6 (XLA may fuse tau's
  chain through the parameter fold differently), and the outputs keep the
  input's sharding;
* inputs sharded over time, or unevenly, still give the single-device result
  (there XLA gathers what it must)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.isolated import case_line, run_python
from helpers.neuron_reference import MODELS
from helpers.shared import shared

PRELUDE = f"""
import os, sys
os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
import jax, jax.numpy as jnp, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import spikegrad.surrogate as sg
from spikegrad import neuron
from helpers.neuron_reference import PARAMS, Z0_NAMES, per_neuron
mesh = Mesh(np.array(jax.devices()[:4]), ("d",))
k1, k2 = jax.random.split(jax.random.PRNGKey(0))
x = jax.random.uniform(k1, (20, 6, 32), jnp.float32, -0.5, 3.0)
v0 = jax.random.uniform(k2, (6, 32), jnp.float32, -0.3, 1.2)
MODEL = "lif"
def set_model(name):
    global MODEL
    MODEL = name
def states0(v0):
    return (v0,) + tuple(0.5 * v0 for _ in Z0_NAMES[MODEL][1:])
def f(x, v0, save_every=None):
    fn = getattr(neuron, MODEL)
    return fn(x, *states0(v0), **PARAMS[MODEL], spk_fun=sg.MultiGaussianGrad(), spk_reset="hard",
              return_states=True, save_every=save_every)
def loss(x, v0):
    s, states = f(x, v0)
    return jnp.sum(s * jnp.cos(x)) + sum(jnp.sum(z ** 2) for z in states)
def loss_spikes(x, v0, tau):
    fn = getattr(neuron, MODEL)
    p = dict(PARAMS[MODEL], tau=tau)
    return jnp.sum(fn(x, *states0(v0), **p, spk_fun=sg.MultiGaussianGrad(), save_every=3) * jnp.cos(x))
"""

COLLECTIVES = ("all-gather", "all-to-all", "all-reduce", "collective-permute", "reduce-scatter")


@pytest.mark.parametrize("model", MODELS)
def test_shard_map_runs_each_shard_locally(model):
    code = (
        PRELUDE
        + f"""
set_model({model!r})
want = f(x, v0)
want_g = jax.grad(loss, (0, 1))(x, v0)
try:
    from jax import shard_map
    sm = lambda f, i, o: shard_map(f, mesh=mesh, in_specs=i, out_specs=o)
except ImportError:
    from jax.experimental.shard_map import shard_map
    sm = lambda f, i, o: shard_map(f, mesh=mesh, in_specs=i, out_specs=o)
fs = jax.jit(sm(f, (P(None, None, "d"), P(None, "d")), (P(None, None, "d"), P(None, None, "d"))))
got = fs(x, v0)
for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
gs = jax.jit(sm(jax.grad(loss, (0, 1)), (P(None, None, "d"), P(None, "d")), (P(None, None, "d"), P(None, "d"))))
for a, b in zip(gs(x, v0), want_g):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-6)
hlo = gs.lower(x, v0).compile().as_text()
assert "spikegrad_neuron_bptt" in hlo
assert not any(c in hlo for c in {COLLECTIVES!r}), "collective in shard_map program"
print("ok")
"""
    )
    r = run_python(code, timeout=300, env={"JAX_PLATFORMS": "cpu"})
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-3000:]


JIT_CASES = (
    f"COLLECTIVES = {COLLECTIVES!r}\n"
    + """
import re, sys
jax.config.update("jax_use_shardy_partitioner", sys.argv[1] == "shardy")
set_model(sys.argv[2])
mesh2 = Mesh(np.array(jax.devices()[:4]).reshape(2, 2), ("a", "b"))
T = x.shape[0]
# name -> (mesh, spec of x, spec of v0, the kernels' neuron shard or None: gathered)
CASES = {
    "neurons_last_axis": (mesh, P(None, None, "d"), P(None, "d"), (6, 8)),
    "neurons_first_axis": (mesh2, P(None, "a", None), P("a", None), (3, 32)),
    "both_neuron_axes": (mesh2, P(None, "a", "b"), P("a", "b"), (3, 16)),
    "over_time": (mesh, P("d", None, None), P(None, None), None),
    # 30 neurons over 4 devices: replicated in, cut unevenly inside the program.
    "uneven": (mesh, P(), P(), None),
}
def cut(name, a, b):
    if name != "uneven":
        return a, b
    wsc = jax.lax.with_sharding_constraint
    return wsc(a, NamedSharding(mesh, P(None, None, "d"))), wsc(b, NamedSharding(mesh, P(None, "d")))
def kernels(hlo):
    return [ln for ln in hlo.splitlines() if 'custom_call_target="spikegrad_neuron' in ln]
def run(name):
    m, xspec, vspec, local = CASES[name]
    xx, vv = (x[:, :, :30], v0[:, :30]) if name == "uneven" else (x, v0)
    want = f(xx, vv)
    want_g = jax.grad(loss, (0, 1))(xx, vv)
    want_t = jax.jvp(f, (xx, vv), (jnp.cos(xx), jnp.sin(vv)))
    tau = jnp.asarray(per_neuron(MODEL, vv.shape)["V_th"] * 2.0, jnp.float32)  # per neuron, [*shape]
    want_k = jax.jit(jax.grad(loss_spikes, (0, 1, 2)))(xx, vv, tau)
    fn = getattr(neuron, MODEL)
    spikes_only = lambda a, b: fn(a, *states0(b), **PARAMS[MODEL], spk_fun=sg.MultiGaussianGrad())
    xs = jax.device_put(xx, NamedSharding(m, xspec))
    vs = jax.device_put(vv, NamedSharding(m, vspec))
    ts = jax.device_put(tau, NamedSharding(m, vspec))
    c = lambda g: lambda a, b, *rest: g(*cut(name, a, b), *rest)
    programs = {
        "forward": (jax.jit(c(f)), (xs, vs), want),
        "spikes_only": (jax.jit(c(spikes_only)), (xs, vs), (spikes_only(xx, vv),)),
        "grad": (jax.jit(c(jax.grad(loss, (0, 1)))), (xs, vs), want_g),
        "grad_every_3": (jax.jit(c(jax.grad(loss_spikes, (0, 1, 2)))), (xs, vs, ts), want_k),
        "jvp": (jax.jit(c(lambda a, b: jax.jvp(f, (a, b), (jnp.cos(a), jnp.sin(b))))), (xs, vs), want_t),
    }
    for what, (prog, args, expect) in programs.items():
        got = jax.tree.leaves(prog(*args))
        for a, b in zip(got, jax.tree.leaves(expect)):
            if what == "grad_every_3":  # tau's chain through the fold: XLA's fusion may round it differently
                diff = float(np.max(np.abs(np.asarray(a) - np.asarray(b)), initial=0.0))
                scale = float(np.max(np.abs(np.asarray(b)), initial=0.0))
                assert diff <= 1e-6 * max(scale, 1.0), f"{what}: differs from one device by {diff} (scale {scale})"
            else:
                assert np.array_equal(np.asarray(a), np.asarray(b)), f"{what}: differs from one device"
        if local is None:
            continue
        hlo = prog.lower(*args).compile().as_text()
        found = [c for c in COLLECTIVES if c in hlo]
        assert not found, f"{what}: collectives {found}"
        calls = kernels(hlo)
        assert calls, f"{what}: no neuron custom call"
        views = {",".join(map(str, (*local, k))) for k in (T, 1, 0, -(-T // 3))}
        for line in calls:
            shapes = re.findall(r"f32\\[([0-9,]*)\\]", line)
            assert shapes and set(shapes) <= views, f"{what}: a neuron call on {shapes}, not on the shard {local}"
        if what == "forward":
            for a in got:
                assert a.sharding.is_equivalent_to(xs.sharding, a.ndim), f"{what}: output sharding {a.sharding}"
for name in CASES:
    try:
        run(name)
        print("ok", sys.argv[1], MODEL, name, flush=True)
    except Exception as e:
        print("FAILED", sys.argv[1], MODEL, name, type(e).__name__, e, flush=True)
"""
)


@pytest.fixture(scope="module")
def jit_runs(tmp_path_factory):
    """One run of every case per partitioner and model, made when first asked
    for, once per session (``helpers.shared``)."""

    def get(partitioner, model):
        return shared(
            tmp_path_factory,
            f"neuron-jit-{partitioner}-{model}",
            lambda: run_python(PRELUDE + JIT_CASES, partitioner, model, timeout=600, env={"JAX_PLATFORMS": "cpu"}),
        )

    return get


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("partitioner", ["shardy", "gspmd"])
@pytest.mark.parametrize("case", ["neurons_last_axis", "neurons_first_axis", "both_neuron_axes", "over_time", "uneven"])
def test_jit_with_sharded_inputs(partitioner, model, case, jit_runs):
    line = case_line(jit_runs(partitioner, model), partitioner, model, case)
    assert line.startswith("ok "), line
