#!/usr/bin/env bash
# Install the portable wheel (scripts/build_wheel.sh) into a fresh venv whose
# PATH has no Rust or C++ toolchain, then run the docs examples and a slice
# of the test suite against that install. Dependencies come from pip's index
# as usual. SPIKEGRAD_WHEEL=path/to.whl tests a given wheel instead of building.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
if [ -z "${SPIKEGRAD_WHEEL:-}" ]; then
  bash scripts/build_wheel.sh
  SPIKEGRAD_WHEEL=$(ls "$REPO"/wheelhouse/spikegrad-*.whl)
fi
PY=$(command -v "${PYTHON:-python3}")
PY=$(readlink -f "$("$PY" -c 'import sys; print(sys.executable)')")

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$PY" -m venv "$WORK/venv"
# The only tools on PATH: the venv's bin and a directory with links to the few
# programs the tests start (none of them a compiler).
mkdir "$WORK/tools"
for tool in env sh bash; do
  ln -s "$(command -v "$tool")" "$WORK/tools/$tool"
done
CLEAN_PATH="$WORK/venv/bin:$WORK/tools"

in_venv() {
  # A clean environment: no CC/CXX/CARGO/RUSTUP variables; pip's own settings kept.
  env -i HOME="$HOME" PATH="$CLEAN_PATH" LANG=C.UTF-8 \
    $(env | grep -E '^PIP_[A-Z_]+=' || true) \
    HYPOTHESIS_PROFILE=dev JAX_PLATFORMS=cpu "$@"
}

echo "== no toolchain on PATH"
for tool in cargo rustc cc c++ gcc g++ clang zig; do
  if in_venv bash -c "command -v $tool" >/dev/null; then
    echo "test_wheel: $tool is findable on the clean PATH" >&2
    exit 1
  fi
done

echo "== pip install $(basename "$SPIKEGRAD_WHEEL") (no extras): import and compute with the dependencies alone"
in_venv python -m pip install -q --only-binary=spikegrad "$SPIKEGRAD_WHEEL"
in_venv python - <<'EOF'
import jax, jax.numpy as jnp
import spikegrad
from spikegrad.neuron import lif
g = jax.grad(lambda v: spikegrad.MultiGaussianGrad()(v).sum())(jnp.linspace(-1.0, 1.0, 5))
s = jax.grad(lambda x: lif(x, dt=1.0, spk_fun=spikegrad.MultiGaussianGrad()).sum())(jnp.ones((4, 3)))
assert g.shape == (5,) and float(g[2]) > 0 and s.shape == (4, 3)
print("bare install: ok")
EOF

echo "== pip install $(basename "$SPIKEGRAD_WHEEL")[test]"
in_venv python -m pip install -q --only-binary=spikegrad "${SPIKEGRAD_WHEEL}[test]"
in_venv python - <<'EOF'
import importlib.metadata, pathlib, sys
import spikegrad
where = pathlib.Path(spikegrad.__file__).resolve()
assert pathlib.Path(sys.prefix).resolve() in where.parents, f"spikegrad imported from {where}"
print("spikegrad", importlib.metadata.version("spikegrad"), "from", where.parent)
EOF

# Run from a copy so that nothing in the source tree can shadow the install.
cp -r "$REPO/tests" "$REPO/examples" "$REPO/docs" "$REPO/README.md" "$REPO/CHANGELOG.md" "$WORK/"
cd "$WORK"

echo "== examples/demo.py"
in_venv python examples/demo.py --out "$WORK/out/demo.png"
test -s "$WORK/out/demo.png"

echo "== pytest (a slice of the suite)"
# The parts that depend on how the extension was built and linked: values
# against braintools and float64, error paths (C++ exceptions through the
# static libc++), the jaxlib version check, the brainpy page, and the README
# example, whose output must be what the README shows.
in_venv python -m pytest -q -p no:cacheprovider --durations=5 \
  tests/test_mgg_values.py tests/test_errors.py tests/test_jaxlib_version.py tests/test_docs_brainpy.py \
  tests/test_readme.py
echo "test_wheel: $(basename "$SPIKEGRAD_WHEEL") passed in a venv without a toolchain"
