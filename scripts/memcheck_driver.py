"""The workload scripts/memcheck.sh runs under valgrind: every kernel path of
the extension, kept small because everything runs ~50x slower there.

Covers, for every native surrogate in spikegrad.surrogate: the Heaviside and
fused-gradient kernels in float16, bfloat16, float32 and float64; lengths 0,
1, odd, past the half-precision block (512), and above
the threading threshold (chunks over XLA's pool); forward mode, reverse mode
and vmap; the shim's error paths (unsupported dtype, size and dtype
mismatches, bad parameters, unknown surrogate); and concurrent calls.
Exits non-zero if any result is wrong (a memory error often shows as one).
"""

import threading

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import spikegrad  # noqa: E402
import spikegrad.surrogate as surrogate  # noqa: E402

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
    for name, case in cases.items():
        try:
            jax.block_until_ready(case())
            failures.append(f"{name}: accepted")
        except Exception as e:  # the error path itself is what is checked
            check(f"{name}: message", "spikegrad" in str(e))


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
    concurrent()
    print(f"memcheck driver: {len(NATIVE)} surrogates, {len(failures)} failures")
    for f in failures:
        print("FAIL", f)
    raise SystemExit(1 if failures else 0)
