#!/usr/bin/env bash
# Set up and run every test: the wheel is built once (scripts/setup.sh), lint
# runs (scripts/lint.sh), the Rust unit tests run, then the Python suite runs against that same wheel
# twice: in .venv with the newest jax, and in .venv-oldest with the oldest
# supported jax (scripts/setup_oldest.sh). Last, the portable wheel is tested in a
# venv without a toolchain (scripts/test_wheel.sh). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/setup_oldest.sh
export PYO3_PYTHON="$PWD/.venv/bin/python"

bash scripts/lint.sh

echo "== cargo test"
cargo test --no-default-features --release

LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT
status=0
for venv in .venv .venv-oldest; do
  version=$("$venv/bin/python" -c 'import jax, jaxlib; print(jax.__version__, "/ jaxlib", jaxlib.__version__)')
  echo "== pytest in $venv (jax $version)"
  if ! "$venv/bin/python" -m pytest -q tests "$@" 2>&1 | tee "$LOGS/$venv.log"; then
    status=1
  fi
  echo "$venv (jax $version): $(tail -n 1 "$LOGS/$venv.log")" >>"$LOGS/summary"
done
echo "== manylinux wheel, fresh venv without a toolchain (scripts/test_wheel.sh)"
if bash scripts/test_wheel.sh; then wheel=passed; else wheel=FAILED; status=1; fi
echo "manylinux wheel without a toolchain: $wheel" >>"$LOGS/summary"
echo "== summary"
cat "$LOGS/summary"
exit $status
