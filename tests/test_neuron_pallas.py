"""The fused neurons' Pallas kernels (``spikegrad.neuron._pallas``).

* Values, in Pallas' interpret mode on CPU, against a float64 ``lax.scan`` of
  the model step differentiated by JAX (``jax.jvp`` / ``jax.vjp``, the spike a
  Heaviside whose derivative is the surrogate's ``g'``): spikes equal,
  potentials, tangents and gradients within float32 (or float64) roundoff.
  Every model with soft and hard reset, float32 and float64, T = 0, 1, 100,
  neuron counts that are not a multiple of the block, 0 and 1 neuron, batch
  axes, every surrogate, BPTT with checkpoint strides 1 and > 1 (identical
  results).
* Cross-lowering for CUDA on this CPU machine: each pass is one Triton kernel
  call and leaves no loop over time outside the kernel.

Interpret mode compiles each kernel as an XLA CPU program, which dominates the
run time; the cases are chosen to compile few programs.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.cuda import cuda_target
from helpers.x64 import enable_x64

import spikegrad  # noqa: F401  (registers the surrogate formulas)
from spikegrad._formulas import formula
from spikegrad.neuron import _models, _pallas
from spikegrad.neuron._lowering import pallas_missing

MODELS = tuple(_models.MODELS)
#: name -> parameters (not the defaults, where a default would hide a mix-up).
SURROGATES = {
    "sigmoid": (3.0,),
    "piecewise_quadratic": (0.8,),
    "piecewise_exp": (1.5,),
    "soft_sign": (2.0,),
    "arctan": (1.5,),
    "nonzero_sign_log": (2.0,),
    "erf": (1.5,),
    "piecewise_leaky_relu": (0.05, 0.8),
    "squarewave_fourier_series": (3.0, 6.0),
    "s2nn": (3.0, 0.8, 1e-6),
    "q_pseudo_spike": (2.5,),
    "leaky_relu": (0.2, 0.9),
    "log_tailed_relu": (0.1,),
    "relu_grad": (0.4, 1.2),
    "gaussian": (0.6, 0.8),
    "inv_square_grad": (10.0,),
    "slayer_grad": (2.0,),
    "multi_gaussian": (0.2, 4.0, 0.6, 0.7),
}
#: Brainpy-like parameters per model, with ``tau`` short enough to spike often.
PARAMS = {
    "lif": dict(tau=4.0, R=1.5, V_th=1.0, V_reset=-0.2, V_rest=0.1),
    "alif": dict(tau=4.0, tau_a=8.0, R=1.5, V_th=1.0, V_reset=-0.2, V_rest=0.1, beta=0.3),
    "cuba_lif": dict(tau=4.0, tau_syn=3.0, R=1.5, V_th=1.0, V_reset=-0.2, V_rest=0.1),
}
X_SCALE = {"lif": 2.5, "alif": 2.5, "cuba_lif": 1.0}
# The exponential-Euler models, in units where V_th - V_reset is about 1 as above.
_EXP = dict(tau=4.0, R=1.5, V_th=1.0, V_reset=-0.2, V_rest=0.1, V_T=0.6, delta_T=0.3)
PARAMS.update(
    coba_lif=dict(tau=4.0, tau_syn=3.0, E=2.5, R=1.5, V_th=1.0, V_reset=-0.2, V_rest=0.1),
    exp_if=_EXP,
    adex_if=dict(_EXP, tau_w=8.0, a=0.3, b=0.2),
)
X_SCALE.update(coba_lif=1.0, exp_if=2.5, adex_if=2.5)
DT = 0.5
#: Max error relative to the largest reference magnitude, by dtype.
RTOL = {np.dtype(np.float32): 2e-5, np.dtype(np.float64): 1e-12}


def test_surrogate_table_is_complete():
    assert sorted(SURROGATES) == sorted(spikegrad._formulas._FORMULAS)


# ---- reference and inputs -------------------------------------------------------


def reference(model, surrogate, params, hard):
    """``run(x, z0, c) -> (spikes, states)``: a plain ``lax.scan`` of the
    model step with a ``custom_jvp`` Heaviside, for jax to differentiate."""
    m = _models.model(model)
    g = formula(surrogate)

    @jax.custom_jvp
    def spike(u):
        return jnp.where(u >= 0, 1.0, 0.0).astype(u.dtype)

    @spike.defjvp
    def _(primals, tangents):
        return spike(primals[0]), g(primals[0], *params).astype(primals[0].dtype) * tangents[0]

    def run(x, z0, c):
        def body(z, xt):
            z1 = tuple(m.step(c, z, xt, spike(m.u(c, z)), hard))
            return z1, (spike(m.u(c, z1)), z1)

        if x.shape[0] > 2:
            _, (spikes, states) = jax.lax.scan(body, tuple(z0), x)
            return spikes, tuple(states)
        # A step or two: unrolled, which compiles faster than a scan.
        z, outs = tuple(z0), []
        for xt in x:
            z, out = body(z, xt)
            outs.append(out)
        if not outs:
            return jnp.zeros_like(x), tuple(jnp.zeros_like(x) for _ in z)
        spikes, states = zip(*outs)
        return jnp.stack(spikes), tuple(jnp.stack(s) for s in zip(*states))

    return run


def inputs(model, steps, shape, dtype, seed=0):
    """``(x, z0, c)`` as NumPy arrays (no jax op, so no compilation) with
    per-neuron constants (parameters spread by 5%)."""
    m = _models.model(model)
    rng = np.random.default_rng(seed)
    x = X_SCALE[model] * rng.uniform(-0.2, 1.0, (steps, *shape))
    z0 = (rng.uniform(-0.2, 1.0, shape),) + tuple(rng.uniform(0.0, 0.5, shape) for _ in m.states[1:])
    p = {k: v * (1.0 + 0.05 * rng.uniform(-1, 1, shape)) for k, v in PARAMS[model].items()}
    c = m.fold(DT, p, np)

    def cast(a):
        return np.array(np.broadcast_to(a, shape), dtype)

    return x.astype(dtype), tuple(map(cast, z0)), tuple(map(cast, c))


def like(arrays, seed, scale=1.0):
    """Random NumPy arrays shaped like ``arrays`` (a pytree)."""
    rng = np.random.default_rng(seed)
    return jax.tree.map(lambda a: (scale * rng.normal(size=a.shape)).astype(a.dtype), arrays)


def f64(tree):
    return jax.tree.map(lambda a: np.asarray(a, np.float64), tree)


def assert_close(got, want, rtol, what):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    if want.size == 0:
        return
    err = float(np.max(np.abs(got - want)))
    scale = max(float(np.max(np.abs(want))), 1e-30)
    assert err <= rtol * scale, f"{what}: max error {err:.3g} > {rtol:g} x {scale:.3g}"


def checkpoints(seq, stride):
    """The rows the forward pass saves: the states after steps stride, 2 stride, ..., T."""
    steps = seq.shape[0]
    return seq[np.minimum(np.arange(1, -(-steps // stride) + 1) * stride, steps) - 1]


def passes(model, surrogate, params, hard, strides, with_ct_z, tangent):
    """One jitted program with the kernels of a case: forward (keep) per
    stride, tangent (if asked), BPTT per stride."""
    kw = dict(model=model, surrogate=surrogate, params=params, hard_reset=hard, interpret=True)

    def run(x, z0, c, dx, dz0, dc, ct_spikes, ct_z):
        saved = {s: _pallas.forward(x, z0, c, stride=s, keep=True, **kw) for s in strides}
        spikes, saved1 = saved[strides[0]]
        lin = _pallas.tangent(x, z0, c, saved1, dx, dz0, dc, stride=strides[0], **kw) if tangent else None
        ct_z = ct_z if with_ct_z else (None,) * len(z0)
        bptt = {s: _pallas.bptt(x, z0, c, saved[s][1], ct_spikes, ct_z, stride=s, **kw) for s in strides}
        return spikes, {s: v[1] for s, v in saved.items()}, lin, bptt

    return jax.jit(run)


def reference_passes(model, surrogate, params, hard):
    """The reference's values, tangents and cotangents in one jitted float64
    program."""
    run = reference(model, surrogate, params, hard)

    def passes(primals, tangents, cts):
        (spikes, states), lin = jax.jvp(run, primals, tangents)
        _, pullback = jax.vjp(run, *primals)
        return spikes, states, lin, pullback(cts)

    return jax.jit(passes)


def check_case(model, surrogate, params, hard, steps, shape, dtype, strides=(1,), with_ct_z=True, tangent=True, seed=0):
    """The kernels against the reference, for one case."""
    x, z0, c = inputs(model, steps, shape, dtype, seed)
    dx, dz0, dc = like((x, z0, c), seed + 1)
    ct_spikes = like(x, seed + 2)
    ct_z = like((x,) * len(z0), seed + 3) if with_ct_z else tuple(np.zeros_like(x) for _ in z0)
    spikes, saved, lin, bptt = passes(model, surrogate, params, hard, strides, with_ct_z, tangent)(
        x, z0, c, dx, dz0, dc, ct_spikes, ct_z
    )
    with enable_x64():
        ref = reference_passes(model, surrogate, params, hard)(
            f64((x, z0, c)), f64((dx, dz0, dc)), f64((ct_spikes, ct_z))
        )
        r_spikes, r_states, (r_dspikes, r_dz), r_ct = jax.device_get(ref)
    rtol = RTOL[np.dtype(dtype)]
    assert spikes.dtype == dtype and spikes.shape == x.shape
    np.testing.assert_array_equal(np.asarray(spikes), np.asarray(r_spikes), err_msg="spikes")
    for s, rows in saved.items():
        for i, (got, want) in enumerate(zip(rows, r_states)):
            assert_close(got, checkpoints(want, s), rtol, f"saved state {i}, stride {s}")
    if tangent:
        dspikes, dz = lin
        assert_close(dspikes, r_dspikes, rtol, "dspikes")
        for i, (got, want) in enumerate(zip(dz, r_dz)):
            assert_close(got, want, rtol, f"tangent of state {i}")
    ct_x, ct_z0, ct_c = bptt[strides[0]]
    assert_close(ct_x, r_ct[0], rtol, "ct_x")
    for i, (got, want) in enumerate(zip(ct_z0, r_ct[1])):
        assert_close(got, want, rtol, f"ct of z0[{i}]")
    for i, (got, want) in enumerate(zip(ct_c, r_ct[2])):
        assert_close(got, want, 4 * rtol, f"ct of c[{i}] (summed over time)")
    # Every step runs the same kernel code whatever the stride: identical results.
    for s in strides[1:]:
        for got, want in zip(jax.tree.leaves(bptt[s]), jax.tree.leaves(bptt[strides[0]])):
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=f"BPTT stride {s} vs 1")
    return spikes


# ---- values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "model, hard, strides",
    [("lif", False, (1, 7)), ("lif", True, (1,)), ("alif", True, (1, 7)), ("cuba_lif", False, (1, 7))],
    ids=["lif-soft", "lif-hard", "alif-hard", "cuba_lif-soft"],
)
def test_float32_against_reference(model, hard, strides):
    """T = 100, 111 neurons as [3, 37] (blocks of 32, the last partial), every
    pass with state cotangents; BPTT with stride 7 (14 segments and a tail of
    2) equal to stride 1 bit for bit. (ALIF soft and CubaLIF hard: float64.)"""
    spikes = check_case(model, "multi_gaussian", SURROGATES["multi_gaussian"], hard, 100, (3, 37), np.float32, strides)
    assert 0.05 < float(np.mean(spikes)) < 0.6  # the neurons do spike, and not always


@pytest.mark.parametrize(
    "model, hard, stride, with_ct_z",
    [("alif", False, 40, False), ("cuba_lif", True, 5, True)],
    ids=["alif-soft", "cuba_lif-hard"],
)
def test_float64_against_reference(model, hard, stride, with_ct_z):
    """float64 kernels match the float64 reference to roundoff; BPTT with a
    stride longer than T (23) and shorter, with and without state cotangents."""
    with enable_x64():
        check_case(model, "sigmoid", (3.0,), hard, 23, (37,), np.float64, (stride,), with_ct_z=with_ct_z)


def test_every_surrogate():
    """Each surrogate's g' reaches the BPTT kernel (one step, so g' at the
    initial state through the reset and at the new one), all in one program:
    interpret mode compiles each kernel, and one program compiles faster than
    eighteen."""
    model, hard = "alif", False
    x, z0, c = inputs(model, 1, (5,), np.float32, 3)
    ct_spikes = like(x, 4)

    def kernels(x, z0, c, ct_spikes):
        kw = dict(model=model, params=(), hard_reset=hard, stride=1, interpret=True)
        _, saved = _pallas.forward(x, z0, c, keep=True, **{**kw, "surrogate": "sigmoid", "params": (3.0,)})
        return {
            name: _pallas.bptt(x, z0, c, saved, ct_spikes, (None, None), **{**kw, "surrogate": name, "params": params})
            for name, params in SURROGATES.items()
        }

    def references(x, z0, c, ct_spikes):
        out = {}
        for name, params in SURROGATES.items():
            run = reference(model, name, params, hard)
            spikes, pullback = jax.vjp(run, x, z0, c)
            out[name] = pullback((ct_spikes, tuple(jnp.zeros_like(x) for _ in z0)))
        return out

    got = jax.jit(kernels)(x, z0, c, ct_spikes)
    with enable_x64():
        want = jax.device_get(jax.jit(references)(*f64((x, z0, c, ct_spikes))))
    for name in SURROGATES:
        for i, (g, w) in enumerate(zip(jax.tree.leaves(got[name]), jax.tree.leaves(want[name]))):
            assert_close(g, w, 4 * RTOL[np.dtype(np.float32)], f"{name}: cotangent {i}")
        assert np.any(np.asarray(want[name][0])), name  # g' is not zero where it is evaluated


@pytest.mark.parametrize(
    "steps, shape, strides",
    [(100, (1,), (1,)), (1, (33,), (1, 3)), (2, (), (2,))],
    ids=["T100-n1", "T1-n33", "T2-scalar"],
)
def test_small_sizes(steps, shape, strides):
    check_case("lif", "arctan", (1.5,), True, steps, shape, np.float32, strides, seed=5)


@pytest.mark.parametrize("shape", [(0,), (4, 0)])
@pytest.mark.parametrize("steps", [0, 3])
def test_empty(steps, shape):
    """No neurons or no steps: no kernel runs; zeros of the right shapes."""
    model = "cuba_lif"
    x, z0, c = inputs(model, steps, shape, jnp.float32)
    kw = dict(model=model, surrogate="sigmoid", params=(3.0,), hard_reset=False, stride=2, interpret=True)
    spikes, saved = _pallas.forward(x, z0, c, keep=True, **kw)
    assert spikes.shape == x.shape and [s.shape for s in saved] == [(-(-steps // 2), *shape)] * 2
    _, placeholders = _pallas.forward(x, z0, c, keep=False, **kw)
    assert [p.shape for p in placeholders] == [(0,), (0,)]
    dspikes, dz = _pallas.tangent(x, z0, c, saved, x, z0, c, **kw)
    assert dspikes.shape == x.shape and [d.shape for d in dz] == [x.shape] * 2
    ct_x, ct_z0, ct_c = _pallas.bptt(x, z0, c, saved, x, (None, None), **kw)
    assert ct_x.shape == x.shape and [a.shape for a in ct_z0 + ct_c] == [shape] * 8
    assert not any(np.any(np.asarray(a)) for a in (ct_x, *ct_z0, *ct_c))


def test_zero_steps_some_neurons():
    """T = 0 with neurons: the gradient w.r.t. the initial state is zero."""
    x, z0, c = inputs("lif", 0, (6,), jnp.float32)
    kw = dict(model="lif", surrogate="sigmoid", params=(3.0,), hard_reset=False, stride=1, interpret=True)
    _, saved = _pallas.forward(x, z0, c, keep=True, **kw)
    ct_x, ct_z0, ct_c = _pallas.bptt(x, z0, c, saved, x, (jnp.zeros((0,)),), **kw)
    assert ct_x.shape == (0, 6) and ct_z0[0].shape == (6,) and not np.any(np.asarray(ct_z0[0]))


def test_forward_without_keep_writes_no_state():
    x, z0, c = inputs("alif", 9, (40,), jnp.float32)
    kw = dict(model="alif", surrogate="sigmoid", params=(3.0,), hard_reset=False, stride=1, interpret=True)
    spikes, placeholders = jax.jit(lambda *a: _pallas.forward(*a, keep=False, **kw))(x, z0, c)
    want, _ = jax.jit(lambda *a: _pallas.forward(*a, keep=True, **kw))(x, z0, c)
    np.testing.assert_array_equal(np.asarray(spikes), np.asarray(want))
    assert [p.shape for p in placeholders] == [(0,), (0,)]


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_half_precision_sequences(dtype):
    """Half-precision x, dx, ct_spikes with float32 states: the float32 passes
    on the widened sequences, the sequence results rounded once."""
    x, z0, c = inputs("alif", 9, (40,), jnp.float32)
    xh = x.astype(dtype)
    xw = xh.astype(np.float32)
    kw = dict(model="alif", surrogate="sigmoid", params=(3.0,), hard_reset=False, stride=4, interpret=True)
    spikes, saved = _pallas.forward(xh, z0, c, keep=True, **kw)
    want, saved32 = _pallas.forward(xw, z0, c, keep=True, **kw)
    assert spikes.dtype == dtype and all(a.dtype == jnp.float32 for a in saved)
    np.testing.assert_array_equal(np.asarray(spikes, np.float32), np.asarray(want))
    cts = like(xw, 5).astype(dtype)
    ct_x, ct_z0, ct_c = _pallas.bptt(xh, z0, c, saved, cts, (None, None), **kw)
    w_x, w_z0, w_c = _pallas.bptt(xw, z0, c, saved32, cts.astype(np.float32), (None, None), **kw)
    assert ct_x.dtype == dtype and all(a.dtype == jnp.float32 for a in ct_z0 + ct_c)
    np.testing.assert_array_equal(np.asarray(ct_x, np.float32), np.asarray(w_x.astype(dtype), np.float32))
    for a, b in zip(ct_z0 + ct_c, w_z0 + w_c):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    dx = like(xw, 6).astype(dtype)
    dspikes, dz = _pallas.tangent(xh, z0, c, saved, dx, z0, c, **kw)
    w_ds, w_dz = _pallas.tangent(xw, z0, c, saved32, dx.astype(np.float32), z0, c, **kw)
    assert dspikes.dtype == dtype and all(a.dtype == jnp.float32 for a in dz)
    np.testing.assert_array_equal(np.asarray(dspikes, np.float32), np.asarray(w_ds.astype(dtype), np.float32))
    for a, b in zip(dz, w_dz):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_block_size():
    assert _pallas.block_size(1) == _pallas.MIN_BLOCK
    assert _pallas.block_size(1 << 22) == _pallas.MAX_BLOCK
    for n in (1, 100, 1 << 15, 1 << 16, 1 << 22, 10**7):
        b = _pallas.block_size(n)
        assert b & (b - 1) == 0 and _pallas.MIN_BLOCK <= b <= _pallas.MAX_BLOCK
        assert b == _pallas.MIN_BLOCK or -(-n // b) >= _pallas.TARGET_PROGRAMS


def test_errors():
    x, z0, c = inputs("lif", 3, (4,), jnp.float32)
    kw = dict(model="lif", surrogate="sigmoid", hard_reset=False, stride=1, keep=True, interpret=True)
    with pytest.raises(ValueError, match="model"):
        _pallas.forward(x, z0, c, **{**kw, "model": "izhikevich"}, params=(3.0,))
    with pytest.raises(ValueError):
        _pallas.forward(x, z0, c, **kw, params=(float("nan"),))  # the kernels' parameter check
    with pytest.raises(ValueError, match="stride"):
        _pallas.forward(x, z0, c, **{**kw, "stride": 0}, params=(3.0,))
    with pytest.raises(ValueError, match="states"):
        _pallas.forward(x, z0 + z0, c, **kw, params=(3.0,))
    with pytest.raises(TypeError, match="float32 or float64"):
        _pallas.forward(x.astype(jnp.int32), z0, c, **kw, params=(3.0,))
    with pytest.raises(TypeError, match="float32"):  # bfloat16 x takes float32 states
        half = tuple(a.astype(jnp.bfloat16) for a in z0)
        _pallas.forward(x.astype(jnp.bfloat16), half, c, **kw, params=(3.0,))
    with pytest.raises(ValueError, match="checkpoints"):
        _pallas.bptt(x, z0, c, z0, x, (None,), **{k: v for k, v in kw.items() if k != "keep"}, params=(3.0,))


# ---- cross-lowering for CUDA ------------------------------------------------------


def lowered_cuda(fn, *args):
    with cuda_target():
        return jax.jit(fn).trace(*args).lower(lowering_platforms=("cuda",)).as_text()


def program(kind, model, dtype, stride):
    """``(fn, args)``: one pass as a function of abstract arrays."""
    m = _models.model(model)
    S, C, T, n = m.n_states, m.n_consts, 100, 3000
    seq, vec = jax.ShapeDtypeStruct((T, n), dtype), jax.ShapeDtypeStruct((n,), dtype)
    rows = jax.ShapeDtypeStruct((-(-T // stride), n), dtype)
    kw = dict(model=model, surrogate="multi_gaussian", params=SURROGATES["multi_gaussian"], hard_reset=True)
    kw["stride"] = stride
    if kind == "forward":
        return (lambda x, z0, c: _pallas.forward(x, z0, c, keep=True, **kw)), (seq, (vec,) * S, (vec,) * C)
    if kind == "tangent":
        args = (seq, (vec,) * S, (vec,) * C, (rows,) * S, seq, (vec,) * S, (vec,) * C)
        return (lambda *a: _pallas.tangent(*a, **kw)), args
    return (lambda x, z0, c, sv, ct: _pallas.bptt(x, z0, c, sv, ct, (None,) * S, **kw)), (
        seq,
        (vec,) * S,
        (vec,) * C,
        (rows,) * S,
        seq,
    )


@pytest.mark.parametrize("kind", ["forward", "tangent", "bptt"])
@pytest.mark.parametrize("model", MODELS)
def test_cross_lowering_cuda(model, kind):
    """Each pass lowers for CUDA here (no GPU needed) to one Triton kernel
    call, with the time loop inside the kernel: no while loop in the module."""
    fn, args = program(kind, model, jnp.float32, 4 if kind == "bptt" else 1)
    text = lowered_cuda(fn, *args)
    assert len(re.findall(r"custom_call @__gpu\$xla\.gpu\.triton", text)) == 1
    assert "stablehlo.while" not in text
    assert f"pallas_{model}_{kind}" in text and "spikegrad_" not in text  # the kernel, no FFI target


@pytest.mark.parametrize("kind", ["forward", "tangent", "bptt"])
def test_cross_lowering_cuda_float64(kind):
    with enable_x64():
        fn, args = program(kind, "alif", jnp.float64, 1)
        text = lowered_cuda(fn, *args)
    assert "__gpu$xla.gpu.triton" in text and "stablehlo.while" not in text


def test_cross_lowering_every_surrogate():
    """Triton's lowering takes every surrogate's g' (the parameters' own
    expressions are folded before they reach it)."""
    m = _models.model("lif")
    seq, vec = jax.ShapeDtypeStruct((10, 64), jnp.float32), jax.ShapeDtypeStruct((64,), jnp.float32)
    for name, params in SURROGATES.items():
        kw = dict(model="lif", surrogate=name, params=params, hard_reset=False, stride=1)
        text = lowered_cuda(
            lambda x, z0, c, sv, ct, kw=kw: _pallas.bptt(x, z0, c, sv, ct, (None,), **kw),
            seq,
            (vec,),
            (vec,) * m.n_consts,
            (seq,),
            seq,
        )
        assert "__gpu$xla.gpu.triton" in text, name


def test_pallas_not_missing():
    """This jax has Pallas and its Triton lowering: the check the lowering
    rules make before they take the kernels finds nothing missing."""
    assert pallas_missing("cpu") is None
    assert pallas_missing("cuda") is None


# ---- end to end: spikegrad.neuron under the lowering setting "pallas" -----------

#: Public parameter names and values per model (initial-state argument names first).
API = {
    "lif": (("v0",), dict(dt=DT, **PARAMS["lif"])),
    "alif": (("v0", "a0"), dict(dt=DT, **PARAMS["alif"])),
    "cuba_lif": (("v0", "g0"), dict(dt=DT, **PARAMS["cuba_lif"])),
}


def api_program(model, hard, save_every):
    """``(spikes, states)``, the gradient of a weighted loss w.r.t. the input,
    the initial states and ``tau``, and a JVP, in one jitted program."""
    import spikegrad.neuron as neuron
    import spikegrad.surrogate as sg

    names, params = API[model]
    fn = getattr(neuron, model)
    spk = sg.MultiGaussianGrad(h=0.2, s=4.0, sigma=0.6, scale=0.7)
    reset = "hard" if hard else "soft"

    def call(x, z0, tau, **kw):
        return fn(x, **dict(zip(names, z0)), **{**params, "tau": tau}, spk_fun=spk, spk_reset=reset, **kw)

    def program(x, z0, w, dx):
        spikes, states = call(x, z0, params["tau"], return_states=True)

        def loss(x, z0, tau):
            return jnp.sum(w * call(x, z0, tau, save_every=save_every))

        grads = jax.grad(loss, argnums=(0, 1, 2))(x, z0, params["tau"])
        _, tangent = jax.jvp(lambda x: call(x, z0, params["tau"]), (x,), (dx,))
        return spikes, states, grads, tangent

    return jax.jit(program)


@pytest.mark.parametrize(
    "model, hard, save_every",
    [("lif", False, 1), ("alif", True, 4), ("cuba_lif", False, 3)],
    ids=["lif", "alif", "cuba_lif"],
)
def test_api_pallas_equals_default(model, hard, save_every):
    """``spikegrad.neuron.<model>`` on CPU with the Pallas kernels (interpreted)
    gives the default CPU path's spikes and states, gradients (input, initial
    states, a parameter) and JVP."""
    x, z0, _ = inputs(model, 30, (2, 45), np.float32, seed=7)
    w, dx = like((x, x), 8)
    want = jax.device_get(api_program(model, hard, save_every)(x, z0, w, dx))
    with spikegrad.lowering("pallas"):
        got = jax.device_get(api_program(model, hard, save_every)(x, z0, w, dx))
    np.testing.assert_array_equal(got[0], want[0], err_msg="spikes")
    for i, (g, r) in enumerate(zip(jax.tree.leaves(got[1:]), jax.tree.leaves(want[1:]))):
        assert_close(g, r, 4 * RTOL[np.dtype(np.float32)], f"output {i}")


def test_api_cross_lowering_cuda():
    """``jax.grad`` of ``lif`` lowered for CUDA: under ``pallas`` the forward
    and BPTT passes are Pallas (Triton) kernel calls, with no loop over time
    outside them; under the default setting (the kernels not yet run on a
    GPU) the ``lax.scan`` form, with no kernel call."""
    import spikegrad.neuron as neuron
    import spikegrad.surrogate as sg

    def loss(x, v0):
        return jnp.sum(neuron.lif(x, v0, dt=1.0, spk_fun=sg.MultiGaussianGrad()))

    x, v0 = jax.ShapeDtypeStruct((100, 64, 50), jnp.float32), jax.ShapeDtypeStruct((64, 50), jnp.float32)

    def lowered():  # as a user would, with no GPU target set
        return jax.jit(jax.grad(loss, argnums=(0, 1))).trace(x, v0).lower(lowering_platforms=("cuda",)).as_text()

    with spikegrad.lowering("pallas"):
        text = lowered()
    assert len(re.findall(r"custom_call @__gpu\$xla\.gpu\.triton", text)) == 2  # forward, BPTT
    assert "pallas_lif_forward" in text and "pallas_lif_bptt" in text
    assert "stablehlo.while" not in text and "spikegrad_" not in text
    default = lowered()
    assert "triton" not in default and "stablehlo.while" in default and "spikegrad_" not in default
