"""spike_matmul under transforms: jvp and vjp with respect to both operands
against the dense product's, check_grads (first and second order), grad
through a loss, vmap over every axis of either operand, checkpoint and
jax.export; the weight gradient runs the event-driven kernel."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import spikegrad
from spikegrad.synapse import spike_matmul


def _operands(lead=(3, 4), n_in=12, n_out=5, rate=0.3, seed=0):
    rng = np.random.default_rng(seed)
    s = np.where(rng.random((*lead, n_in)) < rate, rng.uniform(-2, 2, (*lead, n_in)), 0.0)
    return jnp.asarray(s), jnp.asarray(rng.standard_normal((n_in, n_out)))


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)


def test_jvp_both_operands(x64, each_lowering):
    s, w = _operands()
    ds, dw = _operands(seed=1)[0] + 0.5, _operands(seed=2)[1]
    y, t = jax.jvp(spike_matmul, (s, w), (ds, dw))
    y_ref, t_ref = jax.jvp(jnp.matmul, (s, w), (ds, dw))
    _close(y, y_ref)
    _close(t, t_ref)


def test_vjp_both_operands(x64, each_lowering):
    s, w = _operands()
    ct = jnp.asarray(np.random.default_rng(3).standard_normal((3, 4, 5)))
    y, vjp = jax.vjp(jax.jit(spike_matmul), s, w)
    _, vjp_ref = jax.vjp(jnp.matmul, s, w)
    for got, want in zip(vjp(ct), vjp_ref(ct)):
        _close(got, want)


def test_check_grads_first_and_second_order(x64, each_lowering):
    s, w = _operands(lead=(4,), n_in=6, n_out=3, rate=0.5)
    check_grads(spike_matmul, (s, w), order=2, modes=("fwd", "rev"), eps=1e-4)


def test_grad_of_a_loss_with_bool_spikes(x64):
    s, w = _operands(lead=(8,), n_in=30, n_out=7)
    spikes = s != 0

    def loss(w, f):
        return jnp.sum(jnp.tanh(f(spikes.astype(w.dtype), w)) ** 2)

    _close(jax.jit(jax.grad(loss), static_argnums=1)(w, spike_matmul), jax.grad(loss)(w, jnp.matmul))
    # bool spikes themselves: no gradient flows to them, the weight's is the same
    _close(jax.grad(lambda w: jnp.sum(jnp.tanh(spike_matmul(spikes, w)) ** 2))(w), jax.grad(loss)(w, jnp.matmul))


def test_weight_gradient_runs_the_kernel():
    s, w = _operands()
    s, w = s.astype(jnp.float32), w.astype(jnp.float32)
    with spikegrad.lowering("native"):
        hlo = jax.jit(jax.grad(lambda w: spike_matmul(s, w).sum())).lower(w).as_text()
    assert "spikegrad_spike_matmul_wgrad" in hlo


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_vmap_spikes_axis(x64, axis):
    s, w = _operands(lead=(3, 4, 2), n_in=6, n_out=5)
    f = jax.vmap(spike_matmul, in_axes=(axis, None))
    g = jax.vmap(jnp.matmul, in_axes=(axis, None))
    _close(f(s, w), g(s, w))
    ct = jnp.ones_like(g(s, w))
    _close(jax.vjp(f, s, w)[1](ct)[1], jax.vjp(g, s, w)[1](ct)[1])


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_vmap_weight_axis(x64, axis):
    s, _ = _operands(lead=(4,), n_in=6, n_out=5)
    ws = jnp.moveaxis(jnp.asarray(np.random.default_rng(4).standard_normal((3, 6, 5))), 0, axis)
    f = jax.vmap(spike_matmul, in_axes=(None, axis))
    g = jax.vmap(jnp.matmul, in_axes=(None, axis))
    _close(f(s, ws), g(s, ws))
    ct = jnp.cos(g(s, ws))
    _close(jax.vjp(f, s, ws)[1](ct)[1], jax.vjp(g, s, ws)[1](ct)[1])


@pytest.mark.parametrize("s_axis,w_axis", [(0, 0), (1, 2), (2, 1)])
def test_vmap_both(x64, s_axis, w_axis):
    rng = np.random.default_rng(5)
    s = jnp.asarray(np.where(rng.random((3, 4, 6)) < 0.4, 1.0, 0.0))
    ws = jnp.asarray(rng.standard_normal((3, 6, 5)))
    s, ws = jnp.moveaxis(s, 0, s_axis), jnp.moveaxis(ws, 0, w_axis)
    f = jax.vmap(spike_matmul, in_axes=(s_axis, w_axis))
    g = jax.vmap(jnp.matmul, in_axes=(s_axis, w_axis))
    _close(f(s, ws), g(s, ws))
    ct = jnp.sin(g(s, ws))
    for a, b in zip(jax.vjp(f, s, ws)[1](ct), jax.vjp(g, s, ws)[1](ct)):
        _close(a, b)


def test_vmap_of_grad_per_example(x64):
    """Per-example weight gradients: vmap of grad batches the wgrad primitive's spikes and cotangent."""
    s, w = _operands(lead=(5, 2), n_in=8, n_out=4)

    def per_example(f):
        return jax.vmap(jax.grad(lambda w, x: jnp.sum(jnp.sin(f(x, w)))), in_axes=(None, 0))(w, s)

    _close(per_example(spike_matmul), per_example(jnp.matmul))


def test_checkpoint_and_jvp_of_grad(x64):
    s, w = _operands(lead=(6,), n_in=10, n_out=4)

    def loss(f):
        return lambda w: jnp.sum(jnp.tanh(jax.checkpoint(f)(s, w)) ** 2)

    _close(jax.grad(loss(spike_matmul))(w), jax.grad(loss(jnp.matmul))(w))
    dw = jnp.ones_like(w)
    _close(jax.jvp(jax.grad(loss(spike_matmul)), (w,), (dw,))[1], jax.jvp(jax.grad(loss(jnp.matmul)), (w,), (dw,))[1])


def test_export_round_trip():
    from jax import export

    s, w = _operands(lead=(8,), n_in=20, n_out=6)
    s, w = s.astype(jnp.float32), w.astype(jnp.float32)
    f = jax.jit(jax.value_and_grad(lambda w, s: jnp.sum(spike_matmul(s, w) ** 2)))
    safety = [
        export.DisabledSafetyCheck.custom_call("spikegrad_spike_matmul"),
        export.DisabledSafetyCheck.custom_call("spikegrad_spike_matmul_wgrad"),
    ]
    with spikegrad.lowering("native"):
        exp = export.export(f, disabled_checks=safety)(w, s)
    assert "spikegrad_spike_matmul_wgrad" in exp.mlir_module()
    restored = export.deserialize(exp.serialize())
    with spikegrad.lowering("native"):
        for a, b in zip(restored.call(w, s), f(w, s)):
            np.testing.assert_array_equal(a, b)
