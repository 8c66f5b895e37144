"""The fused neurons' three passes as Pallas kernels (GPU; interpret mode on CPU).

One kernel per pass walks the whole time loop: the grid runs over blocks of
neurons, and each program keeps its block's state in registers while a
``fori_loop`` over time reads one row of the block per step and writes one row
of the outputs. Each step's rows are loaded one step ahead and carried in the
loop, so a load's latency overlaps the previous step's arithmetic (only GPU
parallelism over neurons would hide it otherwise). The same functions run anywhere in interpret mode
(``interpret=True``), which is how they are tested on CPU.

The math is written once, in the model description (``_models``): the kernels
trace its ``u``/``step`` and the surrogate's ``g'`` (``_formulas``) inside the
kernel body. The tangent step is ``jax.jvp`` of one step and the BPTT step
``jax.vjp`` of one step, with the spike a Heaviside whose derivative is
``g'(u)`` (a ``custom_jvp``), so there is no hand-written copy of the
derivatives.

Signatures and semantics follow the neuron primitives (forward, tangent,
BPTT): arrays are time-major ``[T, *shape]``, float32 or float64, one dtype,
except that the sequences ``x``, ``dx``, ``ct_spikes`` and the results
``spikes``, ``dspikes``, ``ct_x`` may be float16 or bfloat16 with float32 for
the rest (widened as loaded, rounded once as stored);
states ``z0`` and constants ``c`` are ``[*shape]``; ``saved`` holds the
checkpoint rows (row ``j`` = the state after step ``min((j+1)*stride, T)``).

GPU backend: Triton (``jax.experimental.pallas.triton.CompilerParams``
selects it; jax 0.10 defaults to Mosaic GPU). Each step reads one contiguous
row of ``block`` neurons straight from global memory with Triton's masked
pointer loads, so ``T`` is unbounded and a partial last block needs no
padding. Mosaic GPU stages every ``[T, block]`` operand block whole in shared
memory and refuses at lowering what does not fit: two float32 ``[250, 128]``
blocks already exceed an H200's 227 KiB, and BPTT has four to six sequence
operands. BPTT with ``stride > 1`` recomputes each segment's states into a
scratch output of ``min(stride, T) - 1`` rows per state (global memory, a
small share of ``[T, n]``), since a register array cannot be indexed by a
loop counter.
"""

from __future__ import annotations

import math

import jax
import jax.extend.core as jex_core
import jax.numpy as jnp
import numpy as np
from jax import lax

from .._formulas import check_params, formula
from . import _models

__all__ = ["block_size", "num_warps", "forward", "tangent", "bptt"]

#: Neuron block per program: bounds for ``block_size``.
MIN_BLOCK, MAX_BLOCK = 32, 256
#: Programs wanted before the block grows past ``MIN_BLOCK`` (enough to fill
#: a large GPU several times over).
TARGET_PROGRAMS = 1024


def block_size(n: int) -> int:
    """Neurons per program: a power of 2 in ``[MIN_BLOCK, MAX_BLOCK]``, the
    largest that still gives ``TARGET_PROGRAMS`` programs, else the smallest."""
    b = MIN_BLOCK
    while b < MAX_BLOCK and -(-n // (2 * b)) >= TARGET_PROGRAMS:
        b *= 2
    return b


# ---- the step, written once -----------------------------------------------------


def _heaviside(u):
    # NaN -> 0, as the native kernels.
    return jnp.where(u >= 0, 1.0, 0.0).astype(u.dtype)


#: Call-like primitives whose inner jaxpr ``_eval_folded`` walks inline.
_INLINE = ("pjit", "jit", "closed_call", "core_call", "custom_jvp_call", "custom_vjp_call")


def _inner(eqn):
    if eqn.primitive.name not in _INLINE:
        return None
    for key in ("jaxpr", "call_jaxpr", "fun_jaxpr"):
        inner = eqn.params.get(key)
        if inner is not None:
            return inner
    return None


#: NumPy forms of the ops that parameter expressions use, for ``_eval_folded``.
_NUMPY_OPS = {
    "neg": np.negative,
    "abs": np.abs,
    "sign": np.sign,
    "sqrt": np.sqrt,
    "exp": np.exp,
    "exp2": np.exp2,
    "log": np.log,
    "log1p": np.log1p,
    "expm1": np.expm1,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "tanh": np.tanh,
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.divide,
    "rem": np.fmod,
    "max": np.maximum,
    "min": np.minimum,
    "pow": np.power,
    "integer_pow": lambda x, *, y: np.power(x, y),
    "square": np.square,
    "convert_element_type": lambda x, **_: x,
}


def _fold(eqn, ins):
    """The op of ``eqn`` on known scalars, as a NumPy scalar of its dtype:
    NumPy where it has the op (nothing is compiled, and no device is needed,
    also when lowering for a GPU this machine lacks), else jax at once."""
    (out,) = eqn.outvars
    dtype = out.aval.dtype
    ins = [np.asarray(a, v.aval.dtype) for a, v in zip(ins, eqn.invars)]
    op = _NUMPY_OPS.get(eqn.primitive.name)
    if op is not None:
        params = {"y": eqn.params["y"]} if eqn.primitive.name == "integer_pow" else {}
        with np.errstate(all="ignore"):
            return np.asarray(op(*ins, **params), dtype)[()]
    with jax.ensure_compile_time_eval():
        return np.asarray(eqn.primitive.bind(*ins, **eqn.params), dtype)[()]


def _eval_folded(jaxpr, consts, *args):
    """Evaluate ``jaxpr`` as ``jax.core.eval_jaxpr`` does, but compute every
    op whose operands are all known scalars (expressions of the surrogate's
    parameters, such as ``jnp.power(sigma, 2)``) right away, as a NumPy
    scalar: Triton's lowering takes no op whose operands are all literals,
    and a folded scalar enters the kernel as a literal."""
    env = {}

    def read(v):
        return v.val if isinstance(v, jex_core.Literal) else env[v]

    for v, a in zip(jaxpr.constvars, consts):
        env[v] = np.asarray(a)
    env.update(zip(jaxpr.invars, args))
    for eqn in jaxpr.eqns:
        ins = [read(v) for v in eqn.invars]
        inner = _inner(eqn)
        if inner is not None:
            outs = _eval_folded(inner.jaxpr, inner.consts, *ins)
        elif (
            not eqn.primitive.multiple_results
            and not any(isinstance(a, jax.core.Tracer) for a in ins)
            and eqn.outvars[0].aval.shape == ()
        ):
            outs = [_fold(eqn, ins)]
        else:
            params = eqn.primitive.get_bind_params(eqn.params)
            subfuns, params = params if isinstance(params, tuple) else ((), params)  # jax < 0.9: a pair
            outs = eqn.primitive.bind(*subfuns, *ins, **params)
            outs = outs if eqn.primitive.multiple_results else [outs]
        env.update(zip(eqn.outvars, outs))
    return [read(v) for v in jaxpr.outvars]


def _slope_fn(surrogate, params):
    """``u -> g'(u)`` in ``u``'s dtype, the parameters' own expressions folded."""
    f = formula(surrogate)

    def slope(u):
        closed = jax.make_jaxpr(lambda u: f(u, *params))(jax.ShapeDtypeStruct(u.shape, u.dtype))
        (g,) = _eval_folded(closed.jaxpr, closed.consts, u)
        return g.astype(u.dtype)

    return slope


def _spike_fn(surrogate, params):
    """Heaviside with the surrogate's ``g'(u)`` as its derivative."""
    slope = _slope_fn(surrogate, params)

    @jax.custom_jvp
    def spike(u):
        return _heaviside(u)

    @spike.defjvp
    def _spike_jvp(primals, tangents):
        (u,), (du,) = primals, tangents
        return _heaviside(u), slope(u) * du

    return spike


def _step_fn(m, spike, hard):
    """``F(c, z, x_t) -> (z', out)``: one step of model ``m``."""

    def step(c, z, xt):
        s = spike(m.u(c, z))
        z1 = tuple(m.step(c, z, xt, s, hard))
        return z1, spike(m.u(c, z1))

    return step


# ---- kernel plumbing --------------------------------------------------------------


def _pl():
    from jax.experimental import pallas as pl
    from jax.experimental.pallas import triton as plt

    return pl, plt


class _Rows:
    """Masked loads and stores of one block of neurons: the block's columns
    past ``n`` (the last block's padding) are never read or written."""

    def __init__(self, n, block, dtype):
        pl, self.plt = _pl()
        self.dtype = dtype
        cols = pl.program_id(0) * block + lax.broadcasted_iota(jnp.int32, (block,), 0)
        self.mask = cols < n

    @staticmethod
    def _at(ref, row):
        # A Python int row (an inlined loop) as a default-int scalar, as a loop
        # counter would be: interpret mode's discharge takes only arrays.
        return ref if row is None else ref.at[jnp.asarray(row, int)]

    def load(self, ref, row=None):
        r = self._at(ref, row)
        # Half-precision sequences are widened to the compute dtype as loaded.
        return self.plt.load(r, mask=self.mask, other=0).astype(self.dtype)

    def store(self, ref, value, row=None):
        r = self._at(ref, row)
        self.plt.store(r, value.astype(ref.dtype), mask=self.mask)


def _when(cond, fn):
    """``fn()`` (stores only) where ``cond`` holds."""
    pl, _ = _pl()
    pl.when(cond)(fn)


def _clamp(row, lo, hi):
    """``row`` limited to ``[lo, hi]``: a Python int for an inlined step."""
    if isinstance(row, int):
        return min(max(row, lo), hi)
    return jnp.clip(row, lo, hi)


def _loop(lo, hi, body, carry):
    """``fori_loop`` over static bounds; skipped when empty, inlined when one."""
    if hi - lo <= 0:
        return carry
    if hi - lo == 1:
        return body(lo, carry)
    return lax.fori_loop(lo, hi, body, carry)


def num_warps(block: int, dtype) -> int:
    """Warps per program: two neurons per thread (one for float64, whose
    values take two registers each), at most 4 warps (8 for float64), and
    at least one warp."""
    per_thread = 1 if jnp.dtype(dtype).itemsize == 8 else 2
    return max(1, min(4 * (2 // per_thread), block // (32 * per_thread)))


def _call(kernel, n, ins, outs, *, name, interpret):
    """``pallas_call`` over blocks of neurons. ``ins``/``outs``: (array or
    ShapeDtypeStruct, rows or None) pairs; rows None = a ``[n]`` vector."""
    pl, plt = _pl()
    block = block_size(n)
    # The compute dtype: the vectors' (states and constants), never half precision.
    dtype = max((a.dtype for a, _ in ins), key=lambda d: jnp.dtype(d).itemsize)

    def spec(rows):
        if rows is None:
            return pl.BlockSpec((block,), lambda i: (i,))
        return pl.BlockSpec((rows, block), lambda i: (0, i))

    call = pl.pallas_call(
        kernel,
        out_shape=[s for s, _ in outs],
        grid=(pl.cdiv(n, block),),
        in_specs=[spec(r) for _, r in ins],
        out_specs=[spec(r) for _, r in outs],
        interpret=interpret,
        compiler_params=plt.CompilerParams(num_warps=num_warps(block, dtype)),
        name=name,
    )
    return call(*(a for a, _ in ins))


def _check(x, z0, c, m, surrogate, params, stride):
    check_params(surrogate, params)
    if int(stride) != stride or stride < 1:
        raise ValueError(f"spikegrad.neuron: stride must be an int >= 1, got {stride!r}")
    if len(z0) != m.n_states or len(c) != m.n_consts:
        raise ValueError(
            f"spikegrad.neuron: model {m.name!r} takes {m.n_states} states and {m.n_consts} constants, "
            f"got {len(z0)} and {len(c)}"
        )
    io_dtype = jnp.dtype(x.dtype)
    if io_dtype not in (jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64):
        raise TypeError(
            "spikegrad.neuron: the Pallas kernels take float32 or float64 "
            f"(x may be float16 or bfloat16), got {io_dtype}"
        )
    dtype = jnp.dtype(jnp.float32) if io_dtype.itemsize < 4 else io_dtype
    for a in (*z0, *c):
        if a.dtype != dtype or a.shape != x.shape[1:]:
            raise TypeError(
                f"spikegrad.neuron: states and constants must be {dtype}{list(x.shape[1:])}, "
                f"got {a.dtype}{list(a.shape)}"
            )
    return x.shape[0], x.shape[1:], math.prod(x.shape[1:]), dtype


def _flat(arrays, n):
    return [a.reshape(n) for a in arrays]


def _seq(a, n):
    return a.reshape(a.shape[0], n)


# ---- forward ----------------------------------------------------------------------


def forward(x, z0, c, *, model, surrogate, params, hard_reset, stride, keep, interpret=False):
    """``(spikes, saved)``: the spikes ``[T, *shape]`` and, if ``keep``, the
    checkpoint rows ``[ceil(T/stride), *shape]`` per state (else ``(0,)``
    placeholders)."""
    m = _models.model(model)
    z0, c = tuple(z0), tuple(c)
    steps, shape, n, dtype = _check(x, z0, c, m, surrogate, params, stride)
    rows = -(-steps // stride)
    if not keep:
        placeholders = tuple(jnp.zeros((0,), dtype) for _ in range(m.n_states))
    if steps == 0 or n == 0:
        saved = tuple(jnp.zeros((rows, *shape), dtype) for _ in z0) if keep else placeholders
        return jnp.zeros(x.shape, x.dtype), saved
    S, C = m.n_states, m.n_consts
    step = _step_fn(m, _heaviside, hard_reset)
    block = block_size(n)

    def kernel(x_ref, *refs):
        z0_refs, c_refs, (spikes_ref, *saved_refs) = refs[:S], refs[S : S + C], refs[S + C :]
        io = _Rows(n, block, dtype)
        cs = tuple(io.load(r) for r in c_refs)

        def one(t, carry):
            z, xt = carry
            # The next step's row first: its load's latency overlaps this
            # step's arithmetic (the last step reloads its own row).
            x_next = io.load(x_ref, _clamp(t + 1, 0, steps - 1))
            z, out = step(cs, z, xt)
            io.store(spikes_ref, out, t)
            if saved_refs:  # at the end of each segment of `stride` steps, and at T

                def save():
                    for r, v in zip(saved_refs, z):
                        io.store(r, v, lax.div(t, stride))

                if stride == 1:
                    save()
                else:
                    _when((lax.rem(t, stride) == stride - 1) | (t == steps - 1), save)
            return z, x_next

        _loop(0, steps, one, (tuple(io.load(r) for r in z0_refs), io.load(x_ref, 0)))

    seq = jax.ShapeDtypeStruct((steps, n), x.dtype)
    outs = [(seq, steps)] + ([(jax.ShapeDtypeStruct((rows, n), dtype), rows)] * S if keep else [])
    ins = [(_seq(x, n), steps)] + [(a, None) for a in _flat(z0 + c, n)]
    spikes, *saved = _call(kernel, n, ins, outs, name=f"pallas_{model}_forward", interpret=interpret)
    spikes = spikes.reshape(x.shape)
    if not keep:
        return spikes, placeholders
    return spikes, tuple(s.reshape(rows, *shape) for s in saved)


# ---- tangent ----------------------------------------------------------------------


def tangent(x, z0, c, saved, dx, dz0, dc, *, model, surrogate, params, hard_reset, stride, interpret=False):
    """``(dspikes, dz)``: the forward pass linearized at ``(x, z0, c)`` applied
    to ``(dx, dz0, dc)``; ``dz`` = the tangents of every state sequence
    ``[T, *shape]``. The states are recomputed from ``x``, ``z0``, ``c`` as the
    kernel goes; ``saved`` is not read."""
    del saved  # the states are recomputed
    m = _models.model(model)
    z0, c, dz0, dc = tuple(z0), tuple(c), tuple(dz0), tuple(dc)
    steps, shape, n, dtype = _check(x, z0, c, m, surrogate, params, stride)
    _check(dx, dz0, dc, m, surrogate, params, stride)
    S, C = m.n_states, m.n_consts
    if steps == 0 or n == 0:
        return jnp.zeros(x.shape, x.dtype), tuple(jnp.zeros(x.shape, dtype) for _ in range(S))
    step = _step_fn(m, _spike_fn(surrogate, params), hard_reset)
    block = block_size(n)

    def kernel(x_ref, *refs):
        z0_refs, c_refs, refs = refs[:S], refs[S : S + C], refs[S + C :]
        dx_ref, dz0_refs, dc_refs, refs = refs[0], refs[1 : 1 + S], refs[1 + S : 1 + S + C], refs[1 + S + C :]
        dspikes_ref, dz_refs = refs[0], refs[1:]
        io = _Rows(n, block, dtype)
        cs = tuple(io.load(r) for r in c_refs)
        dcs = tuple(io.load(r) for r in dc_refs)

        def one(t, carry):
            z, dz, xt, dxt = carry
            following = _clamp(t + 1, 0, steps - 1)  # the next step's rows first (as the forward)
            x_next, dx_next = io.load(x_ref, following), io.load(dx_ref, following)
            (z, _), (dz, dout) = jax.jvp(step, (cs, z, xt), (dcs, dz, dxt))
            io.store(dspikes_ref, dout, t)
            for r, v in zip(dz_refs, dz):
                io.store(r, v, t)
            return z, dz, x_next, dx_next

        start = tuple(io.load(r) for r in z0_refs), tuple(io.load(r) for r in dz0_refs)
        _loop(0, steps, one, (*start, io.load(x_ref, 0), io.load(dx_ref, 0)))

    seq, states = jax.ShapeDtypeStruct((steps, n), x.dtype), jax.ShapeDtypeStruct((steps, n), dtype)
    ins = [(_seq(x, n), steps)] + [(a, None) for a in _flat(z0 + c, n)]
    ins += [(_seq(dx, n), steps)] + [(a, None) for a in _flat(dz0 + dc, n)]
    outs = [(seq, steps)] + [(states, steps)] * S
    dspikes, *dz = _call(kernel, n, ins, outs, name=f"pallas_{model}_tangent", interpret=interpret)
    return dspikes.reshape(x.shape), tuple(d.reshape(x.shape) for d in dz)


# ---- BPTT -------------------------------------------------------------------------


def _present(ct, seq_shape):
    """A state cotangent is absent when None or a ``(0,)`` placeholder."""
    return ct is not None and tuple(ct.shape) == tuple(seq_shape)


def bptt(x, z0, c, saved, ct_spikes, ct_z, *, model, surrogate, params, hard_reset, stride, interpret=False):
    """``(ct_x, ct_z0, ct_c)``: the transpose of the tangent pass, backward in
    time. ``ct_z`` entries are the cotangents of the state sequences
    ``[T, *shape]`` or None / ``(0,)`` placeholders for zero; ``ct_c`` is per
    neuron, summed over time. Each segment of ``stride`` steps is recomputed
    from its checkpoint (``z0`` for the first) and ``x``."""
    m = _models.model(model)
    z0, c, saved = tuple(z0), tuple(c), tuple(saved)
    steps, shape, n, dtype = _check(x, z0, c, m, surrogate, params, stride)
    S, C = m.n_states, m.n_consts
    rows = -(-steps // stride)
    if steps == 0 or n == 0:
        zero = jnp.zeros(shape, dtype)
        return jnp.zeros(x.shape, x.dtype), (zero,) * S, (zero,) * C
    if len(saved) != S or any(tuple(s.shape) != (rows, *shape) for s in saved):
        raise ValueError(
            f"spikegrad.neuron: BPTT needs the forward pass's checkpoints, {S} arrays [{rows}, *shape] "
            f"for stride {stride}; got {[tuple(s.shape) for s in saved]}"
        )
    ct_z = tuple(ct_z) if ct_z is not None else (None,) * S
    has = [_present(ct, x.shape) for ct in ct_z]
    ct_z_in = [ct for ct, h in zip(ct_z, has) if h]
    step = _step_fn(m, _spike_fn(surrogate, params), hard_reset)
    block = block_size(n)
    scratch_rows = min(stride, steps) - 1  # the longest segment's states but its checkpoint
    rows_saved = rows - 1  # the last checkpoint row

    def kernel(x_ref, *refs):
        z0_refs, c_refs, refs = refs[:S], refs[S : S + C], refs[S + C :]
        saved_refs, ct_spikes_ref, refs = refs[:S], refs[S], refs[S + 1 :]
        k = sum(has)
        ct_z_refs, refs = iter(refs[:k]), refs[k:]
        ct_z_refs = [next(ct_z_refs) if h else None for h in has]
        ct_x_ref, ct_z0_refs, ct_c_refs, scratch_refs = (
            refs[0],
            refs[1 : 1 + S],
            refs[1 + S : 1 + S + C],
            refs[1 + S + C :],
        )
        io = _Rows(n, block, dtype)
        cs = tuple(io.load(r) for r in c_refs)
        z0s = tuple(io.load(r) for r in z0_refs)

        def step_rows(t):
            """The rows step ``t`` reads: x, the spike cotangent, the state
            cotangents given (None for the others)."""
            ct_z_t = tuple(None if r is None else io.load(r, t) for r in ct_z_refs)
            return io.load(x_ref, t), io.load(ct_spikes_ref, t), ct_z_t

        def back(t, z_prev, lam, ct_c, row):
            """One step backward: ``lam`` is the cotangent of the state after
            step ``t``, ``row`` its ``step_rows(t)``; returns that of the state
            before it."""
            xt, ct_spikes_t, ct_z_t = row
            lam = tuple(v if ct is None else v + ct for v, ct in zip(lam, ct_z_t))
            _, vjp = jax.vjp(step, cs, z_prev, xt)
            ct_cs, lam, ct_xt = vjp((lam, ct_spikes_t))
            io.store(ct_x_ref, ct_xt, t)
            return tuple(lam), tuple(a + b for a, b in zip(ct_c, ct_cs))

        def checkpoint(k):
            """The state before segment ``k``: its checkpoint, z0 for the first."""
            return tuple(jnp.where(k > 0, io.load(r, _clamp(k - 1, 0, rows_saved)), z) for r, z in zip(saved_refs, z0s))

        def one(j, carry):
            # Every step runs this one body, whatever the stride, so the
            # results do not depend on it.
            t = steps - 1 - j
            lam, ct_c, z_ck, row, z_pre = carry
            # The next (earlier) step's rows first: their loads' latency
            # overlaps this step's arithmetic (step 0 reloads its own).
            earlier = _clamp(t - 1, 0, steps - 1)
            row_next = step_rows(earlier)
            if not scratch_refs:  # stride 1 (every state saved), or T = 1
                z_prev, z_pre = z_pre, checkpoint(earlier)
            else:
                k = lax.div(t, stride)  # t >= 0: lax's truncating division is floor division
                i = t - k * stride

                def state_before(i, z_ck):
                    # Scratch row i - 1 holds the state after step k*stride + i - 1.
                    return tuple(
                        jnp.where(i > 0, io.load(r, jnp.maximum(i - 1, 0)), z) for r, z in zip(scratch_refs, z_ck)
                    )

                def recompute():
                    # Entering segment k from its end: its states after steps
                    # k*stride .. t-1 into the scratch rows 0 .. i-1, each
                    # step's x row loaded one step ahead (as the time loop).
                    ck = checkpoint(k)
                    last = jnp.maximum(i - 1, 0)

                    def fill(r, carry):
                        z, xr = carry
                        x_next = io.load(x_ref, k * stride + jnp.minimum(r + 1, last))
                        z, _ = step(cs, z, xr)
                        for ref, v in zip(scratch_refs, z):
                            io.store(ref, v, r)
                        return z, x_next

                    lax.fori_loop(0, i, fill, (ck, io.load(x_ref, k * stride)))
                    return ck, state_before(i, ck)  # this step's state: just written

                # Within a segment, the state this step needs was read ahead
                # by the step after it (z_pre); a segment's last step
                # recomputes the segment first.
                z_ck, z_prev = lax.cond((i == stride - 1) | (t == steps - 1), recompute, lambda: (z_ck, z_pre))
                z_pre = state_before(i - 1, z_ck)  # the next step's, when in this segment
            lam, ct_c = back(t, z_prev, lam, ct_c, row)
            return lam, ct_c, z_ck, row_next, z_pre

        zeros = jnp.zeros((block,), dtype)
        # Each step's state before it is read one step ahead: the checkpoint
        # row at stride 1, else the scratch row (a segment's last step, which
        # recomputes the segment, reads its own after the recomputation).
        z_pre = z0s if scratch_refs else checkpoint(steps - 1)
        start = ((zeros,) * S, (zeros,) * C, z0s, step_rows(steps - 1), z_pre)
        lam, ct_c, *_ = _loop(0, steps, one, start)
        for r, v in zip(ct_z0_refs, lam):
            io.store(r, v)
        for r, v in zip(ct_c_refs, ct_c):
            io.store(r, v)

    seq = jax.ShapeDtypeStruct((steps, n), x.dtype)
    vec = jax.ShapeDtypeStruct((n,), dtype)
    ins = [(_seq(x, n), steps)] + [(a, None) for a in _flat(z0 + c, n)]
    ins += [(_seq(s, n), rows) for s in saved] + [(_seq(ct_spikes, n), steps)]
    ins += [(_seq(ct, n), steps) for ct in ct_z_in]
    outs = [(seq, steps)] + [(vec, None)] * (S + C)
    if scratch_rows:
        outs += [(jax.ShapeDtypeStruct((scratch_rows, n), dtype), scratch_rows)] * S
    ct_x, *rest = _call(kernel, n, ins, outs, name=f"pallas_{model}_bptt", interpret=interpret)
    ct_z0 = tuple(v.reshape(shape) for v in rest[:S])
    ct_c = tuple(v.reshape(shape) for v in rest[S : S + C])
    return ct_x.reshape(x.shape), ct_z0, ct_c
