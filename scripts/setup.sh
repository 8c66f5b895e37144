#!/usr/bin/env bash
# Create .venv (if missing), build the spikegrad wheel ONCE into dist/ (or take
# $SPIKEGRAD_WHEEL) and install it with its test and demo dependencies (the
# newest jax pip finds).
# scripts/setup_oldest.sh installs the same wheel against the oldest
# supported jax. Idempotent; safe to rerun. Needs python3 (>= 3.11), cargo
# and a C++17 compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q -U pip
# The wheel (release profile) is built against the oldest supported jaxlib's
# FFI headers (pyproject.toml [build-system]); cargo's target/ keeps rebuilds
# incremental.
# SPIKEGRAD_WHEEL names a wheel built already (scripts/test.sh passes the
# manylinux one from scripts/build_wheel.sh, so that CI compiles it once).
rm -f dist/spikegrad-*.whl
if [ -n "${SPIKEGRAD_WHEEL:-}" ]; then
  mkdir -p dist
  cp "$SPIKEGRAD_WHEEL" dist/
else
  python -m pip wheel -q --no-deps . -w dist/
fi
WHEEL=$(ls dist/spikegrad-*.whl)
python -m pip install -q "${WHEEL}[test]"
# Same version number as any earlier build: force the fresh one in.
python -m pip install -q --force-reinstall --no-deps "$WHEEL"
echo "setup: $(basename "$WHEEL") in .venv (jax $(python -c 'import jax; print(jax.__version__)'))"
