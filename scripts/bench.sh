#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the benchmark against braintools:
#   bash scripts/bench.sh            full run, a few minutes; writes out/bench.md
#   bash scripts/bench.sh --quick    smoke test, under a minute
# Extra arguments go to benchmarks/bench.py (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
python benchmarks/bench.py "$@"
