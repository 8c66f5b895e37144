#!/usr/bin/env bash
# The GPU check, prepared here and run once on a GPU machine.
#
#   bash scripts/device_check.sh prepare
#       On a machine with the package registries: builds the wheel into dist/
#       (scripts/setup.sh) and downloads into .whl/ the pure-Python wheels a
#       CUDA jax image lacks (braintools and its brain* dependencies, at the
#       versions in .venv).
#   bash scripts/device_check.sh run
#       On the GPU machine (no network; python3 with a CUDA jax): installs
#       dist/ and .whl/ into /tmp/spikegrad-site, runs the test suite on the CPU and with
#       the GPU as default device, then scripts/device_check.py: GPU values and
#       gradients against the CPU custom calls, braintools and NumPy, and GPU
#       forward/vjp timings against braintools' math. Logs and a JSON report
#       go to $OUT (or out/device). Further arguments go to device_check.py
#       (e.g. --n-time 65536 for a quick dry run on a machine without a GPU,
#       with PYTHON=.venv/bin/python).
#
# With this workplace's device tool: run(command="bash scripts/device_check.sh
# run", carry=["dist", ".whl"], timeout_s=540). The run step exits non-zero
# only if the GPU comparison fails; the GPU pytest run is informational (tests
# that assume the CPU is the default device are expected to fail there).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# Not on a CUDA jax image; everything else braintools needs is.
DEVICE_WHEELS="braintools brainstate brainunit brainevent saiunit array_api_compat brainpy brainpy_state"

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

run() {
  local out=${OUT:-$PWD/out/device}
  mkdir -p "$out"
  local site=${SITE:-/tmp/spikegrad-site}
  rm -rf "$site"
  "$PY" -m pip install -q --no-index --no-deps --no-compile --target "$site" dist/spikegrad-*.whl .whl/*.whl
  export PYTHONPATH=$site${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
  nvidia-smi -L || true
  "$PY" -c 'import jax, jaxlib, spikegrad; print("jax", jax.__version__, "jaxlib", jaxlib.__version__, jax.devices())'

  echo "== pytest, CPU only"
  JAX_PLATFORMS=cpu timeout 200 "$PY" -m pytest -q -p no:cacheprovider tests 2>&1 | tee "$out/pytest_cpu.log" || true
  echo "== pytest, GPU as default device (informational)"
  timeout 200 "$PY" -m pytest -q -p no:cacheprovider tests 2>&1 | tee "$out/pytest_gpu.log" || true
  echo "== GPU against CPU, braintools and NumPy; timings"
  local status=0
  timeout 240 "$PY" scripts/device_check.py --out "$out/device_check.json" "$@" 2>&1 | tee "$out/device_check.log" || status=$?
  echo "== summary"
  echo "pytest CPU: $(tail -n 1 "$out/pytest_cpu.log")"
  echo "pytest GPU: $(tail -n 1 "$out/pytest_gpu.log")"
  tail -n 1 "$out/device_check.log"
  return $status
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  *) echo "usage: bash scripts/device_check.sh {prepare|run}" >&2; exit 2 ;;
esac
