#!/usr/bin/env bash
# Create .venv-bt04 (if missing): the wheel scripts/setup.sh built into dist/
# (no rebuild) with its test dependencies and newest jax, and braintools 0.4.0
# in place of 0.3.0. braintools 0.4.0 declares Python >= 3.12 but runs on 3.11,
# so it is installed without its declared requirements and its dependencies
# are named here. In this venv spikegrad follows braintools 0.4's rules.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WHEEL=$(ls dist/spikegrad-*.whl 2>/dev/null || true)
if [ -z "$WHEEL" ]; then
  echo "setup_braintools04: no wheel in dist/; run scripts/setup.sh first" >&2
  exit 1
fi
if [ ! -x .venv-bt04/bin/python ]; then
  "$PY" -m venv .venv-bt04
fi
. .venv-bt04/bin/activate
python -m pip install -q -U pip
python -m pip install -q "${WHEEL}[test]"
python -m pip install -q --no-deps --ignore-requires-python braintools==0.4.0
# braintools 0.4.0's requirements, and what its surrogate tests import.
python -m pip install -q -U brainstate brainevent brainunit optax scipy msgpack matplotlib typing_extensions
python -m pip install -q --force-reinstall --no-deps "$WHEEL"
echo "setup_braintools04: $(basename "$WHEEL") in .venv-bt04 (braintools $(python -c 'import importlib.metadata as m; print(m.version("braintools"))'), jax $(python -c 'import jax; print(jax.__version__)'))"
