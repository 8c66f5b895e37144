#!/usr/bin/env bash
# Set up and run every test: the wheel is built once (the manylinux wheel of
# scripts/build_wheel.sh, which users install; scripts/setup.sh puts it in
# .venv, and cargo test and clippy still compile the crate with the local
# toolchain), lint
# runs (scripts/lint.sh), the Rust unit tests run, then the Python suite runs
# against that same wheel in three environments:
# - .venv (Python 3.11, the newest jax there, braintools 0.3.0): all of it,
#   and braintools 0.3.0's own surrogate tests (scripts/braintools_suites.sh);
# - .venv-oldest (the oldest supported jax, scripts/setup_oldest.sh): all of
#   it, but with the family-wide tests on a sample of five surrogates and the
#   per-model neuron tests on LIF and ALIF (the kernels are the same machine
#   code under every jaxlib; every code path still runs) and 40 hypothesis
#   examples per property;
# - .venv-py312 (Python 3.12 with what `pip install braintools brainpy
#   brainstate` gives a new user: the newest jax, braintools 0.4, brainpy,
#   brainstate; scripts/setup_py312.sh): what depends on those releases:
#   braintools 0.4's own surrogate tests, our tests against the installed
#   braintools (-m braintools_rules, 0.4's rules, every surrogate), the fused
#   neuron tests (but their SPMD cases), docs page and README tests (family
#   and model sample, 40 hypothesis examples), the demo, and brainpy.state's own LIF
#   tests with spikegrad's spike function (scripts/brainpy_state_suites.sh).
#   It replaces the former .venv-bt04 (braintools 0.4.0 forced onto Python
#   3.11 with --no-deps), whose stages all run here.
# The documentation site is built with mkdocs --strict (scripts/docs.sh).
# Last, the portable wheel is tested in a venv without a toolchain
# (scripts/test_wheel.sh). pytest runs on up to 4 worker processes
# (SPIKEGRAD_TEST_WORKERS; 0 runs in one process). Extra arguments go to the
# pytest runs of our suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build_wheel.sh
SPIKEGRAD_WHEEL=$(ls "$PWD"/wheelhouse/spikegrad-*.whl)
export SPIKEGRAD_WHEEL
bash scripts/setup.sh
bash scripts/setup_oldest.sh
bash scripts/setup_py312.sh
bash scripts/setup_device.sh
export PYO3_PYTHON="$PWD/.venv/bin/python"

bash scripts/lint.sh

echo "== cargo test"
# Without the shipped library's fat LTO, at opt-level 0 (Cargo.toml, profile
# ci-test): the same code, built in a fraction of the time.
cargo test --no-default-features --profile ci-test

CPUS=$(nproc)
WORKERS=${SPIKEGRAD_TEST_WORKERS:-$((CPUS < 4 ? CPUS : 4))}
PYTEST=(-m pytest -q -n "$WORKERS")

LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT
status=0
# One stage: its output shown and logged; its last line and duration go to the summary.
stage() {
  local name=$1 log=$2 start=$SECONDS
  shift 2
  echo "== $name"
  if "$@" 2>&1 | tee "$LOGS/$log"; then :; else status=1; fi
  echo "$name: $(tail -n 1 "$LOGS/$log") [$((SECONDS - start)) s]" >>"$LOGS/summary"
}
jax_of() { "$1/bin/python" -c 'import jax, jaxlib; print(jax.__version__, "/ jaxlib", jaxlib.__version__)'; }
SAMPLE=(env SPIKEGRAD_TEST_SURROGATES=sample HYPOTHESIS_PROFILE=ci_short)
PY312=.venv-py312/bin/python

stage "pytest in .venv (jax $(jax_of .venv))" venv.log .venv/bin/python "${PYTEST[@]}" tests "$@"
stage "pytest in .venv-oldest (jax $(jax_of .venv-oldest), family sample)" oldest.log \
  "${SAMPLE[@]}" .venv-oldest/bin/python "${PYTEST[@]}" tests "$@"
stage ".venv braintools suite" bt.log bash scripts/braintools_suites.sh .venv -n "$WORKERS"
stage ".venv-py312 braintools suite" bt312.log bash scripts/braintools_suites.sh .venv-py312 -n "$WORKERS"
stage "pytest -m braintools_rules in .venv-py312 (jax $(jax_of .venv-py312), braintools 0.4 rules)" rules312.log \
  "$PY312" "${PYTEST[@]}" -m braintools_rules tests "$@"
# The fused-neuron tests but their SPMD partitioning cases (jax's partitioners,
# not the brainpy/brainstate/braintools releases; they run in .venv and
# .venv-oldest), which would double this stage's time.
stage "pytest neuron, SpikeLinear, docs, README, brainpy pipeline in .venv-py312 (family sample)" releases312.log \
  "${SAMPLE[@]}" "$PY312" "${PYTEST[@]}" --ignore=tests/test_neuron_sharding.py \
  tests/test_neuron_*.py tests/test_synapse_module.py tests/test_docs_*.py tests/test_pipeline_brainpy.py tests/test_readme.py "$@"
stage "examples/demo.py in .venv-py312" demo312.log "$PY312" examples/demo.py --out "$LOGS/demo.png"
stage "brainpy.state's LIF tests in .venv-py312" bps312.log \
  bash scripts/brainpy_state_suites.sh .venv-py312 -n "$WORKERS"
stage "docs site, mkdocs --strict (scripts/docs.sh)" docs.log bash scripts/docs.sh
# The GPU machine's versions (.venv-device: Python 3.12, jax 0.11.2, triton):
# every Pallas kernel compiled for sm_90, and the device check's dry runs.
stage "Pallas kernels for sm_90 and device check dry runs in .venv-device (jax $(jax_of .venv-device))" device.log \
  .venv-device/bin/python -m pytest -q tests/test_pallas_compile.py tests/test_device_check.py
stage "manylinux wheel, fresh venv without a toolchain (scripts/test_wheel.sh)" wheel.log bash scripts/test_wheel.sh
echo "== summary"
cat "$LOGS/summary"
exit $status
