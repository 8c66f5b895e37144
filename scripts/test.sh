#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run every test: Rust unit tests, then the
# Python suite against the newest jax installed by setup.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export PYO3_PYTHON="$PWD/.venv/bin/python"

echo "== cargo test"
cargo test --no-default-features --release

echo "== pytest (jax $(python -c 'import jax; print(jax.__version__)'))"
python -m pytest -q tests "$@"
