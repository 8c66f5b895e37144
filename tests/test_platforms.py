"""Other platforms, checked on a CPU machine.

* Cross-platform lowering: for cuda, rocm and tpu the op lowers to XLA-native
  code, with no custom call; in a multi-platform lowering only the CPU branch
  calls the FFI targets.
* The non-CPU code computes the same values: the module lowered for each of
  those platforms is run here on the CPU (jax.export with the platform check
  off) and compared with the float64 NumPy formula, braintools, and the CPU
  custom calls.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.reference import multi_gaussian as multi_gaussian_np
from jax import export

import spikegrad
import spikegrad.surrogate as surrogate

OTHER_PLATFORMS = ["cuda", "rocm", "tpu"]
TARGETS = ("spikegrad_heaviside", "spikegrad_surrogate_grad")
PARAMS = dict(h=0.2, s=4.0, sigma=0.6, scale=0.7)
SPIKE = surrogate.MultiGaussianGrad(**PARAMS)
HALF = {"float16": 2.0**-10, "bfloat16": 2.0**-7}  # dtype -> unit roundoff x 2


def step_vjp_jvp(x, w):
    """Forward, vjp and jvp at once: every primitive and both operands."""
    y, pull = jax.vjp(SPIKE, x)
    return y, pull(w)[0], jax.jvp(SPIKE, (x,), (w,))[1]


def inputs(dtype, n=257):
    rng = np.random.default_rng(3)
    x = rng.normal(scale=1.5, size=n)
    x[:4] = [0.0, -0.0, np.nan, -1e-30]
    w = rng.normal(size=n)
    return jnp.asarray(x, dtype=dtype), jnp.asarray(w, dtype=dtype)


# ---- walking the lowered StableHLO -------------------------------------


def _children(op):
    for region in op.regions:
        for block in region.blocks:
            for child in block.operations:
                yield child.operation


def _custom_call_targets(op) -> list[str]:
    found = []
    for child in _children(op):
        if child.name == "stablehlo.custom_call":
            found.append(str(child.attributes["call_target_name"]).strip('"'))
        found += _custom_call_targets(child)
    return found


def _platform_cases(op):
    """The stablehlo.case ops whose branches hold custom calls: the per-platform
    dispatch of a multi-platform lowering."""
    for child in _children(op):
        if child.name == "stablehlo.case" and _custom_call_targets(child):
            yield child
        else:
            yield from _platform_cases(child)


def lowered_module(platforms, dtype="float32"):
    """Lowered under the ``native`` setting: the CPU branch calls the kernels
    (``auto`` picks XLA code for the step and for small gradients on CPU too)."""
    x, w = inputs(dtype)
    with spikegrad.lowering("native"):
        lowered = jax.jit(step_vjp_jvp).trace(x, w).lower(lowering_platforms=platforms)
    return lowered.compiler_ir("stablehlo")


def test_cpu_lowering_calls_both_targets():
    """The reference point for the tests below: on CPU the FFI targets run."""
    assert set(_custom_call_targets(lowered_module(("cpu",)).operation)) == set(TARGETS)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
@pytest.mark.parametrize("platform", OTHER_PLATFORMS)
def test_other_platform_lowering_has_no_custom_call(platform, dtype):
    module = lowered_module((platform,), dtype)
    assert _custom_call_targets(module.operation) == []


def _branch_of_platform(case) -> list[int]:
    """For a per-platform dispatch, the branch each platform index selects.

    jax groups platforms by lowering rule: the dispatch's operand is computed
    by another case op on the platform index whose branch i returns the rule
    branch of platform i as a constant."""
    index_case = case.operands[0].owner
    assert index_case.name == "stablehlo.case", index_case.name
    branches = []
    for region in index_case.regions:
        (constant,) = [op.operation for op in region.blocks[0].operations if op.operation.name == "stablehlo.constant"]
        branches.append(int(re.search(r"dense<(-?\d+)>", str(constant.attributes["value"])).group(1)))
    return branches


@pytest.mark.parametrize("platforms", [("cpu", "cuda"), ("cuda", "cpu"), ("tpu", "cpu", "rocm")])
def test_multi_platform_lowering_calls_ffi_only_on_cpu(platforms):
    module = lowered_module(platforms)
    cases = list(_platform_cases(module.operation))
    # forward, vjp and jvp: one dispatch per primitive application
    assert len(cases) == 3
    for case in cases:
        branch_of = _branch_of_platform(case)
        assert len(branch_of) == len(platforms)
        for platform, branch in zip(platforms, branch_of):
            region = case.regions[branch]
            targets = [
                t for block in region.blocks for op in block.operations for t in _custom_call_targets_of(op.operation)
            ]
            if platform == "cpu":
                assert len(targets) == 1 and targets[0] in TARGETS
            else:
                assert targets == [], f"custom call {targets} in the {platform} branch"


def _custom_call_targets_of(op) -> list[str]:
    own = [str(op.attributes["call_target_name"]).strip('"')] if op.name == "stablehlo.custom_call" else []
    return own + _custom_call_targets(op)


# ---- the non-CPU code, run on the CPU --------------------------------------


def run_lowered_for(platform, x, w):
    exported = export.export(
        jax.jit(step_vjp_jvp),
        platforms=(platform,),
        disabled_checks=[export.DisabledSafetyCheck.platform()],
    )(x, w)
    return exported.call(x, w)


@pytest.mark.parametrize("platform", OTHER_PLATFORMS)
def test_other_platform_code_matches_reference_float32(platform):
    import braintools.surrogate as bt

    x, w = inputs("float32")
    y, vjp, jvp = run_lowered_for(platform, x, w)
    x64, w64 = (np.asarray(a, np.float64) for a in (x, w))
    np.testing.assert_array_equal(np.asarray(y), (x64 >= 0).astype(np.float32))
    slope = np.where(np.isnan(x64), np.nan, w64 * multi_gaussian_np(x64, **PARAMS))
    # The f32 budget: 2e-6 of the largest gradient magnitude.
    atol = 2e-6 * np.nanmax(np.abs(slope))
    for d in (vjp, jvp):
        np.testing.assert_allclose(np.asarray(d), slope, rtol=0, atol=atol)

    reference = bt.MultiGaussianGrad(**PARAMS)
    bt_y, bt_pull = jax.vjp(reference, x)
    np.testing.assert_array_equal(np.asarray(y), np.asarray(bt_y))
    np.testing.assert_allclose(np.asarray(vjp), np.asarray(bt_pull(w)[0]), rtol=0, atol=atol)

    cpu = jax.jit(step_vjp_jvp)(x, w)
    np.testing.assert_array_equal(np.asarray(y), np.asarray(cpu[0]))
    for got, native in zip((vjp, jvp), cpu[1:]):
        np.testing.assert_allclose(np.asarray(got), np.asarray(native), rtol=0, atol=atol)


@pytest.mark.parametrize("dtype", sorted(HALF))
@pytest.mark.parametrize("platform", ["cuda", "tpu"])
def test_other_platform_code_matches_cpu_half(platform, dtype):
    x, w = inputs(dtype)
    y, vjp, jvp = run_lowered_for(platform, x, w)
    cpu_y, cpu_vjp, cpu_jvp = jax.jit(step_vjp_jvp)(x, w)
    for a in (y, vjp, jvp):
        assert a.dtype == jnp.dtype(dtype)
    np.testing.assert_array_equal(np.asarray(y, np.float64), np.asarray(cpu_y, np.float64))
    # Both widen to float32 and round once: at most one rounding apart.
    x64, w64 = (np.asarray(a, np.float64) for a in (x, w))
    slope = np.where(np.isnan(x64), np.nan, w64 * multi_gaussian_np(x64, **PARAMS))
    for got, native in ((vjp, cpu_vjp), (jvp, cpu_jvp)):
        got = np.asarray(got, np.float64)
        np.testing.assert_allclose(got, np.asarray(native, np.float64), rtol=HALF[dtype], atol=1e-6)
        np.testing.assert_allclose(got, slope, rtol=HALF[dtype], atol=1e-6)


@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2)])
def test_other_platform_code_scalar_and_empty(shape):
    x = jnp.full(shape, 0.25, jnp.float32)
    y, vjp, jvp = run_lowered_for("cuda", x, jnp.ones(shape, jnp.float32))
    assert y.shape == vjp.shape == jvp.shape == shape
    want = multi_gaussian_np(np.full(shape, 0.25), **PARAMS)
    np.testing.assert_allclose(np.asarray(vjp), want, rtol=2e-6)
    np.testing.assert_array_equal(np.asarray(y), np.ones(shape, np.float32))
