"""The workload scripts/memcheck.sh runs under valgrind: every kernel path of
the extension, kept small because everything runs ~50x slower there.

Covers, for every native surrogate in spikegrad.surrogate: the Heaviside and
fused-gradient kernels in float16, bfloat16, float32 and float64; lengths 0,
1, odd, past the half-precision block (512), and above
the threading threshold (chunks over XLA's pool); forward mode, reverse mode
and vmap; the shim's error paths (unsupported dtype, size and dtype
mismatches, bad parameters, unknown surrogate); and concurrent calls. And
every fused neuron model's three passes (forward with and without the
states, tangent, BPTT with and without state cotangents, with checkpoints
every step and every 3 steps, scalar and per-neuron parameters) in float32
and float64 (and bfloat16 for LIF), soft and hard reset, for no steps, no neurons, one
neuron, past a 2048-neuron block and over the thread pool, with the error
paths of the neuron targets.
Exits non-zero if any result is wrong (a memory error often shows as one).
"""

import sys
import threading
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import spikegrad  # noqa: E402
import spikegrad.neuron  # noqa: E402
import spikegrad.surrogate as surrogate  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers.neuron_reference import MODELS, PARAMS, X_SCALE, Z0_NAMES, numpy_run, per_neuron  # noqa: E402

spikegrad.set_lowering("native")  # every call through the Rust kernels, at every size

CHUNK = 1 << 15
SIZES = [0, 1, 7, 513, 3 * CHUNK + 5]
DTYPES = [jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64]
NATIVE = [
    getattr(surrogate, n)()
    for n in surrogate.__all__
    if isinstance(getattr(surrogate, n), type)
    and issubclass(getattr(surrogate, n), surrogate.NativeSurrogate)
    and getattr(surrogate, n) is not surrogate.NativeSurrogate
]
failures = []


def check(what, ok):
    if not ok:
        failures.append(what)


def kernels():
    for f in NATIVE:
        for dtype in DTYPES:
            for n in SIZES:
                x = jnp.asarray(np.linspace(-4, 4, n), dtype)
                t = jnp.ones(n, dtype)
                y = f(x)
                check(
                    f"{f} {dtype} {n} step", np.array_equal(np.asarray(y, np.float64), (np.asarray(x, np.float64) >= 0))
                )
                g = jax.vjp(f, x)[1](t)[0]
                _, ty = jax.jvp(f, (x,), (t,))
                check(f"{f} {dtype} {n} vjp", np.isfinite(np.asarray(g, np.float64)).all())
                check(f"{f} {dtype} {n} jvp", np.asarray(g).tobytes() == np.asarray(ty).tobytes())
        xb = jnp.asarray(np.linspace(-2, 2, 3 * 65), jnp.float32).reshape(3, 65)
        gb = jax.vmap(jax.grad(lambda v: f(v).sum()))(xb)
        check(f"{f} vmap", gb.shape == xb.shape)


def refused(cases):
    """Each case must raise an error that names spikegrad."""
    for name, case in cases.items():
        try:
            jax.block_until_ready(case())
            failures.append(f"{name}: accepted")
        except Exception as e:  # the error path itself is what is checked
            check(f"{name}: message", "spikegrad" in str(e))


def errors():
    p = np.array([0.15, 6.0, 0.5, 0.5])
    f32 = lambda *s: jax.ShapeDtypeStruct(s, jnp.float32)  # noqa: E731
    cases = {
        "int32 step": lambda: jax.ffi.ffi_call("spikegrad_heaviside", jax.ShapeDtypeStruct((5,), jnp.int32))(
            jnp.arange(5, dtype=jnp.int32)
        ),
        "size mismatch": lambda: jax.ffi.ffi_call("spikegrad_surrogate_grad", f32(3 * CHUNK))(
            jnp.ones(3 * CHUNK), jnp.ones(3 * CHUNK - 1), surrogate="multi_gaussian", params=p
        ),
        "dtype mismatch": lambda: jax.ffi.ffi_call("spikegrad_surrogate_grad", f32(4))(
            jnp.ones(4, jnp.float32), jnp.ones(4, jnp.float16), surrogate="multi_gaussian", params=p
        ),
        "bad params": lambda: jax.ffi.ffi_call("spikegrad_surrogate_grad", f32(4))(
            jnp.ones(4, jnp.float32), jnp.ones(4, jnp.float32), surrogate="multi_gaussian", params=-p
        ),
        "unknown surrogate": lambda: jax.ffi.ffi_call("spikegrad_surrogate_grad", f32(4))(
            jnp.ones(4, jnp.float32), jnp.ones(4, jnp.float32), surrogate="nope", params=p
        ),
    }
    refused(cases)


def neurons():
    """Every model's three passes: forward (with and without the states, with
    checkpoints every few steps), tangent (jvp), BPTT (with and without state
    cotangents, with checkpoints), per-neuron parameters."""
    rng = np.random.default_rng(3)
    shapes = [(0, 5), (4, 0), (3, 1), (5, 2051), (4, 3 * 8192 + 5)]  # last: 2^15/T neurons a chunk
    for model in MODELS:
        fn = getattr(spikegrad.neuron, model)
        for hard in (False, True):
            reset = "hard" if hard else "soft"
            dtypes = (jnp.float32, jnp.float64, jnp.bfloat16) if model == "lif" else (jnp.float32, jnp.float64)
            for dtype in dtypes:
                for shape in shapes:
                    what = f"{model} {reset} {dtype.__name__} {shape}"
                    x = jnp.asarray(rng.uniform(-0.5, X_SCALE[model], shape), dtype)
                    z0 = tuple(jnp.asarray(rng.uniform(-0.3, 1.2, shape[1:]), dtype) for _ in Z0_NAMES[model])
                    params = per_neuron(model, shape[1:]) if shape[1] == 2051 else PARAMS[model]
                    kw = dict(params, spk_fun=spikegrad.MultiGaussianGrad(), spk_reset=reset)

                    def f(x, z0, kw=kw, fn=fn):
                        return fn(x, *z0, **kw, return_states=True)

                    spikes, states = f(x, z0)
                    only = fn(x, *z0, **kw)
                    check(f"{what} spikes without states", np.asarray(only).tobytes() == np.asarray(spikes).tobytes())
                    if dtype == jnp.float64:
                        want_s, want_z = numpy_run(model, x, z0, params, hard=hard)
                        check(f"{what} spikes", np.array_equal(np.asarray(spikes), want_s))
                        for a, b in zip(states, want_z):
                            check(f"{what} states", np.allclose(np.asarray(a), b, rtol=1e-12, atol=1e-12))
                    # <jvp(t), c> == <t, vjp(c)>: the BPTT pass is the tangent pass's transpose.
                    t = (jnp.cos(x), tuple(jnp.sin(z) for z in z0))
                    _, (ds, dz) = jax.jvp(f, (x, z0), t)
                    c = (jnp.sin(x), tuple(jnp.cos(x).astype(z.dtype) for z in states))  # halves: states in float32
                    gx, gz = jax.vjp(f, x, z0)[1](c)
                    dot = lambda a, b: float(jnp.vdot(jnp.asarray(a, jnp.float64), jnp.asarray(b, jnp.float64)))  # noqa: E731
                    lhs = dot(ds, c[0]) + sum(dot(a, b) for a, b in zip(dz, c[1]))
                    rhs = dot(t[0], gx) + sum(dot(a, b) for a, b in zip(t[1], gz))
                    tol = 1e-9 if dtype == jnp.float64 else 2e-2 if dtype == jnp.bfloat16 else 1e-4
                    check(f"{what} transpose", abs(lhs - rhs) <= tol * max(1.0, abs(lhs)))
                    for k in (1, 3) if dtype == jnp.float32 else (3,):
                        g = jax.grad(lambda a, b, k=k: fn(a, *b, **kw, save_every=k).sum(), (0, 1))(x, z0)
                        check(
                            f"{what} grad every {k}",
                            all(np.isfinite(np.asarray(a, np.float64)).all() for a in jax.tree.leaves(g)),
                        )
    attrs = dict(
        model="lif",
        surrogate="multi_gaussian",
        params=np.array([0.15, 6.0, 0.5, 0.5]),
        hard_reset=False,
        stride=np.int64(1),
    )
    seq = lambda *s: jax.ShapeDtypeStruct(s, jnp.float32)  # noqa: E731
    c = [jnp.full(4, v) for v in (0.9, 0.0, 0.1, 1.0, 0.0)]
    forward = lambda out, *ops, **kw: jax.ffi.ffi_call("spikegrad_neuron_forward", out)(*ops, **{**attrs, **kw})  # noqa: E731
    cases = {
        "neuron steps": lambda: forward((seq(3, 4), seq(3, 4)), jnp.ones((3, 4)), jnp.ones(5), *c),
        "neuron output": lambda: forward((seq(3, 4), seq(2, 4)), jnp.ones((3, 4)), jnp.ones(4), *c),
        "neuron constants": lambda: forward((seq(3, 4), seq(3, 4)), jnp.ones((3, 4)), jnp.ones(4), *c[:4]),
        "neuron model": lambda: forward((seq(3, 4), seq(3, 4)), jnp.ones((3, 4)), jnp.ones(4), *c, model="nope"),
        "neuron stride": lambda: forward((seq(3, 4), seq(3, 4)), jnp.ones((3, 4)), jnp.ones(4), *c, stride=np.int64(0)),
        "neuron dtype": lambda: jax.ffi.ffi_call("spikegrad_neuron_bptt", (seq(3, 4), *[seq(4)] * 6))(
            jnp.ones((3, 4)),
            jnp.ones(4),
            *c,
            jnp.ones((3, 4)),
            jnp.ones((3, 4), jnp.float16),
            jnp.ones((3, 4)),
            **attrs,
        ),
    }
    refused(cases)


def concurrent():
    f = spikegrad.MultiGaussianGrad()
    bwd = jax.jit(lambda v, c: jax.vjp(f, v)[1](c)[0])
    x = jnp.asarray(np.linspace(-3, 3, 3 * CHUNK + 5), jnp.float32)
    serial = np.asarray(bwd(x, x)).tobytes()
    results = []
    threads = [threading.Thread(target=lambda: results.append(np.asarray(bwd(x, x)).tobytes())) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    check("concurrent", len(results) == 4 and all(r == serial for r in results))


if __name__ == "__main__":
    kernels()
    errors()
    neurons()
    concurrent()
    print(f"memcheck driver: {len(NATIVE)} surrogates, {len(failures)} failures")
    for f in failures:
        print("FAIL", f)
    raise SystemExit(1 if failures else 0)
