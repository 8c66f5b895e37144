#!/usr/bin/env bash
# Memory-check spikegrad under valgrind memcheck (see docs/hardening.md).
#  1. the Rust unit tests (kernels, bridge) under valgrind, with leak checking;
#  2. scripts/memcheck_driver.py (every kernel path through jax, XLA and the
#     C++ shim) under valgrind, with third-party false positives suppressed
#     (scripts/memcheck.supp, one reason per entry).
# Fails if valgrind reports an error in a spikegrad frame, or if either
# workload fails. Logs: $MEMCHECK_OUT (default target/memcheck).
# Needs valgrind (installed with apt-get when missing and running as root).
# Takes several minutes: everything runs ~50x slower under valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${MEMCHECK_OUT:-target/memcheck}
mkdir -p "$OUT"
rm -f "$OUT"/rust.*.log "$OUT"/python.*.log

if ! command -v valgrind >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq valgrind
  else
    echo "memcheck: valgrind is not installed" >&2; exit 2
  fi
fi
[ -x .venv/bin/python ] || bash scripts/setup.sh
. .venv/bin/activate
export PYO3_PYTHON="$PWD/.venv/bin/python"

VG=(valgrind --tool=memcheck --error-exitcode=99 --num-callers=40 --error-limit=no
    --suppressions=scripts/memcheck.supp)
status=0

echo "== memcheck 1/2: Rust unit tests"
host=$(rustc -vV | sed -n 's/^host: //p' | tr 'a-z-' 'A-Z_')
# The test harness runs tests in threads; leaks of our own allocations are errors.
export "CARGO_TARGET_${host}_RUNNER=${VG[*]} --leak-check=full --errors-for-leak-kinds=definite --log-file=$OUT/rust.%p.log"
cargo test --no-default-features --release -q || status=1
unset "CARGO_TARGET_${host}_RUNNER"

echo "== memcheck 2/2: Python driver (jax -> XLA -> C++ shim -> Rust kernels)"
# PYTHONMALLOC=malloc: Python's small-object allocator confuses memcheck.
PYTHONMALLOC=malloc "${VG[@]}" --leak-check=no --log-file="$OUT/python.%p.log" \
  python scripts/memcheck_driver.py || {
  rc=$?
  # 99 = valgrind found unsuppressed errors somewhere: the filter decides if they are ours.
  [ "$rc" = 99 ] || status=1
}

python scripts/memcheck_filter.py "$OUT"/rust.*.log "$OUT"/python.*.log || status=1
exit $status
