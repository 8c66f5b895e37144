"""The lowering setting: ``auto`` (default), ``native`` (Rust FFI kernels),
``xla`` (fusable XLA code) and ``pallas`` (the fused neurons' Pallas kernels;
the surrogate ops as under ``xla``) on CPU.

Every setting gives braintools' step bit for bit and the gradient within the
accuracy budget of the float64 reference; switching the setting between calls
of one jitted function recompiles it (the custom calls appear or disappear);
``auto`` picks what docs/perf.md's measurements chose; bad values raise at the
call that sets them."""

import braintools.surrogate as bt
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.reference import assert_matches, multi_gaussian
from jax import export

import spikegrad
import spikegrad.surrogate as sg
from spikegrad import _policy

PARAMS = dict(h=0.15, s=6.0, sigma=0.5, scale=0.5)
SPIKE = sg.MultiGaussianGrad(**PARAMS)
HEAVISIDE, GRAD = "spikegrad_heaviside", "spikegrad_surrogate_grad"
THRESHOLD = _policy.GRAD_NATIVE_MIN_SIZE
PEAK = float(multi_gaussian(0.0, **PARAMS))  # max |g'|


def vjp(x, t):
    y, pull = jax.vjp(SPIKE, x)
    return y, pull(t)[0]


def jvp(x, t):
    return jax.jvp(SPIKE, (x,), (t,))


def data(n, dtype=jnp.float32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=1.5, size=n)
    x[: min(n, 6)] = [-0.0, 0.0, np.nan, -np.inf, np.inf, -1e-30][: min(n, 6)]
    return jnp.asarray(x, dtype), jnp.asarray(rng.normal(size=n), dtype)


def called(text):
    """The FFI targets a StableHLO module calls."""
    return {t for t in (HEAVISIDE, GRAD) if f"stablehlo.custom_call @{t}(" in text}


def targets(fn, *args):
    return called(jax.jit(fn).lower(*args).as_text())


@pytest.fixture(autouse=True)
def _restore_default():
    yield
    spikegrad.set_lowering("auto")


def test_default_is_auto():
    assert spikegrad.get_lowering() == "auto"


@pytest.mark.parametrize("value", ["fast", "", "AUTO", None, 1])
def test_bad_value_raises_where_it_is_set(value):
    with pytest.raises(ValueError, match="spikegrad_lowering"):
        spikegrad.set_lowering(value)
    with pytest.raises(ValueError, match="spikegrad_lowering"):
        with spikegrad.lowering(value):
            pass
    assert spikegrad.get_lowering() == "auto"


def test_the_setting_is_a_static_parameter_of_the_primitives():
    x, t = data(8)
    for value in ("auto", "native", "xla"):
        with spikegrad.lowering(value):
            jaxpr = str(jax.make_jaxpr(vjp)(x, t))
        assert jaxpr.count(f"lowering={value}") == 2, jaxpr  # the step and the transposed gradient


@pytest.mark.parametrize("n", [8, 4096])
def test_native_and_xla_lower_to_what_they_say(n):
    x, t = data(n)
    with spikegrad.lowering("native"):
        assert targets(SPIKE, x) == {HEAVISIDE}
        assert targets(vjp, x, t) == {HEAVISIDE, GRAD}
        assert targets(jvp, x, t) == {HEAVISIDE, GRAD}
    with spikegrad.lowering("xla"):
        assert targets(SPIKE, x) == set()
        assert targets(vjp, x, t) == set()
        assert targets(jvp, x, t) == set()


@pytest.mark.parametrize("n", [8, 4096])
def test_pallas_runs_the_surrogate_ops_as_xla(n):
    """The setting ``pallas`` (the fused neurons' Pallas kernels) leaves the
    surrogate ops to XLA code, with the same values as under ``xla``."""
    x, t = data(n)
    with spikegrad.lowering("pallas"):
        assert targets(SPIKE, x) == set()
        assert targets(vjp, x, t) == set()
        assert targets(jvp, x, t) == set()
        got = jax.jit(vjp)(x, t)
    with spikegrad.lowering("xla"):
        want = jax.jit(vjp)(x, t)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.float16])
def test_auto_choices(dtype):
    """The step is XLA code at every size; the gradient is the kernel from the
    threshold up, but in bfloat16, where it is XLA code at every size."""
    kernel = jnp.dtype(dtype).name not in _policy.XLA_GRAD_DTYPES
    for n in (1, THRESHOLD - 1, THRESHOLD, 1 << 16):
        x, t = data(n, dtype)
        assert targets(SPIKE, x) == set()
        assert targets(vjp, x, t) == ({GRAD} if kernel and n >= THRESHOLD else set())
        # The gradient of a direct call decides the same way.
        direct = lambda x, t: spikegrad.surrogate_grad_apply(x, t, "multi_gaussian", tuple(PARAMS.values()))  # noqa: E731
        assert targets(direct, x, t) == ({GRAD} if kernel and n >= THRESHOLD else set())
    assert _policy.resolve("auto", "spike", "multi_gaussian", 1 << 24) == "xla"
    assert _policy.resolve("auto", "grad", "multi_gaussian", THRESHOLD) == "native"
    assert _policy.resolve("auto", "grad", "multi_gaussian", THRESHOLD - 1) == "xla"
    assert _policy.resolve("auto", "grad", "multi_gaussian", 1 << 24, jnp.dtype(jnp.bfloat16)) == "xla"
    assert _policy.resolve("auto", "grad", "multi_gaussian", 1 << 24, jnp.dtype(jnp.float16)) == "native"
    # A forced setting is kept in every dtype.
    assert _policy.resolve("native", "grad", "multi_gaussian", 1, jnp.dtype(jnp.bfloat16)) == "native"


def test_bfloat16_gradient_keeps_float32_residual():
    """A bfloat16 reverse pass under auto keeps g'(x) in float32 (computed by
    XLA with the forward pass) and rounds the product once: the compiled
    gradient equals XLA's float32 gradient rounded to bfloat16."""
    x, t = data(1 << 12, jnp.bfloat16)
    _, vjp_fn = jax.vjp(sg.MultiGaussianGrad(**PARAMS), x)
    kept = [leaf for leaf in jax.tree_util.tree_leaves(vjp_fn) if hasattr(leaf, "dtype") and leaf.shape == x.shape]
    assert kept and all(leaf.dtype == jnp.float32 for leaf in kept)
    got = np.asarray(jax.jit(vjp)(x, t)[1], np.float32)
    with spikegrad.lowering("xla"):  # the same formula in float32 (auto: the kernel)
        want = jax.jit(vjp)(x.astype(jnp.float32), t.astype(jnp.float32))[1].astype(jnp.bfloat16)
    np.testing.assert_array_equal(got, np.asarray(want, np.float32))


@pytest.mark.parametrize(
    "name",
    sorted(
        n
        for n in sg.__all__
        if isinstance(getattr(sg, n), type)
        and issubclass(getattr(sg, n), sg.NativeSurrogate)
        and n != "NativeSurrogate"
    ),
)
def test_auto_runs_the_gradient_kernel_only_where_it_pays(name):
    """Cheap formulas are XLA code in auto (fused, no call); the others run
    the kernel from the threshold up. native / xla override per surrogate."""
    spike = getattr(sg, name)()
    x, t = data(1 << 12)
    grad = lambda x, t: jax.vjp(spike, x)[1](t)[0]  # noqa: E731
    pays = spike._native_name in _policy.NATIVE_GRAD_SURROGATES
    assert targets(grad, x, t) == ({GRAD} if pays else set())
    with spikegrad.lowering("native"):
        assert targets(grad, x, t) == {GRAD}
    with spikegrad.lowering("xla"):
        assert targets(grad, x, t) == set()


def test_auto_counts_the_batched_size():
    """Under vmap the kernel sees the whole batch: auto decides on its size."""
    x, t = data(THRESHOLD // 4)
    xs, ts = jnp.stack([x] * 4), jnp.stack([t] * 4)
    assert targets(jax.vmap(vjp), xs, ts) == {GRAD}
    assert targets(vjp, x, t) == set()


def test_switching_between_calls_of_one_jitted_function():
    """The setting is part of jit's cache key: a program compiled under one
    value is never served under another, and the results agree."""
    x, t = data(4096)
    f = jax.jit(vjp)
    results = {}
    for value in ("native", "xla", "auto", "native"):
        spikegrad.set_lowering(value)
        assert called(f.lower(x, t).as_text()) == {"native": {HEAVISIDE, GRAD}, "xla": set(), "auto": {GRAD}}[value]
        results.setdefault(value, []).append(f(x, t))
    want = np.asarray(t, np.float64) * multi_gaussian(np.asarray(x, np.float64), **PARAMS)
    step = np.asarray(bt.MultiGaussianGrad(**PARAMS)(x))
    for value, runs in results.items():
        for y, d in runs:
            np.testing.assert_array_equal(np.asarray(y), step, err_msg=value)
            assert_matches(np.asarray(d), want, np.asarray(t, np.float64), PEAK, value)


def test_context_manager_is_scoped():
    x, t = data(4096)
    f = jax.jit(vjp)
    with spikegrad.lowering("xla"):
        assert spikegrad.get_lowering() == "xla"
        assert called(f.lower(x, t).as_text()) == set()
    assert spikegrad.get_lowering() == "auto"
    assert called(f.lower(x, t).as_text()) == {GRAD}


def test_pullback_keeps_the_setting_it_was_traced_under():
    """The gradient of a vjp traced under ``xla`` stays XLA code when the
    pullback is called later under another setting: the choice is a parameter
    of the op, not a global read at lowering."""
    x, t = data(4096)
    with spikegrad.lowering("xla"):
        _, pull = jax.vjp(SPIKE, x)
    with spikegrad.lowering("native"):
        assert called(jax.jit(pull).lower(t).as_text()) == set()


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.float16])
@pytest.mark.parametrize("n", [1, THRESHOLD - 1, THRESHOLD, 5000])
def test_every_setting_same_step_bits_and_gradient_within_budget(n, dtype):
    x, t = data(n, dtype, seed=n)
    step = np.asarray(bt.MultiGaussianGrad(**PARAMS)(x))
    bits = np.dtype(f"u{step.dtype.itemsize}")
    want = np.asarray(t, np.float64) * multi_gaussian(np.asarray(x, np.float64), **PARAMS)
    for value in ("auto", "native", "xla"):
        with spikegrad.lowering(value):
            for fn in (vjp, jvp):
                y, d = jax.jit(fn)(x, t)
                assert np.array_equal(np.asarray(y).view(bits), step.view(bits)), (value, fn.__name__)
                assert_matches(np.asarray(d), want, np.asarray(t, np.float64), PEAK, f"{value} {fn.__name__}")


def test_lif_scan_gradient_agrees_across_settings():
    """BPTT through a LIF layer in lax.scan: every setting gives braintools'
    spikes and, within the float32 budget, its input gradient."""
    rng = np.random.default_rng(5)
    inputs = jnp.asarray(rng.normal(0.15, 0.3, (30, 300)), jnp.float32)

    def run(spike_fn, inputs):
        def step(v, i_t):
            v = 0.9 * v + i_t
            s = spike_fn(v - 1.0)
            return v - s, s

        return jax.lax.scan(step, jnp.zeros_like(inputs[0]), inputs)[1]

    def loss(spike_fn, inputs):
        return (run(spike_fn, inputs) * jnp.arange(30.0)[:, None]).sum()

    theirs = bt.MultiGaussianGrad(**PARAMS)
    want_s = np.asarray(run(theirs, inputs))
    want_g = np.asarray(jax.grad(lambda i: loss(theirs, i))(inputs))
    assert want_s.any() and (want_g != 0).any()
    for value in ("auto", "native", "xla"):
        with spikegrad.lowering(value):
            np.testing.assert_array_equal(np.asarray(jax.jit(lambda i: run(SPIKE, i))(inputs)), want_s)
            got = np.asarray(jax.jit(jax.grad(lambda i: loss(SPIKE, i)))(inputs))
        np.testing.assert_allclose(got, want_g, rtol=1e-4, atol=1e-5 * np.abs(want_g).max(), err_msg=value)


def test_auto_with_symbolic_shape_exports_the_kernel():
    (spec,) = export.symbolic_args_specs([np.zeros(8, np.float32)], "n")
    checks = [export.DisabledSafetyCheck.custom_call(GRAD)]
    grad = lambda x, t: jax.vjp(SPIKE, x)[1](t)[0]  # noqa: E731
    exported = export.export(jax.jit(grad), platforms=["cpu"], disabled_checks=checks)(spec, spec)
    assert called(exported.mlir_module()) == {GRAD}
    x, t = data(300)
    want = np.asarray(t, np.float64) * multi_gaussian(np.asarray(x, np.float64), **PARAMS)
    assert_matches(np.asarray(exported.call(x, t)), want, np.asarray(t, np.float64), PEAK, "symbolic")


@pytest.mark.parametrize("value", ["auto", "native", "xla"])
def test_export_records_the_choice(value):
    """jax.export serializes the program lowered under the setting in force;
    after deserialization it runs the same code whatever the setting is then."""
    x, t = data(4096)
    checks = [export.DisabledSafetyCheck.custom_call(n) for n in (HEAVISIDE, GRAD)]
    with spikegrad.lowering(value):
        exported = export.export(jax.jit(vjp), platforms=["cpu"], disabled_checks=checks)(x, t)
    assert called(exported.mlir_module()) == {"native": {HEAVISIDE, GRAD}, "xla": set(), "auto": {GRAD}}[value]
    restored = export.deserialize(exported.serialize())
    with spikegrad.lowering("xla" if value == "native" else "native"):
        y, d = restored.call(x, t)
    want = np.asarray(t, np.float64) * multi_gaussian(np.asarray(x, np.float64), **PARAMS)
    np.testing.assert_array_equal(np.asarray(y), np.asarray(bt.MultiGaussianGrad(**PARAMS)(x)))
    assert_matches(np.asarray(d), want, np.asarray(t, np.float64), PEAK, value)
