#!/usr/bin/env bash
# Set up (scripts/setup.sh, plus the example's extra packages) and train the
# spiking digits classifier: examples/train_digits.py, with any of its options
# (--compare, --epochs, --steps, --hidden, --batch, --seed, --neuron,
# --surrogate, --out). Figures go to out/. `--task sequential` trains the
# recurrent network on the digits shown one row per step instead
# (examples/sequential_digits.py and its options).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
python -m pip install -q "$(ls dist/spikegrad-*.whl)[examples]"
python examples/train_digits.py "$@"
