"""The correctness run: the fused neurons' Pallas kernels and the surrogates
on the device against the CPU (the Rust kernels) and float64 NumPy.

Sections, in order of importance:

``neurons``     every model (LIF, ALIF, CubaLIF), soft and hard reset, through
                the public functions under the ``pallas`` setting: spikes and
                states (forward), a JVP w.r.t. the input (tangent), and the
                gradient of a loss on the spikes *and the returned states*
                w.r.t. the input, the initial states and ``tau`` (BPTT, with
                state cotangents), at ``save_every`` 16 with T = 100 (not a
                multiple of 16) and at ``save_every`` 1. Neuron counts leave a
                partial last block; float32, one float64 and two bfloat16
                cases, and N = 2^20 (blocks of 256, 4 warps). Each against
                the CPU program, the forward also against NumPy in float64.
``surrogates``  a surrogate's compiled device code holds no spikegrad custom
                call; forward, vjp and jvp of two surrogates on the device
                against the CPU custom calls, braintools and NumPy in float64,
                for float32, bfloat16 and float16.
"""

from __future__ import annotations

import dataclasses

import braintools.surrogate as bt
import jax
import jax.numpy as jnp
import numpy as np
from helpers.family import reference
from helpers.neuron_reference import PARAMS, X_SCALE, Z0_NAMES, numpy_run

import spikegrad.neuron as neuron
import spikegrad.surrogate as sg

from .common import Run, pallas, x64


@dataclasses.dataclass(frozen=True)
class Case:
    model: str
    hard: bool
    dtype: str
    steps: int
    shape: tuple
    save_every: int = 16

    def label(self) -> str:
        n = int(np.prod(self.shape))
        return (
            f"{self.model:8s} {'hard' if self.hard else 'soft'} {self.dtype:8s} T={self.steps} N={n} "
            f"K={self.save_every}"
        )


def cases(dry: bool) -> list[Case]:
    """Shapes with a partial last block (7 x 1001 = 7007: blocks of 32)."""
    steps, shape = (20, (3, 45)) if dry else (100, (7, 1001))
    big = (300,) if dry else (1 << 20,)
    out = [Case(m, h, "float32", steps, shape) for m in PARAMS for h in (False, True)]
    out += [
        Case("alif", True, "float64", steps, shape),
        Case("lif", False, "bfloat16", steps, shape),
        Case("cuba_lif", True, "bfloat16", steps, shape),
        Case("alif", False, "float32", steps, big),
    ]
    return out


#: Spike mismatches allowed between the device and the CPU (a potential
#: within rounding of the threshold can fall either way, and the neuron's
#: trajectory differs from there on), and the error allowed in every other
#: output over the neurons whose spike trains agree, relative to the output's
#: largest magnitude (bfloat16: the gradient w.r.t. x is rounded to bfloat16).
MISMATCH = {"float32": 1e-4, "bfloat16": 1e-4, "float64": 0.0}
RTOL = {"float32": 1e-4, "bfloat16": 2.0**-7, "float64": 1e-9}
SPIKE = dict(h=0.2, s=4.0, sigma=0.6, scale=0.7)


def program(case: Case):
    """jit of ``(spikes, states, grads at save_every K, grads at 1, jvp)``."""
    names, params = Z0_NAMES[case.model], PARAMS[case.model]
    fn = getattr(neuron, case.model)
    spk = sg.MultiGaussianGrad(**SPIKE)
    reset = "hard" if case.hard else "soft"

    def call(x, z0, tau, **kw):
        return fn(x, **dict(zip(names, z0)), **{**params, "tau": tau}, spk_fun=spk, spk_reset=reset, **kw)

    def run(x, z0, w, w_states, dx):
        spikes, states = call(x, z0, params["tau"], return_states=True)

        def loss(x, z0, tau, save_every):
            s, zs = call(x, z0, tau, save_every=save_every, return_states=True)
            return jnp.sum(w * s.astype(w.dtype)) + jnp.sum(w_states * zs[0])

        grads_k = jax.grad(loss, argnums=(0, 1, 2))(x, z0, params["tau"], case.save_every)
        grads_1 = jax.grad(loss, argnums=(0, 1, 2))(x, z0, params["tau"], 1)
        _, tangent = jax.jvp(lambda x: call(x, z0, params["tau"]), (x,), (dx,))
        return spikes, states, grads_k, grads_1, tangent

    return jax.jit(run)


def inputs(case: Case, seed: int):
    rng = np.random.default_rng(seed)
    names = Z0_NAMES[case.model]
    state = "float64" if case.dtype == "float64" else "float32"
    x = (X_SCALE[case.model] * rng.uniform(-0.2, 1.0, (case.steps, *case.shape))).astype(case.dtype)
    z0 = tuple(rng.uniform(-0.2, 1.0 if i == 0 else 0.5, case.shape).astype(state) for i in range(len(names)))
    w = rng.normal(size=x.shape).astype(state)
    w_states = rng.normal(size=x.shape).astype(state)
    dx = rng.normal(size=x.shape).astype(case.dtype)
    return x, z0, w, w_states, dx


def _f64(a):
    return np.asarray(a, np.float64)


def compare(got, want, dtype: str) -> dict:
    """Spike mismatches, and the largest relative error of every other output
    over the neurons whose spike trains agree (the scalar ``tau`` gradient
    only when all agree)."""
    agree = np.all(got[0] == want[0], axis=0)
    mismatch = float(np.mean(got[0] != want[0]))
    outputs = {f"state{i}": (a, b) for i, (a, b) in enumerate(zip(got[1], want[1]))}
    for tag, g, w in (("K", got[2], want[2]), ("1", got[3], want[3])):
        outputs[f"grad_x_{tag}"] = (g[0], w[0])
        outputs.update({f"grad_z0_{i}_{tag}": (a, b) for i, (a, b) in enumerate(zip(g[1], w[1]))})
    outputs["jvp"] = (got[4], want[4])
    errors = {}
    for name, (a, b) in outputs.items():
        a, b = _f64(a), _f64(b)
        mask = np.broadcast_to(agree, a.shape)
        # A model that runs away (ExpIF/AdExIF past a soft reset) gives inf or
        # NaN on both sides: equal there, compared where both are finite.
        finite = np.isfinite(a) & np.isfinite(b)
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        if np.any(mask & ~finite & ~same):
            errors[name] = float("inf")
            continue
        mask = mask & finite
        scale = max(float(np.max(np.abs(b[mask]))) if mask.any() else 0.0, 1e-30)
        errors[name] = float(np.max(np.abs(a - b)[mask])) / scale if mask.any() else 0.0
    if agree.all():
        for tag, i in (("K", 2), ("1", 3)):
            a, b = float(got[i][2]), float(want[i][2])
            same = a == b or (np.isnan(a) and np.isnan(b))  # a run-away model: inf or NaN on both sides
            errors[f"grad_tau_{tag}"] = 0.0 if same else abs(a - b) / max(abs(b), 1e-30)
    ok = mismatch <= MISMATCH[dtype] and all(e <= RTOL[dtype] for e in errors.values())
    return dict(spike_mismatch=mismatch, rel_errors=errors, ok=bool(ok))


def against_numpy(case: Case, args, got) -> float:
    """Largest spike mismatch share of the device's forward against NumPy."""
    x, z0 = args[0], args[1]
    spikes, _ = numpy_run(case.model, _f64(x), tuple(_f64(z) for z in z0), PARAMS[case.model], case.hard)
    return float(np.mean(_f64(got[0]) != spikes))


def neurons(run: Run, rows: list) -> bool:
    ok = True
    for i, case in enumerate(cases(run.dry)):
        if run.over():
            run.skip(f"neurons {case.label()}")
            continue
        with x64(case.dtype == "float64"):
            args = inputs(case, seed=i)
            prog = program(case)
            want = jax.device_get(prog(*jax.device_put(args, run.cpu)))
            with pallas():
                on_device = jax.device_put(args, run.device)
                lowered = prog.lower(*on_device)  # one lowering: its text read, compiled and run
                text = lowered.as_text()
                got = jax.device_get(lowered.compile()(*on_device))
        row = dict(case=dataclasses.asdict(case), **compare(got, want, case.dtype))
        row["numpy_spike_mismatch"] = against_numpy(case, args, got) if np.prod(case.shape) <= 1 << 16 else None
        if row["numpy_spike_mismatch"] is not None:
            row["ok"] &= row["numpy_spike_mismatch"] <= max(MISMATCH[case.dtype], 1e-3)
        if run.device.platform == "gpu":  # the program calls the Triton kernels
            row["triton_kernels"] = text.count("__gpu$xla.gpu.triton")
            row["ok"] &= row["triton_kernels"] >= 3
        rows.append(row)
        ok &= row["ok"]
        worst = max(row["rel_errors"], key=row["rel_errors"].get)
        print(
            f"{case.label()}  spike mismatch {row['spike_mismatch']:.1e}"
            f" (NumPy {row['numpy_spike_mismatch'] if row['numpy_spike_mismatch'] is not None else '-'})"
            f"  max rel err {row['rel_errors'][worst]:.1e} ({worst})  " + ("ok" if row["ok"] else "FAILED")
        )
    return ok


# ---- surrogates ------------------------------------------------------------------

SURROGATES = {
    "MultiGaussianGrad": dict(h=0.2, s=4.0, sigma=0.6, scale=0.7),
    "GaussianGrad": dict(sigma=0.4, alpha=0.9),
}
#: dtype -> (rtol, atol) between two float32-widened computations rounded once;
#: float32 as tests/test_mgg_values.py.
TOLERANCE = {"float32": (4e-6, 2e-6), "bfloat16": (2.0**-7, 1e-6), "float16": (2.0**-10, 1e-6)}


def _functions(spike):
    return {
        "forward": jax.jit(lambda x: spike(x)),
        "vjp": jax.jit(lambda x, ct: jax.vjp(spike, x)[1](ct)[0]),
        "jvp": jax.jit(lambda x, t: jax.jvp(spike, (x,), (t,))[1]),
    }


def _run_all(fns, x, w):
    return {
        "forward": _f64(fns["forward"](x)),
        "vjp": _f64(fns["vjp"](x, w)),
        "jvp": _f64(fns["jvp"](x, w)),
    }


def surrogates(run: Run, rows: list) -> bool:
    n = 1 << (12 if run.dry else 20)
    ok = True
    if run.device.platform == "gpu":
        spike = sg.MultiGaussianGrad()
        x = jax.device_put(jnp.ones(16), run.device)
        text = jax.jit(lambda x: jax.vjp(spike, x)[1](x)[0]).lower(x).compile().as_text()
        clean = "spikegrad_" not in text
        rows.append(dict(device_code_has_no_spikegrad_custom_call=clean))
        print(f"compiled device code free of spikegrad custom calls: {clean}")
        ok &= clean
    rng = np.random.default_rng(5)
    x_np = rng.normal(scale=1.5, size=n)
    x_np[:4] = [0.0, -0.0, np.nan, -1e-30]
    w_np = rng.normal(size=n)
    for name, params in SURROGATES.items():
        ours = _functions(getattr(sg, name)(**params))
        theirs = _functions(getattr(bt, name)(**params))
        for dtype, (rtol, atol) in TOLERANCE.items():
            x_h, w_h = (np.asarray(jnp.asarray(a, dtype)) for a in (x_np, w_np))
            on = {k: jax.device_put((x_h, w_h), d) for k, d in (("device", run.device), ("cpu", run.cpu))}
            got = _run_all(ours, *on["device"])
            cpu = _run_all(ours, *on["cpu"])
            bt_got = _run_all(theirs, *on["device"])
            x64_, w64 = _f64(x_h), _f64(w_h)
            slope = w64 * reference(name, x64_, params)
            checks = {
                "forward_eq_cpu": np.array_equal(got["forward"], cpu["forward"], equal_nan=True),
                "forward_eq_step": np.array_equal(got["forward"], (x64_ >= 0).astype(np.float64)),
                "forward_eq_braintools": np.array_equal(got["forward"], bt_got["forward"], equal_nan=True),
            }
            # braintools computes half precision in half precision; spikegrad
            # widens to float32 and rounds once: its gradients compared in float32 only.
            refs = {"cpu": cpu, "numpy": None} | ({"braintools": bt_got} if dtype == "float32" else {})
            for mode in ("vjp", "jvp"):
                for ref_name, ref in refs.items():
                    want = slope if ref is None else ref[mode]
                    checks[f"{mode}_vs_{ref_name}"] = bool(
                        np.allclose(got[mode], want, rtol=rtol, atol=atol, equal_nan=True)
                    )
            err = float(np.nanmax(np.abs(got["vjp"] - cpu["vjp"])))
            rows.append(dict(surrogate=name, dtype=dtype, max_abs_vjp_device_minus_cpu=err, **checks))
            passed = all(checks.values())
            ok &= passed
            print(
                f"{name:18s} {dtype:8s} max|vjp device-cpu|={err:.3g} "
                + ("ok" if passed else f"FAILED {[k for k, v in checks.items() if not v]}")
            )
    return ok


SECTIONS = {"neurons": neurons, "surrogates": surrogates}
