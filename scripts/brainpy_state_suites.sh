#!/usr/bin/env bash
# Run brainpy.state's own neuron tests (the LIF family) against spikegrad, in
# one venv (default .venv-py312): the test files of the brainpy release
# installed there, copied unchanged to a temporary directory whose conftest.py
# makes spikegrad's surrogate the neurons' default spike function
# (scripts/brainpy_state_suites.py). Every test must pass.
# Usage: scripts/brainpy_state_suites.sh [VENV] [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv-py312}
shift || true
PY="$(cd "$VENV" && pwd)/bin/python"
DEST=$(mktemp -d)
trap 'rm -rf "$DEST"' EXIT
version=$("$PY" scripts/brainpy_state_suites.py "$DEST")
echo "== brainpy $version's brainpy.state neuron tests with spikegrad's spike function ($VENV)"
# Run from the copy's directory so that our tests/conftest.py is not picked up.
(cd "$DEST" && "$PY" -m pytest -q -p no:cacheprovider --rootdir "$DEST" . "$@")
