#!/usr/bin/env bash
# Create .venv-oldest (if missing) with the OLDEST supported jax/jaxlib and
# install the wheel that scripts/setup.sh built into dist/ (no rebuild), with
# the test dependencies held to that jax. The oldest version is the jaxlib the
# wheel's FFI headers come from: pyproject.toml's build requirement.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WHEEL=$(ls dist/spikegrad-*.whl 2>/dev/null || true)
if [ -z "$WHEEL" ]; then
  echo "setup_oldest: no wheel in dist/; run scripts/setup.sh first" >&2
  exit 1
fi
OLDEST=$("$PY" - <<'PYEOF'
import tomllib
with open("pyproject.toml", "rb") as f:
    requires = tomllib.load(f)["build-system"]["requires"]
(pin,) = [r for r in requires if r.replace(" ", "").startswith("jaxlib==")]
print(pin.split("==")[1].strip())
PYEOF
)
if [ ! -x .venv-oldest/bin/python ]; then
  "$PY" -m venv .venv-oldest
fi
. .venv-oldest/bin/activate
python -m pip install -q -U pip
CONSTRAINTS=$(mktemp)
trap 'rm -f "$CONSTRAINTS"' EXIT
printf 'jax==%s\njaxlib==%s\n' "$OLDEST" "$OLDEST" >"$CONSTRAINTS"
python -m pip install -q -c "$CONSTRAINTS" "${WHEEL}[test]"
python -m pip install -q --force-reinstall --no-deps "$WHEEL"
echo "setup_oldest: $(basename "$WHEEL") in .venv-oldest (jax $(python -c 'import jax; print(jax.__version__)'))"
