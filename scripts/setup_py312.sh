#!/usr/bin/env bash
# Create .venv-py312 (if missing): Python 3.12 with what pip gives a new user
# there today, i.e. `pip install braintools brainpy brainstate` by their plain
# requirements (no --no-deps, no pins): the newest jax, braintools 0.4.x,
# brainpy (with brainpy.state) and brainstate. The wheel is the one
# scripts/setup.sh built into dist/ (no rebuild): it is abi3 (pyo3's
# abi3-py311), so the same file installs on 3.11 and 3.12. The test tools are
# the `test` extra of pyproject.toml less its braintools/brainpy entries (the
# extra pins braintools 0.3.0, the release for Python 3.11). Reruns upgrade
# jax, braintools, brainpy and brainstate to the newest releases.
#
# This venv replaces the former .venv-bt04 (braintools 0.4.0 forced onto
# Python 3.11 with --no-deps): braintools 0.4's own suites and our tests under
# its rules run here, on the Python it declares.
#
# Python 3.12 is found as $PYTHON312, else `pyenv prefix 3.12`, else
# python3.12 on PATH; the script fails with a message when none is 3.12.
set -euo pipefail
cd "$(dirname "$0")/.."
WHEEL=$(ls dist/spikegrad-*.whl 2>/dev/null || true)
if [ -z "$WHEEL" ]; then
  echo "setup_py312: no wheel in dist/; run scripts/setup.sh first" >&2
  exit 1
fi

. scripts/find_py312.sh
find_py312 setup_py312

if [ ! -x .venv-py312/bin/python ]; then
  "$PY" -m venv .venv-py312
fi
. .venv-py312/bin/activate
python -m pip install -q -U pip
TOOLS=$(python - <<'PYEOF'
import re
import tomllib

with open("pyproject.toml", "rb") as f:
    test = tomllib.load(f)["project"]["optional-dependencies"]["test"]
names = [r for r in test if re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower() not in ("braintools", "brainpy")]
print("\n".join(names))
PYEOF
)
mapfile -t TOOLS <<<"$TOOLS"
python -m pip install -q "$WHEEL" "${TOOLS[@]}"
python -m pip install -q -U jax jaxlib braintools brainpy brainstate
# Same version number as any earlier build: force the fresh one in.
python -m pip install -q --force-reinstall --no-deps "$WHEEL"
python -m pip check
python - <<'PYEOF'
import importlib.metadata as m
import sys

versions = ", ".join(f"{p} {m.version(p)}" for p in ("jax", "jaxlib", "braintools", "brainpy", "brainstate"))
print(f"setup_py312: spikegrad {m.version('spikegrad')} in .venv-py312 (Python {sys.version.split()[0]}; {versions})")
PYEOF
