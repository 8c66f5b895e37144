"""SPMD cases, run in a process of their own by test_sharding.py:

    python tests/spmd_case.py {shardy|gspmd} {native|xla} CASE...

Fakes 8 CPU devices, picks the partitioner and the lowering, then for each
case's mesh, shape and sharding checks ``jit`` of the forward pass, of a vjp
and of a jvp (or the same inside ``shard_map``):

* values against the float64 NumPy formula (the step is exact);
* the compiled HLO has no collective, and every spikegrad custom call works
  on one shard (its operand has the shard's shape, never the global one);
* the outputs keep the input's sharding.

(The "uneven" case relaxes the last two: see CASES.) Prints one line per case,
``ok ...`` or ``FAILED ...: why``, and exits non-zero if any case failed.
"""

from __future__ import annotations

import os
import re
import sys

if __name__ == "__main__":  # only in the case's own process, before jax starts
    os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from helpers.reference import multi_gaussian as multi_gaussian_np  # noqa: E402
from jax.sharding import NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P

import spikegrad  # noqa: E402
import spikegrad.surrogate as surrogate  # noqa: E402

# Fixed parameters, not the defaults, so that a kernel ignoring them fails.
PARAMS = dict(h=0.2, s=4.0, sigma=0.6, scale=0.7)
SPIKE = surrogate.MultiGaussianGrad(**PARAMS)
COLLECTIVES = ("all-gather", "all-to-all", "all-reduce", "collective-permute", "reduce-scatter")

# name -> (mesh shape, global shape, partition spec); mesh axes are ("a", "b")
CASES = {
    "1d": ((8,), (64,), P("a")),
    "1d_both_axes": ((2, 4), (64,), P(("a", "b"))),
    "2d_rows": ((8,), (32, 6), P("a", None)),
    "2d_cols": ((8,), (6, 32), P(None, "a")),
    "mesh_2x4": ((2, 4), (8, 12), P("a", "b")),
    "3d": ((2, 4), (4, 6, 8), P("a", None, "b")),
    "shard_map": ((2, 4), (8, 12), P("a", "b")),
    "scalar": ((8,), (), P()),
    # 10 elements, replicated in, sharded 8 ways inside: padded, uneven shards
    # of 2. jax gathers the uneven result at the end: here collectives are
    # allowed, but the custom calls must still run on the shards.
    "uneven": ((8,), (10,), P()),
    # Replicated: a sharded empty array trips jax itself (plain jnp ops on
    # jax 0.10.2 with Shardy return buffers that do not match their sharding).
    "empty": ((8,), (0, 16), P()),
}


class CaseFailed(Exception):
    pass


def check(cond: bool, what: str) -> None:
    if not cond:
        raise CaseFailed(what)


def check_close(got, want, what: str) -> None:
    got = np.asarray(got, dtype=np.float64)
    check(got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}")
    err = np.max(np.abs(got - want), initial=0.0)
    # The f32 budget: 2e-6 of the largest magnitude in the result.
    atol = 2e-6 * np.max(np.abs(want), initial=0.0)
    check(np.allclose(got, want, rtol=0, atol=atol), f"{what}: max abs error {err} > {atol}")


def check_compiled(fn, args, targets, shard_shape, what: str, collectives_allowed=False) -> None:
    hlo = fn.lower(*args).compile().as_text()
    if spikegrad.get_lowering() == "xla":  # XLA code: no custom call at all
        check('custom_call_target="spikegrad' not in hlo, f"{what}: a spikegrad custom call under 'xla'")
        targets = []
    found = sorted({c for c in COLLECTIVES if c in hlo})
    check(collectives_allowed or not found, f"{what}: compiled HLO has collectives {found}")
    if 0 in shard_shape:
        return  # XLA may fold ops on empty arrays away
    view = ",".join(str(d) for d in (*shard_shape, 1))
    for target in targets:
        calls = [ln for ln in hlo.splitlines() if f'custom_call_target="{target}"' in ln]
        check(bool(calls), f"{what}: no {target} custom call in the compiled HLO")
        for line in calls:
            operands = re.findall(r"f32\[([0-9,]*)\]", line)
            check(
                operands and all(o == view for o in operands),
                f"{what}: {target} runs on f32[{operands}], not on the shard f32[{view}]",
            )


def check_sharding(arr, sharding, what: str, case: str) -> None:
    if case == "uneven":
        return  # jax picks the layout of a gathered uneven result
    check(
        arr.sharding.is_equivalent_to(sharding, arr.ndim),
        f"{what}: sharding {arr.sharding} is not the input's {sharding}",
    )


def run(case: str) -> None:
    mesh_shape, shape, spec = CASES[case]
    axes = ("a", "b")[: len(mesh_shape)]
    auto = (jax.sharding.AxisType.Auto,) * len(axes)
    mesh = jax.make_mesh(mesh_shape, axes, **({"axis_types": auto} if case == "uneven" else {}))
    sharding = NamedSharding(mesh, spec)
    rng = np.random.default_rng(7)
    x_np = rng.normal(scale=1.5, size=shape).astype(np.float32)
    if x_np.size:
        x_np.reshape(-1)[0] = 0.0  # the step's edge: 1
    w_np = rng.normal(size=shape).astype(np.float32)
    x, w = (jax.device_put(a, sharding) for a in (x_np, w_np))
    shard_shape = sharding.shard_shape(shape)

    uneven = case == "uneven"
    if uneven:
        shard_shape = (2,)

    def cut(a):
        """The uneven case reshards its replicated input 8 ways inside."""
        return jax.lax.with_sharding_constraint(a, NamedSharding(mesh, P("a"))) if uneven else a

    step = (x_np >= 0).astype(np.float64)
    slope = w_np.astype(np.float64) * multi_gaussian_np(x_np, **PARAMS)

    def forward(x):
        return SPIKE(cut(x))

    def vjp(x, w):
        y, pull = jax.vjp(SPIKE, cut(x))
        return y, pull(cut(w))[0]

    def jvp(x, t):
        return jax.jvp(SPIKE, (cut(x),), (cut(t),))

    fns = {"forward": forward, "vjp": vjp, "jvp": jvp}
    if case == "shard_map":
        fns = {
            k: jax.shard_map(f, mesh=mesh, in_specs=spec, out_specs=spec)
            if k == "forward"
            else jax.shard_map(f, mesh=mesh, in_specs=(spec, spec), out_specs=(spec, spec))
            for k, f in fns.items()
        }
    forward, vjp_fn, jvp_fn = (jax.jit(fns[k]) for k in ("forward", "vjp", "jvp"))

    check_compiled(forward, (x,), ["spikegrad_heaviside"], shard_shape, "forward", uneven)
    y = forward(x)
    check_close(y, step, "forward")
    check(y.dtype == jnp.float32, f"forward dtype {y.dtype}")
    check_sharding(y, sharding, "forward", case)

    targets = ["spikegrad_heaviside", "spikegrad_surrogate_grad"]
    for name, fn in (("vjp", vjp_fn), ("jvp", jvp_fn)):
        check_compiled(fn, (x, w), targets, shard_shape, name, uneven)
        y, d = fn(x, w)
        check_close(y, step, f"{name} primal")
        check_close(d, slope, f"{name} derivative")
        check_sharding(y, sharding, f"{name} primal", case)
        check_sharding(d, sharding, f"{name} derivative", case)


def main() -> None:
    partitioner, lowering, *cases = sys.argv[1:] + [""] * max(0, 3 - len(sys.argv[1:]))
    if partitioner not in ("shardy", "gspmd") or lowering not in ("native", "xla") or not set(cases) <= set(CASES):
        raise SystemExit(f"usage: spmd_case.py {{shardy|gspmd}} {{native|xla}} {{{'|'.join(CASES)}}}...")
    spikegrad.set_lowering(lowering)
    jax.config.update("jax_use_shardy_partitioner", partitioner == "shardy")
    if jax.device_count() != 8:
        raise SystemExit(f"{jax.device_count()} devices, wanted 8")
    failed = 0
    for case in cases:
        try:
            run(case)
        except Exception as e:  # a failed check, or jax refusing the program
            failed += 1
            print(f"FAILED {partitioner} {case} {lowering}: {type(e).__name__}: {e}", flush=True)
        else:
            print(f"ok {partitioner} {case} {lowering} (jax {jax.__version__})", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
