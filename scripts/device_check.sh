#!/usr/bin/env bash
# The GPU check, prepared here and run on a GPU machine as two short commands.
#
#   bash scripts/device_check.sh prepare
#       On a machine with the package registries: builds the wheel into dist/
#       (scripts/setup.sh) and downloads into .whl/ the pure-Python wheels a
#       CUDA jax image lacks (braintools, brainpy, brainstate and their brain*
#       dependencies, at the versions in .venv), for Python 3.12.
#   bash scripts/device_check.sh correctness   (at most 4 minutes)
#       On the GPU machine (no network; python3 with a CUDA jax): installs
#       dist/ and .whl/ into /tmp/spikegrad-site, then runs
#       `scripts/device_check.py correctness` with a 190 s budget: every
#       fused neuron pass (Pallas kernels, the `pallas` setting) against the
#       CPU and NumPy, and the surrogates on the GPU against the CPU,
#       braintools and NumPy (scripts/device/correctness.py).
#   bash scripts/device_check.sh timing        (at most 5 minutes)
#       The same install, then `scripts/device_check.py timing` with a 240 s
#       budget: the copy floor, the fused LIF's forward and BPTT against
#       lax.scan and brainpy.state at N = 2^13 .. 2^22, and the neuron block
#       sweep (scripts/device/timing.py).
#   bash scripts/device_check.sh dry-correctness | dry-timing
#       Here, without a GPU: the same runs at tiny sizes (--dry), the Pallas
#       kernels interpreted on the CPU, with the spikegrad installed for
#       $PYTHON (tests/test_device_check.py runs both in .venv-device).
#
# Each command prints its duration and ends with one line, `ok` or `FAILED`,
# and exits non-zero on FAILED (a failed comparison, a section that broke,
# or a correctness section skipped past its budget). Sections past the
# budget are skipped and listed; further arguments go to device_check.py
# (e.g. `correctness --sections surrogates` to rerun one section). Logs and
# a JSON report go to $OUT (or out/device). With this workplace's device tool:
#   run(command="bash scripts/device_check.sh correctness", carry=["dist", ".whl"], timeout_s=300)
#   run(command="bash scripts/device_check.sh timing", carry=["dist", ".whl"], timeout_s=360)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# Not on a CUDA jax image; everything else braintools needs is.
DEVICE_WHEELS="braintools brainstate brainunit brainevent saiunit array_api_compat brainpy brainpy_state"
#: run -> (seconds of budget, seconds before the process is stopped)
declare -A BUDGET=([correctness]=190 [timing]=240)
declare -A LIMIT=([correctness]=220 [timing]=275)

prepare() {
  bash scripts/setup.sh
  rm -rf .whl && mkdir -p .whl
  local pkg version
  for pkg in $DEVICE_WHEELS; do
    version=$(.venv/bin/python -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$pkg")
    .venv/bin/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
      --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
      -d .whl "$pkg==$version"
  done
  ls -l dist .whl
  du -sh dist .whl
}

install() {
  local site=${SITE:-/tmp/spikegrad-site}
  rm -rf "$site"
  "$PY" -m pip install -q --no-index --no-deps --no-compile --target "$site" dist/spikegrad-*.whl .whl/*.whl
  export PYTHONPATH=$site${PYTHONPATH:+:$PYTHONPATH}
  nvidia-smi -L || true
}

# check RUN [ARGS]: one run of scripts/device_check.py, timed, its last line the verdict.
check() {
  local name=$1 start=$SECONDS status=0
  shift
  local out=${OUT:-$PWD/out/device}
  mkdir -p "$out"
  export PYTHONUNBUFFERED=1
  timeout "${LIMIT[$name]}" "$PY" scripts/device_check.py "$name" --budget "${BUDGET[$name]}" \
    --out "$out/$name.json" "$@" 2>&1 | tee "$out/$name.log" || status=$?
  if [ "$status" = 124 ]; then
    echo "$name: stopped after ${LIMIT[$name]} s"
  fi
  echo "$name: $((SECONDS - start)) s in all"
  if [ "$status" = 0 ]; then echo "$name: ok"; else echo "$name: FAILED"; fi
  return $status
}

case "${1:-}" in
  prepare) prepare ;;
  correctness | timing)
    install
    check "$@"
    ;;
  dry-correctness | dry-timing)
    name=${1#dry-}
    shift
    check "$name" --dry "$@"
    ;;
  *)
    echo "usage: bash scripts/device_check.sh {prepare|correctness|timing|dry-correctness|dry-timing}" >&2
    exit 2
    ;;
esac
