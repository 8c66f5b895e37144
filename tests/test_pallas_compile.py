"""The fused neurons' Pallas kernels compiled for an H100/H200 (sm_90) here,
without a GPU: each kernel is lowered for CUDA, its Triton IR taken from the
custom call and compiled by the ``triton`` package (its pass pipeline to PTX,
its ptxas to the cubin). Skipped where ``triton`` is not installed; CI runs it
in .venv-device (scripts/setup_device.sh: Python 3.12, jax 0.11.2, triton).

The matrix is a covering design, not the full product: every model x pass x
dtype (f32, f64, bf16, f16: 36 kernels), and across them each surrogate of
``SURROGATES``, strides 1, 7 and 16, T = 1 and T = 1000, three neuron counts
that are not a multiple of their block (3000: blocks of 32 and one warp;
2^17 + 7: 128 and two warps; 2^20 + 17: 256 and four warps), soft and hard
reset, BPTT with and without state cotangents (``test_matrix_covers`` checks
that each pass meets every value of every factor). Identical IR is compiled
once (cached by IR, warps and stages).

Each kernel must compile with no spills, no local memory (no stack frame, no
``.local`` in the PTX; but the 28-byte array libdevice's sine and cosine use
to reduce arguments of 105615 and more, where g' takes them) and at most 128
registers. In the time loop of the forward, the tangent and BPTT at stride 1
(T > 1), no arithmetic of an iteration may use a row loaded in that same
iteration: the loads for step t+1 are issued before step t's arithmetic.
(BPTT at a stride > 1 reads ahead too, but a segment's last step recomputes
the segment and reads the state it just wrote: that loop has several blocks,
and the check does not apply to it.)
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import pytest

pytest.importorskip("triton")

from helpers import triton_ptx  # noqa: E402
from helpers.cuda import cuda_target  # noqa: E402
from helpers.x64 import enable_x64  # noqa: E402

from spikegrad.neuron import _models, _pallas  # noqa: E402

PASSES = ("forward", "tangent", "bptt")
MODELS = tuple(_models.MODELS)
DTYPES = ("float32", "float64", "bfloat16", "float16")
#: Surrogates with exponentials, divisions, trigonometry and piecewise forms.
SURROGATES = {
    "multi_gaussian": (0.2, 4.0, 0.6, 0.7),
    "sigmoid": (3.0,),
    "s2nn": (3.0, 0.8, 1e-6),
    "squarewave_fourier_series": (3.0, 6.0),
    "slayer_grad": (2.0,),
    "piecewise_leaky_relu": (0.05, 0.8),
}
STRIDES = (1, 7, 16)
#: Neuron counts: blocks of 32, 128 and 256 (1, 2 and 4 warps), a partial last block each.
NEURONS = (3000, (1 << 17) + 7, (1 << 20) + 17)
MAX_REGISTERS = 128
#: Surrogates whose g' takes a sine or cosine, and the stack frame that
#: libdevice's range reduction for them needs (bytes).
TRIGONOMETRIC, TRIG_STACK = ("squarewave_fourier_series",), 32
#: Larger register budgets of models not yet tuned for the GPU (Gif's four
#: states and fourteen constants: 146-168 registers measured for its tangent
#: and BPTT), and the stack frame of the exponential-Euler models' float64
#: tangent and BPTT (48 bytes measured): still no spills.
MODEL_REGISTERS = {"gif": 168}
EXP_EULER, EXP_EULER_F64_STACK = ("coba_lif", "exp_if", "adex_if"), 48


def case(kind, model, dtype):
    """The settings of one kernel of the matrix (a Latin-square rotation)."""
    p, m, d = PASSES.index(kind), MODELS.index(model), DTYPES.index(dtype)
    names = tuple(SURROGATES)
    return dict(
        surrogate=names[(m + 3 * d + p) % len(names)],
        stride=STRIDES[(m + d) % 3],
        steps=1 if (m + d) % 6 == 1 else 1000,
        n=NEURONS[(m + 2 * d) % 3],
        hard=(m + d) % 2 == 0,
        ct_z=d % 2 == 0,
    )


CASES = list(itertools.product(PASSES, MODELS, DTYPES))


def test_matrix_covers():
    """Every pass meets every surrogate, stride, T, neuron count, reset, and
    (BPTT) state cotangents given and not."""
    for kind in PASSES:
        seen = [case(kind, m, d) for m in MODELS for d in DTYPES]
        assert {c["surrogate"] for c in seen} == set(SURROGATES), kind
        assert {c["stride"] for c in seen} == set(STRIDES), kind
        assert {c["steps"] for c in seen} == {1, 1000}, kind
        assert {c["n"] for c in seen} == set(NEURONS), kind
        assert {c["hard"] for c in seen} == {False, True}, kind
        assert {c["ct_z"] for c in seen} == {False, True}, kind
    # BPTT at T = 1000 with a stride > 1 (the recomputing loop) and of 1.
    bptt = [case("bptt", m, d) for m in MODELS for d in DTYPES]
    assert {c["stride"] for c in bptt if c["steps"] == 1000} == set(STRIDES)


def program(kind, model, dtype, c):
    """``(fn, args)``: one pass as a function of abstract arrays."""
    m = _models.model(model)
    S, C, T, n, stride = m.n_states, m.n_consts, c["steps"], c["n"], c["stride"]
    io = jnp.dtype(dtype)
    state = jnp.dtype(jnp.float32) if io.itemsize < 4 else io
    seq, vec = jax.ShapeDtypeStruct((T, n), io), jax.ShapeDtypeStruct((n,), state)
    states_seq = jax.ShapeDtypeStruct((T, n), state)
    rows = jax.ShapeDtypeStruct((-(-T // stride), n), state)
    kw = dict(model=model, surrogate=c["surrogate"], params=SURROGATES[c["surrogate"]], hard_reset=c["hard"])
    kw["stride"] = stride
    if kind == "forward":
        return (lambda x, z0, k: _pallas.forward(x, z0, k, keep=True, **kw)), (seq, (vec,) * S, (vec,) * C)
    if kind == "tangent":
        args = (seq, (vec,) * S, (vec,) * C, (rows,) * S, seq, (vec,) * S, (vec,) * C)
        return (lambda *a: _pallas.tangent(*a, **kw)), args
    ct_z = (states_seq,) * S if c["ct_z"] else (None,) * S

    def bptt(x, z0, k, saved, ct_spikes, ct_z):
        return _pallas.bptt(x, z0, k, saved, ct_spikes, ct_z, **kw)

    return bptt, (seq, (vec,) * S, (vec,) * C, (rows,) * S, seq, ct_z)


def lowered_kernels(fn, args, x64=False):
    with enable_x64() if x64 else _no_context(), cuda_target():
        lowered = jax.jit(fn).trace(*args).lower(lowering_platforms=("cuda",))
    return triton_ptx.kernels(lowered)


class _no_context:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def assert_fits(kernel, compiled, trigonometric, max_registers=MAX_REGISTERS, stack=0):
    """No spills, no local memory (but libdevice's trigonometric range
    reduction where g' takes a sine or cosine, and ``stack`` bytes where a
    model is allowed them), at most ``max_registers`` registers."""
    figures = (
        f"{kernel.name} (IR {triton_ptx.ir_hash(kernel)}, {kernel.num_warps} warps): "
        f"{compiled.registers} registers, spills {compiled.spill_stores}/{compiled.spill_loads} bytes, "
        f"stack {compiled.stack_frame} bytes, shared {compiled.shared} bytes"
    )
    assert compiled.spill_stores == 0 and compiled.spill_loads == 0, figures
    if trigonometric:
        # libdevice's sin and cos keep a 28-byte array on the stack for the
        # range reduction of |x| >= 105615 (Payne-Hanek); no other local memory.
        assert compiled.stack_frame <= max(TRIG_STACK, stack), figures
    elif stack:
        assert compiled.stack_frame <= stack, figures
    else:
        assert compiled.stack_frame == 0 and ".local" not in compiled.ptx, figures
    assert compiled.registers <= max_registers, figures


def pipelined(kind, c):
    """Whether the kernel reads every row of its time loop one step ahead."""
    return c["steps"] > 1 and (kind != "bptt" or c["stride"] == 1)


@pytest.mark.parametrize("kind, model, dtype", CASES, ids=["-".join(c) for c in CASES])
def test_kernel_compiles_for_sm90(kind, model, dtype):
    c = case(kind, model, dtype)
    fn, args = program(kind, model, dtype, c)
    (kernel,) = lowered_kernels(fn, args, x64=dtype == "float64")
    assert kernel.name == f"pallas_{model}_{kind}"
    state = jnp.float64 if dtype == "float64" else jnp.float32
    assert kernel.num_warps == _pallas.num_warps(_pallas.block_size(c["n"]), state)
    compiled = triton_ptx.compile_sm90(kernel)
    assert_fits(
        kernel,
        compiled,
        trigonometric=c["surrogate"] in TRIGONOMETRIC,
        max_registers=MODEL_REGISTERS.get(model, MAX_REGISTERS),
        stack=EXP_EULER_F64_STACK if model in EXP_EULER and dtype == "float64" else 0,
    )
    assert ".entry" in compiled.ptx and "ld.global" in compiled.ptx and "st.global" in compiled.ptx
    if pipelined(kind, c):
        computed = triton_ptx.computed_on_loaded_rows(triton_ptx.outer_loop(compiled.ptx))
        assert not computed, f"{kernel.name}: the time loop computes on rows loaded in the same iteration: {computed}"


def test_pipelined_cases_cover_every_pass_and_dtype():
    """The load-order check above runs for each pass with full- and
    half-precision rows (the half rows pass a conversion into the carry)."""
    checked = {(k, d) for k, m, d in CASES if pipelined(k, case(k, m, d))}
    for kind in PASSES:
        assert {d for k, d in checked if k == kind} >= {"float32", "bfloat16"}, kind


def test_unpipelined_loop_is_detected():
    """The load-order check fails for a loop that computes on the row it has
    just loaded (the form of the kernels before the rows were read ahead)."""
    ptx = """
$L__BB0_1:
	mov.u32 %r13, %r4;
	@%p1 ld.global.b32 { %r13 }, [ %rd18 + 0 ];
	fma.rn.f32 	%r22, %r6, %r13, %r5;
	@%p1 st.global.b32 [ %rd19 + 0 ], { %r22 };
	@%p4 bra 	$L__BB0_1;
"""
    assert triton_ptx.computed_on_loaded_rows(triton_ptx.outer_loop(ptx)) == ["fma.rn.f32 %r22, %r6, %r13, %r5"]
    ahead = ptx.replace("%r6, %r13, %r5", "%r6, %r30, %r5").replace("@%p4", "mov.b32 %r30, %r13;\n\t@%p4")
    assert triton_ptx.computed_on_loaded_rows(triton_ptx.outer_loop(ahead)) == []
