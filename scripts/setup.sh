#!/usr/bin/env bash
# Create .venv (if missing) and build + install spikegrad with its test and
# demo dependencies. Idempotent; safe to rerun. Needs python3 (>= 3.11),
# cargo and a C++17 compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q -U pip
# Builds the wheel (release profile) against the oldest supported jaxlib's FFI
# headers (pyproject.toml [build-system]) and installs it with the test deps.
python -m pip install -q ".[test]"
