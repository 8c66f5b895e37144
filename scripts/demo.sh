#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the demo: prints the docs example and
# writes the two-panel figure to out/multi_gaussian_grad.png.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
python examples/demo.py "$@"
