"""The fused recurrent kernels (``w_rec=`` with a native surrogate on CPU):
the same spikes, states and gradients as the ``lax.scan`` form (the lowering
setting ``xla``) and as brainpy.state, several checkpoint strides, ``jvp``,
``vmap``, ``jit``; the kernels run (their custom calls are in the compiled
program; a user's spike function and half precision keep the scan) and give
the same bits for any thread count. The comparisons of
test_neuron_recurrent.py (brainpy.state in float64 and float32, soft and
hard, MultiGaussianGrad and ReluGrad, ``save_every``, ``jvp`` against
``vjp``, the modules, half precision) run this path too."""

from __future__ import annotations

import re
from unittest import mock

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.isolated import run_python
from helpers.neuron_reference import MODELS, PARAMS
from test_neuron_recurrent import SURROGATES, _call, _close, _inputs, _loss_pair, _weights

import spikegrad
import spikegrad.surrogate as sg
from spikegrad.neuron._rec_primitives import BPTT_STATES_TARGET, BPTT_TARGET, FORWARD_TARGET


def _loss(model, reset, surrogate, save_every, states=False):
    """A loss of the spikes (``states``: and of the every-step states, whose
    cotangents BPTT takes too), as a function of ``(x, w, z0, params)``."""
    x, _ = _inputs(4, model, dtype=np.float64)
    cot = jax.random.normal(jax.random.PRNGKey(5), x.shape, x.dtype)

    def loss(x, w, z0, p):
        kw = dict(params=p, spk_fun=surrogate, spk_reset=reset, save_every=save_every)
        if not states:
            s = _call(model, x, z0, w, **kw)
            return jnp.sum(cot * s), s
        s, zs = _call(model, x, z0, w, **kw, return_states=True)
        return jnp.sum(cot * s) + sum(jnp.sum(cot * z) for z in zs), s

    return loss


def _grads(loss, args, lowering):
    with spikegrad.lowering(lowering):
        return jax.jit(jax.grad(loss, argnums=(0, 1, 2, 3), has_aux=True))(*args)


@pytest.mark.parametrize("model", MODELS)
def test_kernels_match_the_scan_form_float64(model, x64):
    """ReluGrad with soft reset (test_neuron_recurrent.py runs MultiGaussianGrad
    soft and ReluGrad hard against brainpy.state on this path)."""
    reset, surrogate = "soft", "relu"
    _, _, args = _loss_pair(model, reset, SURROGATES[surrogate], jnp.float64)
    spk = SURROGATES[surrogate][0]
    want, want_s = _grads(_loss(model, reset, spk, None), args, "xla")
    assert 0.02 < float(np.mean(np.asarray(want_s))) < 0.6
    assert np.abs(np.asarray(want[1])).max() > 0
    for save_every in (1, 16, 5):  # 5: T = 24 is not a multiple
        got, s = _grads(_loss(model, reset, spk, save_every), args, "native")
        np.testing.assert_array_equal(np.asarray(s), np.asarray(want_s))
        _close(got, want, 1e-10)
    # The states' cotangents too.
    want, _ = _grads(_loss(model, reset, spk, None, states=True), args, "xla")
    got, _ = _grads(_loss(model, reset, spk, None, states=True), args, "native")
    _close(got, want, 1e-10)


def test_kernels_match_brainpy_state_with_relu_soft_float32():
    model = "alif"
    ours, theirs, args = _loss_pair(model, "soft", SURROGATES["relu"], jnp.float32)
    with spikegrad.lowering("native"):
        got, (spikes, states) = jax.jit(jax.grad(ours, argnums=(0, 1, 2, 3), has_aux=True))(*args)
    want, (want_s, want_z) = jax.jit(jax.grad(theirs, argnums=(0, 1, 2, 3), has_aux=True))(*args)
    np.testing.assert_array_equal(np.asarray(spikes), np.asarray(want_s))
    _close(states, want_z, 1e-5)
    _close(got, want, 1e-5)


def _custom_calls(fn, *args):
    """The spikegrad custom-call targets in ``fn``'s lowered program."""
    return set(re.findall(r"spikegrad_\w+", jax.jit(fn).lower(*args).as_text()))


def test_the_kernels_run_and_settings_choose_them():
    x, z0 = _inputs(20, "lif")
    w = jnp.asarray(_weights(20))

    def loss(x, w):
        return jnp.sum(_call("lif", x, z0, w, spk_fun=sg.MultiGaussianGrad()) * x)

    grad = jax.grad(loss, argnums=(0, 1))
    with spikegrad.lowering("native"):
        text = _custom_calls(grad, x, w)
        assert FORWARD_TARGET in text and BPTT_STATES_TARGET in text  # no parameter differentiated
        text = _custom_calls(
            jax.grad(lambda tau: jnp.sum(_call("lif", x, z0, w, params={**PARAMS["lif"], "tau": tau}))), 5.0
        )
        assert BPTT_TARGET in text and BPTT_STATES_TARGET not in text
    # The default (auto): both kernels (_policy.RECURRENT_BPTT_KERNEL); with it
    # off, the gradient is the scan form's, with the same values.
    assert FORWARD_TARGET in _custom_calls(lambda x: _call("lif", x, z0, w), x)
    text = _custom_calls(grad, x, w)
    assert FORWARD_TARGET in text and BPTT_STATES_TARGET in text
    native = jax.jit(grad)(x, w)
    with mock.patch.object(spikegrad._policy, "RECURRENT_BPTT_KERNEL", False):
        # A new function: jit's caches do not key on the policy.
        scan_grad = jax.grad(lambda x, w: loss(x, w), argnums=(0, 1))
        text = _custom_calls(scan_grad, x, w)
        assert BPTT_TARGET not in text and BPTT_STATES_TARGET not in text
        _close(jax.jit(scan_grad)(x, w), native, 1e-5)
    with spikegrad.lowering("xla"):
        text = _custom_calls(grad, x, w)
    assert FORWARD_TARGET not in text and BPTT_TARGET not in text
    # A user's own spike function and half precision run the scan.
    assert FORWARD_TARGET not in _custom_calls(lambda x: _call("lif", x, z0, w, spk_fun=lambda u: (u >= 0) * 1.0), x)
    assert FORWARD_TARGET not in _custom_calls(lambda x: _call("lif", x.astype(jnp.float16), z0, w), x)


def test_jvp_matches_the_scan_form(x64):
    model = "alif"
    x, z0 = _inputs(22, model, dtype=np.float64)
    w = jnp.asarray(_weights(22, dtype=np.float64))

    def f(x, w, z0):
        return _call(model, x, z0, w, spk_fun=sg.MultiGaussianGrad(), return_states=True)

    primals = (x, w, tuple(jnp.asarray(a) for a in z0))
    keys = iter(jax.random.split(jax.random.PRNGKey(23), 8))
    tangents = jax.tree.map(lambda a: jax.random.normal(next(keys), a.shape, a.dtype), primals)
    with spikegrad.lowering("native"):
        got = jax.jit(lambda p, t: jax.jvp(f, p, t))(primals, tangents)
        assert FORWARD_TARGET in _custom_calls(lambda p, t: jax.jvp(f, p, t), primals, tangents)
    with spikegrad.lowering("xla"):
        want = jax.jit(lambda p, t: jax.jvp(f, p, t))(primals, tangents)
    np.testing.assert_array_equal(np.asarray(got[0][0]), np.asarray(want[0][0]))
    assert np.abs(np.asarray(want[1][1][0])).max() > 0
    _close(got, want, 1e-10)


@pytest.fixture
def native_lowering():
    """The BPTT kernel too (the default differentiates the scan form)."""
    with spikegrad.lowering("native"):
        yield


@pytest.mark.usefixtures("native_lowering")
def test_vmap_folds_into_rows_and_per_example_gradients():
    model = "cuba_lif"
    x, z0 = _inputs(24, model, shape=(2, 12))
    w = jnp.asarray(_weights(24))
    xs = jnp.stack([x, x * 1.2, x * 0.8])

    def loss(x, w):
        return jnp.sum(_call(model, x, z0, w, spk_fun=sg.ReluGrad()) * x)

    # vmap over x with a shared w: one kernel call over all rows.
    batched = jax.jit(jax.vmap(lambda x: _call(model, x, z0, w)))
    assert FORWARD_TARGET in _custom_calls(jax.vmap(lambda x: _call(model, x, z0, w)), xs)
    out = batched(xs)
    for i in range(3):
        np.testing.assert_array_equal(np.asarray(out[i]), np.asarray(_call(model, xs[i], z0, w)))
    # grad of a vmapped loss (fused BPTT) and per-example gradients (vmap of grad).
    total = jax.jit(jax.grad(lambda xs, w: jnp.sum(jax.vmap(loss, (0, None))(xs, w)), argnums=(0, 1)))(xs, w)
    per = jax.jit(jax.vmap(jax.grad(loss, argnums=(0, 1)), (0, None)))(xs, w)
    for i in range(3):
        one = jax.grad(loss, argnums=(0, 1))(xs[i], w)
        _close((per[0][i], per[1][i]), one, 1e-5)
        _close(total[0][i], one[0], 1e-5)
    _close(total[1], jnp.sum(per[1], axis=0), 1e-5)


_THREADS = """
import hashlib
import jax, jax.numpy as jnp, numpy as np
jax.config.update("jax_enable_x64", True)
import spikegrad
import spikegrad.surrogate as sg
from spikegrad import neuron
spikegrad.set_lowering("native")  # the BPTT kernel
rng = np.random.default_rng(0)
T, B, n = 30, 40, 64
x = jnp.asarray(rng.normal(0.3, 1.0, (T, B, n)))
w = jnp.asarray(rng.normal(0.0, 0.3, (n, n)))
def loss(x, w, tau):
    s = neuron.alif(x, dt=1.0, tau=tau, w_rec=w, spk_fun=sg.MultiGaussianGrad())
    return jnp.sum(s * x)
g = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))(x, w, 5.0)
for a in g:
    print(hashlib.sha256(np.asarray(a).tobytes()).hexdigest())
"""


def test_same_bits_for_any_thread_count():
    """The gradients (the weight's summed over row blocks) with XLA's CPU pool
    at one thread (a one-CPU process) and at its default size."""
    outs = []
    for prefix in (("taskset", "-c", "0"), ()):
        res = run_python(_THREADS, timeout=240, prefix=prefix)
        assert res.returncode == 0, res.stderr[-3000:]
        outs.append(res.stdout.split())
    assert len(outs[0]) == 3 and outs[0] == outs[1]


@pytest.mark.parametrize("lowering", ["native", "xla"])
def test_a_traced_non_finite_weight_makes_its_column_non_finite(lowering):
    """The kernels sum the spiking rows of ``w`` only; a dense ``s @ w`` is
    non-finite in a column holding inf or NaN whatever the spikes, and so is
    the kernels' input there (the other columns are untouched)."""
    x, z0 = _inputs(40, "lif")
    w = _weights(41)
    w[1, 2], w[5, 7] = np.inf, np.nan

    def run(w):
        s, (v,) = _call("lif", x, z0, w, spk_fun=sg.MultiGaussianGrad(), return_states=True)
        return s, v

    with spikegrad.lowering(lowering):
        s, v = jax.jit(run)(jnp.asarray(w))
        g = jax.jit(jax.grad(lambda x, w: jnp.sum(run(w)[1][..., 0] * x[..., 0])))(x, jnp.asarray(w))
    v, bad = np.asarray(v), [2, 7]
    assert not np.isfinite(v[..., bad]).any()
    assert np.isfinite(np.delete(v, bad, axis=-1)).all()
    assert np.isfinite(np.asarray(s)).all()
    # The gradient runs (its values pass through the non-finite weights).
    assert g.shape == x.shape
