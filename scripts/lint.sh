#!/usr/bin/env bash
# Formatting and lint, as CI enforces them: rustfmt, clippy (warnings are
# errors), ruff lint and ruff format. Needs .venv (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYO3_PYTHON=${PYO3_PYTHON:-$PWD/.venv/bin/python}
echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy"
cargo clippy --quiet --all-targets --all-features -- -D warnings
echo "== ruff check"
.venv/bin/ruff check .
echo "== ruff format --check"
.venv/bin/ruff format --check .
