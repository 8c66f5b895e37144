"""The GPU check of spikegrad, as two runs (scripts/device_check.sh runs them):

    python scripts/device_check.py correctness [--budget S] [--out FILE] [--dry]
    python scripts/device_check.py timing      [--budget S] [--out FILE] [--dry]

``correctness`` (scripts/device/correctness.py): the fused neurons' Pallas
kernels and the surrogates on the GPU against the CPU and NumPy; exits 1 if a
comparison fails, a section breaks or one is skipped.
``timing`` (scripts/device/timing.py): the fused LIF against ``lax.scan`` and
brainpy.state, and the copy floor; exits 1 if a section breaks.

Each run's sections are skipped past ``--budget`` seconds (listed in the last
line, ``<run>: ok`` or ``<run>: FAILED``). The device side runs under
``spikegrad.lowering("pallas")``. ``--dry`` runs tiny sizes; without a GPU
only a dry run is possible: the device is then the CPU, where the Pallas
kernels run interpreted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

#: run -> default budget in seconds (scripts/device_check.sh passes its own).
RUNS = {"correctness": 190.0, "timing": 240.0}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", choices=sorted(RUNS))
    parser.add_argument("--budget", type=float, default=None, help="seconds; later sections are skipped past it")
    parser.add_argument("--out", default=None, help="write the report here as JSON")
    parser.add_argument("--dry", action="store_true", help="tiny sizes (the only run possible without a GPU)")
    parser.add_argument("--sections", default=None, help="comma-separated subset of the run's sections")
    args = parser.parse_args(argv)

    import jax
    from device import correctness, timing
    from device.common import Run

    sections = {"correctness": correctness.SECTIONS, "timing": timing.SECTIONS}[args.run]
    chosen = list(sections) if args.sections is None else args.sections.split(",")
    unknown = set(chosen) - set(sections)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; {args.run} has {list(sections)}")
    if jax.devices()[0].platform == "cpu" and not args.dry:
        parser.error("no GPU: only a dry run (--dry) runs here")
    budget = RUNS[args.run] if args.budget is None else args.budget
    run = Run(args.run, budget, args.out, dry=args.dry, skip_fails=args.run == "correctness")
    for name in chosen:
        run.section(name, sections[name])
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
