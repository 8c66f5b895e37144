#!/usr/bin/env bash
# Create .venv-device (if missing): Python 3.12 with the GPU machine's jax and
# jaxlib (0.11.2, here their CPU wheels), the `triton` package, pytest and hypothesis (tests/conftest.py), and
# braintools, brainpy and brainstate (their newest releases, which install
# and import with jax 0.11.2). It runs what needs the GPU machine's versions
# without a GPU:
# - tests/test_pallas_compile.py: every Pallas kernel lowered for CUDA, its
#   Triton IR compiled for sm_90 by `triton` (its bundled ptxas), registers,
#   spills and local memory checked;
# - tests/test_device_check.py: the dry runs of scripts/device_check.sh
#   (correctness and timing, tiny sizes, the Pallas kernels interpreted).
# `triton` 3.8.0 is the last release before jaxlib 0.11.2 was built (August
# and September 2026), the nearest to the Triton that jaxlib's XLA compiles
# the IR with; 3.5.1 to 3.8.0 all parse and compile every kernel. The IR
# reaches `triton` as text (tests/helpers/triton_ptx.py): the MLIR bytecode
# in the custom call is in jaxlib's own MLIR version, which `triton` cannot
# read.
# The wheel is the one scripts/setup.sh built into dist/ (abi3, as in
# scripts/setup_py312.sh). Python 3.12 is found as $PYTHON312, else
# `pyenv prefix 3.12`, else python3.12 on PATH. Idempotent; safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
JAX_VERSION=0.11.2
TRITON_VERSION=3.8.0
WHEEL=$(ls dist/spikegrad-*.whl 2>/dev/null || true)
if [ -z "$WHEEL" ]; then
  echo "setup_device: no wheel in dist/; run scripts/setup.sh first" >&2
  exit 1
fi

. scripts/find_py312.sh
find_py312 setup_device

if [ ! -x .venv-device/bin/python ]; then
  "$PY" -m venv .venv-device
fi
VPY=.venv-device/bin/python
"$VPY" -m pip install -q -U pip
"$VPY" -m pip install -q "jax==$JAX_VERSION" "jaxlib==$JAX_VERSION" "triton==$TRITON_VERSION" \
  pytest hypothesis braintools brainpy brainstate "$WHEEL"
# Same version number as any earlier build: force the fresh one in.
"$VPY" -m pip install -q --force-reinstall --no-deps "$WHEEL"
"$VPY" -m pip check
"$VPY" - <<'PYEOF'
import importlib.metadata as m
import sys

names = ("jax", "jaxlib", "triton", "braintools", "brainpy", "brainstate")
versions = ", ".join(f"{p} {m.version(p)}" for p in names)
print(f"setup_device: spikegrad {m.version('spikegrad')} in .venv-device (Python {sys.version.split()[0]}; {versions})")
PYEOF
