#!/usr/bin/env bash
# Run braintools' own surrogate tests against spikegrad, in one venv
# (default .venv): the test files of the braintools release installed there,
# copied to a temporary directory with only their import of
# braintools.surrogate pointed at spikegrad (scripts/braintools_suites.py).
# Every test must pass. Usage: scripts/braintools_suites.sh [VENV] [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv}
shift || true
PY="$(cd "$VENV" && pwd)/bin/python"
DEST=$(mktemp -d)
trap 'rm -rf "$DEST"' EXIT
listing=$("$PY" scripts/braintools_suites.py "$DEST")
version=$(head -n 1 <<<"$listing")
echo "== braintools $version's surrogate tests against spikegrad ($VENV)"
deselect=()
while IFS=$'\t' read -r node reason; do
  [ -n "$node" ] || continue
  echo "   deselected (known difference): $node: $reason"
  deselect+=(--deselect "$node")
done < <(tail -n +2 <<<"$listing")
# Run from the copy's directory so that our tests/conftest.py is not picked up.
(cd "$DEST" && "$PY" -m pytest -q -p no:cacheprovider --rootdir "$DEST" "${deselect[@]}" . "$@")
