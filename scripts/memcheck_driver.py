"""The workload scripts/memcheck.sh runs under valgrind: every kernel path of
the extension, kept small because everything runs ~50x slower there.

Covers, for every native surrogate in spikegrad.surrogate: the Heaviside and
fused-gradient kernels in float16, bfloat16, float32 and float64; lengths 0,
1, odd, past the half-precision block (512), and above
the threading threshold (chunks over XLA's pool); forward mode, reverse mode
and vmap; the shim's error paths (unsupported dtype, size and dtype
mismatches, bad parameters, unknown surrogate); and concurrent calls. And
the fused LIF's three passes (forward with and without the potentials,
tangent, BPTT with and without a potential cotangent) in float32, float64
and bfloat16, soft and hard reset, for no steps, no neurons, one neuron,
past a 2048-neuron block and over the thread pool, with its error paths.
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
import spikegrad.surrogate as surrogate  # noqa: E402
from spikegrad.neuron import lif  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers.lif_reference import PARAMS as LIF_PARAMS  # noqa: E402
from helpers.lif_reference import numpy_lif  # noqa: E402

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
    params = dict(LIF_PARAMS, spk_fun=spikegrad.MultiGaussianGrad())
    rng = np.random.default_rng(3)
    shapes = [(0, 5), (4, 0), (3, 1), (5, 2051), (4, 3 * 8192 + 5)]  # last: 2^15/T neurons a chunk
    for hard in (False, True):
        reset = "hard" if hard else "soft"
        f = lambda x, v0: lif(x, v0, spk_reset=reset, return_v=True, **params)  # noqa: E731
        for dtype in (jnp.float32, jnp.float64, jnp.bfloat16):
            for shape in shapes:
                what = f"lif {reset} {dtype.__name__} {shape}"
                x = jnp.asarray(rng.uniform(-0.5, 3.0, shape), dtype)
                v0 = jnp.asarray(rng.uniform(-0.3, 1.2, shape[1:]), dtype)
                spikes, v = f(x, v0)
                only = lif(x, v0, spk_reset=reset, **params)
                check(f"{what} spikes without v", np.asarray(only).tobytes() == np.asarray(spikes).tobytes())
                if dtype == jnp.float64:
                    want_s, want_v = numpy_lif(x, v0, **LIF_PARAMS, hard=hard)
                    check(f"{what} spikes", np.array_equal(np.asarray(spikes), want_s))
                    check(f"{what} v", np.allclose(np.asarray(v), want_v, rtol=1e-12, atol=1e-12))
                # <jvp(t), c> == <t, vjp(c)>: the BPTT pass is the tangent pass's transpose.
                tx, tv = jnp.cos(x), jnp.sin(v0)
                _, (ds, dv) = jax.jvp(f, (x, v0), (tx, tv))
                cs, cv = jnp.sin(x), jnp.cos(x).astype(v.dtype)  # halves keep v in float32
                gx, gv = jax.vjp(f, x, v0)[1]((cs, cv))
                lhs = float(jnp.vdot(ds.astype(jnp.float64), cs) + jnp.vdot(dv.astype(jnp.float64), cv))
                rhs = float(jnp.vdot(tx.astype(jnp.float64), gx) + jnp.vdot(tv.astype(jnp.float64), gv))
                tol = 1e-9 if dtype == jnp.float64 else 2e-2 if dtype == jnp.bfloat16 else 1e-4
                check(f"{what} transpose", abs(lhs - rhs) <= tol * max(1.0, abs(lhs)))
                g = jax.grad(lambda a, b: lif(a, b, spk_reset=reset, **params).sum(), (0, 1))(x, v0)
                check(f"{what} grad", all(np.isfinite(np.asarray(a, np.float64)).all() for a in g))
    p = dict(
        surrogate="multi_gaussian", params=np.array([0.15, 6.0, 0.5, 0.5]), lif=np.array([0.9, 0.0, 0.1, 1.0, 0.0])
    )
    seq = lambda *s: jax.ShapeDtypeStruct(s, jnp.float32)  # noqa: E731
    cases = {
        "lif steps": lambda: jax.ffi.ffi_call("spikegrad_lif_forward", (seq(3, 4), seq(3, 4)))(
            jnp.ones((3, 4)), jnp.ones(5), hard_reset=False, **p
        ),
        "lif output": lambda: jax.ffi.ffi_call("spikegrad_lif_forward", (seq(3, 4), seq(2, 4)))(
            jnp.ones((3, 4)), jnp.ones(4), hard_reset=False, **p
        ),
        "lif dtype": lambda: jax.ffi.ffi_call("spikegrad_lif_bptt", (seq(3, 4), seq(4)))(
            jnp.ones((3, 4)),
            jnp.ones(4),
            jnp.ones((3, 4), jnp.float16),
            jnp.ones((3, 4)),
            has_ct_v=True,
            hard_reset=False,
            **p,
        ),
        "lif params": lambda: jax.ffi.ffi_call("spikegrad_lif_forward", (seq(3, 4), seq(3, 4)))(
            jnp.ones((3, 4)), jnp.ones(4), hard_reset=False, **{**p, "lif": np.array([2.0, 0, 0, 1, 0])}
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
