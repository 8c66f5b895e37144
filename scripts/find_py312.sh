# Sourced by the setup scripts that need Python 3.12 (setup_py312.sh,
# setup_device.sh): sets PY to a Python 3.12 interpreter, found as
# $PYTHON312, else `pyenv prefix 3.12`, else python3.12 on PATH, or prints
# what was tried (prefixed with $1, the calling script's name) and exits 1.
is_py312() {
  [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1
}

find_py312() {
  local who=$1 candidate prefix
  local candidates=()
  [ -n "${PYTHON312:-}" ] && candidates+=("$PYTHON312")
  if command -v pyenv >/dev/null 2>&1; then
    prefix=$(pyenv prefix 3.12 2>/dev/null || true)
    [ -n "$prefix" ] && candidates+=("$prefix/bin/python3.12")
  fi
  candidates+=("$(command -v python3.12 || true)")
  PY=
  for candidate in "${candidates[@]}"; do
    if is_py312 "$candidate"; then
      PY=$candidate
      return 0
    fi
  done
  echo "$who: no Python 3.12 found (tried \$PYTHON312, \`pyenv prefix 3.12\`, python3.12 on PATH)." >&2
  echo "$who: install one (e.g. \`pyenv install 3.12\`) or set PYTHON312=/path/to/python3.12." >&2
  exit 1
}
