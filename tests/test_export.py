"""jax.export: functions using the op export, serialize, deserialize and run,
for platforms ['cpu'] and ['cpu', 'cuda'], given the DisabledSafetyCheck for
the two custom call targets (they are not on jax's list of targets with a
compatibility guarantee)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.isolated import run_python
from helpers.reference import gaussian
from jax import export

import spikegrad
import spikegrad.surrogate as surrogate

TARGETS = ("spikegrad_heaviside", "spikegrad_surrogate_grad")
#: Every target, as docs/platforms.md lists them for the disabled checks.
NEURON_TARGETS = (
    "spikegrad_neuron_forward",
    "spikegrad_neuron_tangent",
    "spikegrad_neuron_bptt",
    "spikegrad_neuron_bptt_states",
)
SYNAPSE_TARGETS = ("spikegrad_spike_matmul", "spikegrad_spike_matmul_wgrad")
REC_TARGETS = ("spikegrad_neuron_rec_forward", "spikegrad_neuron_rec_bptt", "spikegrad_neuron_rec_bptt_states")
ALL_TARGETS = (*TARGETS, *NEURON_TARGETS, *SYNAPSE_TARGETS, *REC_TARGETS)
CHECKS = [export.DisabledSafetyCheck.custom_call(name) for name in TARGETS]
PARAMS = dict(sigma=0.4, alpha=0.9)
SPIKE = surrogate.GaussianGrad(**PARAMS)


def step_and_vjp(x, w):
    y, pull = jax.vjp(SPIKE, x)
    return y, pull(w)[0]


def data(shape=(6, 5)):
    rng = np.random.default_rng(11)
    x = rng.normal(size=shape).astype(np.float32)
    x.flat[0] = 0.0
    return jnp.asarray(x), jnp.asarray(rng.normal(size=shape).astype(np.float32))


def check_values(y, dx, x, w):
    x64 = np.asarray(x, np.float64)
    np.testing.assert_array_equal(np.asarray(y), (x64 >= 0).astype(np.float32))
    want = np.asarray(w, np.float64) * gaussian(x64, **PARAMS)
    np.testing.assert_allclose(np.asarray(dx), want, rtol=2e-6, atol=1e-7)


@pytest.fixture(autouse=True)
def _native():
    """The custom calls these tests export are those of the ``native`` setting
    (test_lowering.py exports under every setting)."""
    with spikegrad.lowering("native"):
        yield


def test_export_without_safety_check_is_refused():
    x, w = data()
    with pytest.raises(ValueError, match="custom call"):
        export.export(jax.jit(step_and_vjp), platforms=["cpu"])(x, w)


@pytest.mark.parametrize("platforms", [["cpu"], ["cpu", "cuda"]])
def test_export_roundtrip(platforms):
    x, w = data()
    exported = export.export(jax.jit(step_and_vjp), platforms=platforms, disabled_checks=CHECKS)(x, w)
    restored = export.deserialize(exported.serialize())
    assert tuple(restored.platforms) == tuple(platforms)
    y, dx = restored.call(x, w)
    check_values(y, dx, x, w)


def test_exported_forward_is_differentiable():
    """Serialized with vjp_order=1, the restored function has a gradient."""
    x, w = data()
    exported = export.export(jax.jit(SPIKE), platforms=["cpu", "cuda"], disabled_checks=CHECKS)(x)
    restored = export.deserialize(exported.serialize(vjp_order=1))
    y, pull = jax.vjp(restored.call, x)
    check_values(y, pull(w)[0], x, w)


def test_export_with_symbolic_shape():
    x, w = data((4, 5))
    spec = jax.ShapeDtypeStruct(export.symbolic_shape("n, 5"), jnp.float32)
    exported = export.export(jax.jit(step_and_vjp), platforms=["cpu"], disabled_checks=CHECKS)(spec, spec)
    restored = export.deserialize(exported.serialize())
    for n in (1, 4):
        y, dx = restored.call(x[:n], w[:n])
        check_values(y, dx, x[:n], w[:n])


RUN_IN_FRESH_PROCESS = """
import sys
import jax, numpy as np
from jax import export
if sys.argv[2] == "import":
    import spikegrad  # registers the FFI targets in this process
restored = export.deserialize(open(sys.argv[1], "rb").read())
x = np.array([-1.0, 0.0, 0.5], np.float32)
try:
    y, dx = restored.call(x, np.ones(3, np.float32))
except Exception as e:
    print("ERROR", type(e).__name__, e)
    raise SystemExit(3)
print("VALUES", *np.asarray(y).tolist(), *np.asarray(dx).tolist())
"""


@pytest.mark.parametrize("with_import", [True, False])
def test_deserialize_in_fresh_process(tmp_path, with_import):
    """Another process runs the serialized function once spikegrad is
    imported there; without it the call fails with a clear error."""
    x = jnp.zeros(3, jnp.float32)
    exported = export.export(jax.jit(step_and_vjp), platforms=["cpu", "cuda"], disabled_checks=CHECKS)(x, x)
    blob = tmp_path / "step.jax"
    blob.write_bytes(exported.serialize())
    proc = run_python(RUN_IN_FRESH_PROCESS, str(blob), "import" if with_import else "none", timeout=300)
    if with_import:
        assert proc.returncode == 0, proc.stderr[-3000:]
        values = [float(v) for v in proc.stdout.split("VALUES")[1].split()]
        xs = np.array([-1.0, 0.0, 0.5])
        np.testing.assert_array_equal(values[:3], (xs >= 0).astype(float))
        np.testing.assert_allclose(values[3:], gaussian(xs, **PARAMS), rtol=2e-6)
    else:
        assert proc.returncode == 3, proc.stderr[-3000:]
        assert "spikegrad_" in proc.stdout and "ERROR" in proc.stdout


def test_targets_listed_for_disabled_checks():
    """docs/platforms.md tells users to disable the checks for exactly these names."""
    assert set(spikegrad._ffi.TARGETS) == set(ALL_TARGETS)


#: The custom calls each platform's branch of a fused neuron program makes,
#: by lowering setting: the CPU's Rust kernels (``pallas``: interpreted, no
#: call), and on CUDA the Pallas kernels only when opted in.
RUST = ("spikegrad_neuron_forward", "spikegrad_neuron_bptt")
CALLS = {
    "cpu": {"auto": RUST, "native": RUST, "xla": (), "pallas": ()},
    "cuda": {"auto": (), "native": (), "xla": (), "pallas": ("__gpu$xla.gpu.triton",)},
}


@pytest.mark.parametrize("setting", ["auto", "native", "xla", "pallas"])
@pytest.mark.parametrize("platforms", [["cpu"], ["cuda"], ["cpu", "cuda"]])
def test_fused_neuron_grad_exports(platforms, setting):
    """A fused neuron's forward and BPTT (per-neuron tau, checkpoints every 3
    steps) export under every lowering setting, for CUDA too on this machine
    without a GPU, called as a user would (no GPU target set up): the export
    is refused unless the custom calls the program makes are allowed, and
    makes exactly those calls; where it has a CPU branch the deserialized
    function gives the spikes of the function it was exported from and its
    gradients within float32 roundoff."""
    from spikegrad.neuron import alif

    rng = np.random.default_rng(5)
    x = jnp.asarray(rng.uniform(-0.5, 3.0, (9, 4, 6)), jnp.float32)
    tau = jnp.asarray(rng.uniform(1.0, 4.0, 6), jnp.float32)

    def f(x, tau):
        s, pull = jax.vjp(lambda x, tau: alif(x, dt=0.5, tau=tau, spk_fun=SPIKE, save_every=3), x, tau)
        return s, pull(jnp.cos(x))

    calls = {n for p in platforms for n in CALLS[p][setting]}
    checks = [export.DisabledSafetyCheck.custom_call(n) for n in sorted(calls)]
    with spikegrad.lowering(setting):
        if calls:
            with pytest.raises(ValueError, match="custom call"):
                export.export(jax.jit(f), platforms=platforms)(x, tau)
        exported = export.export(jax.jit(f), platforms=platforms, disabled_checks=checks)(x, tau)
        want = jax.jit(f)(x, tau)
    text = exported.mlir_module()
    made = {n for n in (*ALL_TARGETS, "__gpu$xla.gpu.triton") if f"@{n}(" in text or f'"{n}"' in text}
    assert made == calls, (made, calls)
    restored = export.deserialize(exported.serialize())
    assert tuple(restored.platforms) == tuple(platforms)
    if "cpu" in platforms:  # (the lax.scan form may fuse differently in a program for two platforms)
        (spikes, grads), (want_spikes, want_grads) = restored.call(x, tau), want
        np.testing.assert_array_equal(np.asarray(spikes), np.asarray(want_spikes))
        for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(want_grads), strict=True):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
