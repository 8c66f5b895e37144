"""The device check's two runs (scripts/device_check.py): correctness and timing.

Importing the package puts tests/ (the float64 references of tests/helpers/)
and benchmarks/ (the benchmark's contenders and timing) on ``sys.path``.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for _path in (ROOT / "tests", ROOT / "benchmarks"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
