#!/usr/bin/env bash
# Build the portable x86_64 Linux wheel into wheelhouse/: a manylinux_2_28
# wheel (the tag of the jaxlib wheels) that installs with pip alone, with no
# Rust or C++ toolchain on the user's machine.
#
# - zig (the ziglang package) is the C/C++ compiler and linker: it targets
#   glibc 2.28 whatever the build machine's glibc is, and links its own libc++
#   statically, so the wheel needs no libstdc++ from the system.
# - The FFI headers come from the OLDEST supported jaxlib (pyproject.toml's
#   build requirements), so the wheel loads on that jaxlib and every newer one.
# - `auditwheel show` must report a manylinux policy no newer than the tag, and
#   the extension must not load a C++ runtime, or the script fails.
#
# Build tools live in .venv-build (created here if missing). Needs cargo and
# python3 (>= 3.11) on the build machine only.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
TAG=${SPIKEGRAD_MANYLINUX:-manylinux_2_27}
TARGET=x86_64-unknown-linux-gnu
JAXLIB_PIN=$(sed -n 's/.*"\(jaxlib==[0-9.]*\)".*/\1/p' pyproject.toml | head -n 1)

if [ ! -x .venv-build/bin/python ]; then
  "$PY" -m venv .venv-build
fi
# auditwheel 6 needs Python >= 3.9; ziglang 0.17 is a self-contained zig.
.venv-build/bin/python -m pip install -q "maturin>=1.8,<2" "ziglang>=0.15" "auditwheel>=6" "$JAXLIB_PIN"
export PATH="$PWD/.venv-build/bin:$PATH"

# build.rs reads the headers' jaxlib from this interpreter.
export SPIKEGRAD_PYTHON="$PWD/.venv-build/bin/python"
# C++ runtime: zig's bundled libc++, linked statically. The cc crate (used by
# cxx-build for cpp_shim/ and by the cxx crate for its own cxx.cc) names the
# library to link from CXXSTDLIB; `-lc++` makes zig link its static libc++ and
# libc++abi. maturin --zig points CC/CXX for the target at its zig wrappers.
export "CXXSTDLIB_${TARGET//-/_}=c++"
# A target dir of its own: a zig build never mixes objects with the
# system-compiler build of scripts/setup.sh.
export CARGO_TARGET_DIR="$PWD/target/wheel"

rm -rf wheelhouse
maturin build --release --zig --target "$TARGET" --compatibility "$TAG" \
  --interpreter "$SPIKEGRAD_PYTHON" --out wheelhouse

WHEEL=$(ls wheelhouse/spikegrad-*.whl)
echo "== auditwheel show $(basename "$WHEEL")"
REPORT=$(auditwheel show "$WHEEL")
echo "$REPORT"
# auditwheel wraps its lines: join them before matching. The policy it
# reports must be manylinux and no newer than the tag the wheel carries.
JOINED=$(tr -s '[:space:]' ' ' <<<"$REPORT")
POLICY=$(sed -n 's/.*consistent with the following platform tag: "\(manylinux_[0-9]*_[0-9]*\)_x86_64".*/\1/p' <<<"$JOINED")
if [ -z "$POLICY" ]; then
  echo "build_wheel: auditwheel does not accept $(basename "$WHEEL") as manylinux" >&2
  exit 1
fi
glibc_of() { IFS=_ read -r _ major minor <<<"$1"; echo $((major * 1000 + minor)); }
if [ "$(glibc_of "$POLICY")" -gt "$(glibc_of "$TAG")" ]; then
  echo "build_wheel: auditwheel allows only $POLICY, newer than $TAG" >&2
  exit 1
fi
case "$(basename "$WHEEL")" in
  *"${TAG}"_x86_64*) ;;
  *)
    echo "build_wheel: $(basename "$WHEEL") is not tagged ${TAG}_x86_64" >&2
    exit 1
    ;;
esac
# The C++ runtime is inside the extension: it must not ask for libstdc++ or
# libc++ at load time.
EXT_DIR=$(mktemp -d)
trap 'rm -rf "$EXT_DIR"' EXIT
.venv-build/bin/python -m zipfile -e "$WHEEL" "$EXT_DIR"
NEEDED=$(readelf -d "$EXT_DIR"/spikegrad/_native*.so | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
echo "== extension needs: $NEEDED"
if grep -qE "libstdc\+\+|libc\+\+" <<<"$NEEDED"; then
  echo "build_wheel: the extension links a C++ runtime dynamically" >&2
  exit 1
fi
# The source distribution next to it, checked for what a source build needs.
maturin sdist --out wheelhouse >/dev/null
SDIST=$(ls wheelhouse/spikegrad-*.tar.gz)
LISTING=$(tar tzf "$SDIST")
for needed in Cargo.toml Cargo.lock build.rs src/lib.rs cpp_shim/handlers.cc python/spikegrad/__init__.py pyproject.toml; do
  if ! grep -qE "^[^/]+/$needed\$" <<<"$LISTING"; then
    echo "build_wheel: $SDIST lacks $needed" >&2
    exit 1
  fi
done
echo "build_wheel: $WHEEL"
echo "build_wheel: $SDIST"
