"""Every bad input gives a Python exception that says what is wrong and what
is allowed; nothing crashes or aborts the process.

Construction and input-type errors are raised in Python and tested in
process. Errors raised inside the FFI handlers (the C++ shim) are tested each
in a fresh interpreter, so that an abort would show up as a bad exit code
instead of taking the test run down."""

import json

import braintools
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.isolated import run_python
from helpers.reference import multi_gaussian
from helpers.shared import shared

import spikegrad

MGG = spikegrad.MultiGaussianGrad


# ---- parameters at construction ----------------------------------------------


@pytest.mark.parametrize("name", ["sigma", "s"])
@pytest.mark.parametrize("value", [0, 0.0, -0.0, -1e-300, -2.5])
def test_non_positive_width_is_value_error(name, value):
    with pytest.raises(ValueError, match=rf"{name} must be > 0.*got"):
        MGG(**{name: value})


@pytest.mark.parametrize("name", ["h", "s", "sigma", "scale"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, np.float32(np.nan)])
def test_non_finite_parameter_is_value_error(name, value):
    with pytest.raises(ValueError, match=rf"MultiGaussianGrad: parameter {name} must be finite"):
        MGG(**{name: value})


@pytest.mark.parametrize("name", ["h", "sigma"])
@pytest.mark.parametrize(
    "value", ["0.5", 1j, None, object(), [0.5, "a"]], ids=["str", "complex", "None", "object", "mixed_list"]
)
def test_non_numeric_parameter_is_type_error(name, value):
    with pytest.raises(TypeError, match=rf"parameter {name} must be a real number or array"):
        MGG(**{name: value})


def test_functional_form_validates_too():
    with pytest.raises(ValueError, match="sigma must be > 0"):
        spikegrad.multi_gaussian_grad(jnp.ones(3), sigma=-1.0)


def test_concrete_array_parameter_is_validated():
    with pytest.raises(ValueError, match="sigma must be > 0"):
        MGG(sigma=jnp.array([0.5, -1.0]))
    with pytest.raises(ValueError, match="parameter s must be finite"):
        MGG(s=np.array([1.0, np.inf]))


def test_bad_concrete_parameter_next_to_traced_one_is_value_error():
    with pytest.raises(ValueError, match="sigma must be > 0"):
        jax.jit(lambda h: MGG(h=h, sigma=-1.0)(jnp.ones(2)))(0.2)
    jax.jit(lambda h: MGG(h=h, sigma=1.0)(jnp.ones(2)))(0.2)  # and a good one is fine


def test_valid_edge_parameters_accepted():
    for params in (dict(h=0.0), dict(h=-0.5), dict(scale=0.0), dict(scale=-2.0), dict(sigma=1e-3), dict(s=1e3)):
        f = MGG(**params)
        assert np.isfinite(np.asarray(jax.vmap(jax.grad(f))(jnp.linspace(-1, 1, 5)))).all()


# ---- the input x ------------------------------------------------------------------


@pytest.mark.parametrize(
    "x",
    [jnp.array([1 + 1j, -1j]), np.array([1 + 0j], np.complex128), 1j],
    ids=["jax_complex64", "numpy_complex128", "python_complex"],
)
def test_complex_input_is_type_error(x):
    with pytest.raises(TypeError, match="real array.*complex"):
        MGG()(x)


@pytest.mark.parametrize(
    "x", ["abc", b"ab", object(), {"a": 1}, np.array(["a"])], ids=["str", "bytes", "object", "dict", "str_array"]
)
def test_non_numeric_input_is_type_error(x):
    with pytest.raises(TypeError, match="spikegrad surrogates take a real"):
        MGG()(x)


@pytest.mark.parametrize("dtype", [jnp.int8, jnp.int32, jnp.uint8, jnp.bool_])
def test_integer_and_bool_input_behave_like_braintools(dtype):
    x = jnp.asarray([-3, 0, 2, 5], jnp.int32).astype(dtype)
    ours, theirs = MGG()(x), braintools.surrogate.MultiGaussianGrad()(x)
    assert ours.dtype == theirs.dtype == jnp.dtype(dtype)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    ct = jnp.ones_like(x)
    (g_ours,) = jax.vjp(MGG(), x)[1](ct)
    (g_theirs,) = jax.vjp(braintools.surrogate.MultiGaussianGrad(), x)[1](ct)
    assert g_ours.dtype == g_theirs.dtype == jax.dtypes.float0
    assert g_ours.shape == g_theirs.shape == x.shape


def test_integer_input_grad_needs_allow_int_like_braintools():
    x = jnp.asarray([1, -1])
    with pytest.raises(TypeError) as ours:
        jax.grad(lambda v: MGG()(v).sum())(x)
    with pytest.raises(TypeError) as theirs:
        jax.grad(lambda v: braintools.surrogate.MultiGaussianGrad()(v).sum())(x)
    assert type(ours.value) is type(theirs.value)


def test_parameter_changed_to_invalid_after_construction_is_an_error_not_a_crash():
    f = MGG()
    f.sigma = -1.0
    with pytest.raises(Exception, match="sigma must be > 0"):
        jax.grad(lambda v: f(v).sum())(jnp.ones(3)).block_until_ready()


def test_low_level_mismatch_is_type_error_in_process():
    p = (0.15, 6.0, 0.5, 0.5)
    with pytest.raises(TypeError, match="same shape and dtype.*float32\\[3\\].*float16\\[3\\]"):
        spikegrad.surrogate_grad_apply(jnp.ones(3), jnp.ones(3, jnp.float16), "multi_gaussian", p)
    with pytest.raises(TypeError, match="same shape and dtype.*float32\\[3\\].*float32\\[4\\]"):
        spikegrad.surrogate_grad_apply(jnp.ones(3), jnp.ones(4), "multi_gaussian", p)


# ---- errors inside the FFI handlers, in a process of their own ----------------------

# Runs every case in one child process, one JSON line each. A case that took
# the process down leaves it and every later case without a line, and fails.
_PRELUDE = """
import json, sys
import numpy as np
import jax, jax.numpy as jnp
import spikegrad
P = np.array([0.15, 6.0, 0.5, 0.5])
def grad_call(x, t, out, **attrs):
    attrs = {"surrogate": "multi_gaussian", "params": P, **attrs}
    return jax.ffi.ffi_call("spikegrad_surrogate_grad", out)(x, t, **attrs)
def step_call(x, out):
    return jax.ffi.ffi_call("spikegrad_heaviside", out)(x)
f32 = lambda *s: jax.ShapeDtypeStruct(s, jnp.float32)
for name, code in json.loads(sys.argv[1]).items():
    try:
        jax.block_until_ready(eval(code))
        report = {"ok": True}
    except Exception as e:
        report = {"ok": False, "type": type(e).__name__, "msg": str(e)}
    print(json.dumps({"case": name, **report}), flush=True)
"""

FFI_CASES = {
    "heaviside_int32": (
        "step_call(jnp.arange(4, dtype=jnp.int32), jax.ShapeDtypeStruct((4,), jnp.int32))",
        ["heaviside", "unsupported dtype", "int32", "supported: float16, bfloat16, float32, float64"],
    ),
    "grad_int32": (
        "spikegrad.surrogate_grad_apply(jnp.ones(4, jnp.int32), jnp.ones(4, jnp.int32), 'multi_gaussian', tuple(P))",
        ["surrogate_grad", "unsupported dtype", "int32", "supported: float16, bfloat16, float32, float64"],
    ),
    "spike_uint8": (
        "spikegrad.spike(jnp.ones(4, jnp.uint8), 'multi_gaussian', tuple(P))",
        ["heaviside", "unsupported dtype", "uint8", "supported"],
    ),
    "grad_tangent_dtype": (
        "grad_call(jnp.ones(3), jnp.ones(3, jnp.float16), f32(3))",
        ["surrogate_grad", "tangent dtype float16 differs from x dtype float32"],
    ),
    "grad_tangent_size": (
        "grad_call(jnp.ones(3), jnp.ones(5), f32(3))",
        ["surrogate_grad", "tangent has 5 elements, x has 3"],
    ),
    "grad_output_dtype": (
        "grad_call(jnp.ones(3), jnp.ones(3), jax.ShapeDtypeStruct((3,), jnp.float16))",
        ["surrogate_grad", "output dtype float16 differs from x dtype float32"],
    ),
    "grad_output_size": (
        "grad_call(jnp.ones(3), jnp.ones(3), f32(2))",
        ["surrogate_grad", "output has 2 elements, x has 3"],
    ),
    "heaviside_output_size": (
        "step_call(jnp.ones(6), f32(7))",
        ["heaviside", "output has 7 elements, x has 6"],
    ),
    "heaviside_output_dtype": (
        "step_call(jnp.ones(6), jax.ShapeDtypeStruct((6,), jnp.float64))",
        ["heaviside", "output dtype", "differs from x dtype float32"],
    ),
    "unknown_surrogate": (
        "grad_call(jnp.ones(3), jnp.ones(3), f32(3), surrogate='nope')",
        ["unknown surrogate", "nope", "multi_gaussian"],
    ),
    "wrong_param_count": (
        "grad_call(jnp.ones(3), jnp.ones(3), f32(3), params=np.array([0.15, 6.0, 0.5]))",
        ["takes 4 parameters", "got 3"],
    ),
    "bad_param_value": (
        "grad_call(jnp.ones(3), jnp.ones(3), f32(3), params=np.array([0.15, 6.0, -0.5, 0.5]))",
        ["sigma must be > 0", "-0.5"],
    ),
    "nan_param_value": (
        "grad_call(jnp.ones(3), jnp.ones(3), f32(3), params=np.array([np.nan, 6.0, 0.5, 0.5]))",
        ["parameter h must be finite"],
    ),
    "threaded_size_mismatch": (
        "grad_call(jnp.ones(3 * 32768 + 5), jnp.ones(3 * 32768 + 4), f32(3 * 32768 + 5))",
        ["tangent has 98308 elements, x has 98309"],
    ),
}


@pytest.fixture(scope="module")
def ffi_reports(tmp_path_factory):
    """The child's report for each case, and how it ended (one child per
    session, ``helpers.shared``)."""
    cases = json.dumps({name: code for name, (code, _) in FFI_CASES.items()})
    result = shared(tmp_path_factory, "ffi-reports", lambda: run_python(_PRELUDE, cases, timeout=300))
    reports = {}
    for line in result.stdout.splitlines():
        if line.startswith('{"case"'):
            report = json.loads(line)
            reports[report.pop("case")] = report
    return reports, result


@pytest.mark.parametrize("case", [pytest.param(c, id=c) for c in FFI_CASES])
def test_ffi_handler_error_is_python_exception(case, ffi_reports):
    reports, result = ffi_reports
    _, fragments = FFI_CASES[case]
    assert case in reports, f"process died (rc={result.returncode}) by this case or before: {result.stderr[-2000:]}"
    report = reports[case]
    assert report["ok"] is False, "bad input was accepted"
    for fragment in fragments:
        assert fragment in report["msg"], f"{fragment!r} not in: {report['msg']}"


def test_ffi_error_process_exits_cleanly(ffi_reports):
    reports, result = ffi_reports
    assert result.returncode == 0, f"rc={result.returncode}: {result.stderr[-2000:]}"
    assert list(reports) == list(FFI_CASES)


def test_process_survives_many_handler_errors():
    """Errors leave no broken state: good calls still work after bad ones."""
    code = """
import jax, jax.numpy as jnp, numpy as np, spikegrad
P = (0.15, 6.0, 0.5, 0.5)
for _ in range(50):
    try:
        ones = jnp.ones(8, jnp.int32)
        spikegrad.surrogate_grad_apply(ones, ones, 'multi_gaussian', P).block_until_ready()
    except Exception:
        pass
print(float(jax.grad(spikegrad.MultiGaussianGrad())(0.0)))
"""
    result = run_python(code, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    want = float(multi_gaussian(0.0))
    assert abs(float(result.stdout.split()[-1]) - want) < 1e-6
