#!/usr/bin/env bash
# Set up and run every test: the wheel is built once (scripts/setup.sh), lint
# runs (scripts/lint.sh), the Rust unit tests run, then the Python suite runs
# against that same wheel twice: in .venv with the newest jax, all of it, and
# in .venv-oldest with the oldest supported jax (scripts/setup_oldest.sh), all
# of it but with the family-wide tests on a sample of five surrogates (the
# kernels are the same machine code under every jaxlib; every code path still
# runs) and 40 hypothesis examples per property. Then braintools' own surrogate
# tests run against spikegrad with braintools 0.3.0 (.venv) and 0.4.0
# (.venv-bt04, scripts/setup_braintools04.sh), and there our tests against the
# installed braintools (-m braintools_rules) under 0.4's rules. Last, the
# portable wheel is tested in a venv without a toolchain
# (scripts/test_wheel.sh). pytest runs on up to 4 worker processes
# (SPIKEGRAD_TEST_WORKERS; 0 runs in one process). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/setup_oldest.sh
bash scripts/setup_braintools04.sh
export PYO3_PYTHON="$PWD/.venv/bin/python"

bash scripts/lint.sh

echo "== cargo test"
cargo test --no-default-features --release

CPUS=$(nproc)
WORKERS=${SPIKEGRAD_TEST_WORKERS:-$((CPUS < 4 ? CPUS : 4))}
PYTEST=(-m pytest -q -n "$WORKERS")

LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT
status=0
for venv in .venv .venv-oldest; do
  version=$("$venv/bin/python" -c 'import jax, jaxlib; print(jax.__version__, "/ jaxlib", jaxlib.__version__)')
  scope=()
  if [ "$venv" = .venv-oldest ]; then
    scope=(env SPIKEGRAD_TEST_SURROGATES=sample HYPOTHESIS_PROFILE=ci_short)
    version="$version, family sample"
  fi
  echo "== pytest in $venv (jax $version)"
  if ! "${scope[@]}" "$venv/bin/python" "${PYTEST[@]}" tests "$@" 2>&1 | tee "$LOGS/$venv.log"; then
    status=1
  fi
  echo "$venv (jax $version): $(tail -n 1 "$LOGS/$venv.log")" >>"$LOGS/summary"
done
for venv in .venv .venv-bt04; do
  if ! bash scripts/braintools_suites.sh "$venv" -n "$WORKERS" 2>&1 | tee "$LOGS/bt$venv.log"; then
    status=1
  fi
  echo "$venv braintools suite: $(tail -n 1 "$LOGS/bt$venv.log")" >>"$LOGS/summary"
done
echo "== pytest -m braintools_rules in .venv-bt04 (braintools 0.4 rules)"
if ! .venv-bt04/bin/python "${PYTEST[@]}" -m braintools_rules tests "$@" 2>&1 | tee "$LOGS/rules04.log"; then
  status=1
fi
echo ".venv-bt04 braintools_rules tests: $(tail -n 1 "$LOGS/rules04.log")" >>"$LOGS/summary"
echo "== manylinux wheel, fresh venv without a toolchain (scripts/test_wheel.sh)"
if bash scripts/test_wheel.sh; then wheel=passed; else wheel=FAILED; status=1; fi
echo "manylinux wheel without a toolchain: $wheel" >>"$LOGS/summary"
echo "== summary"
cat "$LOGS/summary"
exit $status
