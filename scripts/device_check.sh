#!/usr/bin/env bash
# The GPU check, prepared here and run once on a GPU machine.
#
#   bash scripts/device_check.sh prepare
#       On a machine with the package registries: builds the wheel into dist/
#       (scripts/setup.sh) and downloads into .whl/ the pure-Python wheels a
#       CUDA jax image lacks (braintools, brainpy, brainstate and their brain*
#       dependencies, at the versions in .venv).
#   bash scripts/device_check.sh run [device_check.py arguments]
#       On the GPU machine (no network; python3 with a CUDA jax): installs
#       dist/ and .whl/ into /tmp/spikegrad-site, then runs
#       scripts/device_check.py (about 6 minutes; its sections in order of
#       importance, the later ones skipped past --budget seconds):
#         - the fused neurons on the GPU (the Pallas kernels) against the CPU
#           (the Rust kernels): spikes, states, gradients, JVP, every model;
#         - the surrogates on the GPU against the CPU, braintools and NumPy;
#         - the copy bandwidth (the floor of the memory-bound passes);
#         - the fused LIF against brainpy.state's LIF in for_loop and a
#           lax.scan LIF (braintools surrogate), T = 100, N = 2^13 .. 2^22,
#           forward and BPTT, float32 and bfloat16;
#         - the 784-1024-10 training step of benchmarks/neurons.py;
#         - surrogate timings, and the fused LIF per Pallas block size.
#       With DEVICE_PYTEST=1 it then runs the test suite on the CPU
#       (informational, as long as the time allows). Logs and a JSON report
#       go to $OUT (or out/device).
#   PYTHON=.venv/bin/python bash scripts/device_check.sh dry
#       Here, without a GPU: device_check.py --quick with the spikegrad
#       installed for that Python (the fused neurons' Pallas kernels run
#       interpreted on the CPU), a few minutes on 2 vCPUs.
#
# With this workplace's device tool: run(command="bash scripts/device_check.sh
# run", carry=["dist", ".whl"], timeout_s=560). The run step exits non-zero
# only if a comparison fails or a section breaks.
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

  echo "== device_check.py"
  local status=0
  timeout 480 "$PY" scripts/device_check.py --budget 360 --out "$out/device_check.json" "$@" 2>&1 \
    | tee "$out/device_check.log" || status=$?
  if [ "${DEVICE_PYTEST:-0}" = 1 ]; then
    echo "== pytest, CPU only (informational)"
    local workers=()
    "$PY" -c 'import xdist' 2>/dev/null && workers=(-n 8)
    JAX_PLATFORMS=cpu timeout 200 "$PY" -m pytest -q -p no:cacheprovider "${workers[@]}" tests 2>&1 \
      | tee "$out/pytest_cpu.log" || true
  fi
  echo "== summary"
  tail -n 1 "$out/device_check.log"
  return $status
}

dry() {
  local out=${OUT:-$PWD/out/device-dry}
  mkdir -p "$out"
  PYTHONUNBUFFERED=1 "$PY" scripts/device_check.py --quick --out "$out/device_check.json" "$@"
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  dry) shift; dry "$@" ;;
  *) echo "usage: bash scripts/device_check.sh {prepare|run|dry}" >&2; exit 2 ;;
esac
