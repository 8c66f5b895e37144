#!/usr/bin/env bash
# Build the documentation site into site/: the figures (docs/gen_figures.py,
# into docs/img/), then `mkdocs build --strict`, where a broken link, a
# missing API reference or any other warning fails the build. The API
# reference is read from the docstrings in python/ (mkdocs.yml).
# Uses .venv (scripts/setup.sh makes it; SPIKEGRAD_DOCS_PYTHON names another
# Python with spikegrad installed) and puts the `docs` extra's pinned tools
# into it when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${SPIKEGRAD_DOCS_PYTHON:-.venv/bin/python}
if [ ! -x "$PY" ]; then
  echo "docs: $PY not found; run scripts/setup.sh first (or set SPIKEGRAD_DOCS_PYTHON)" >&2
  exit 1
fi
# The pins of pyproject.toml's `docs` extra, read from the file (one copy).
mapfile -t PINS < <("$PY" - <<'PYEOF'
import tomllib
with open("pyproject.toml", "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["optional-dependencies"]["docs"]))
PYEOF
)
"$PY" -m pip install -q "${PINS[@]}"
"$PY" docs/gen_figures.py
# Material's notice about its successor is not a warning about these docs.
NO_MKDOCS_2_WARNING=1 "$PY" -m mkdocs build --strict "$@"
echo "docs: site/ built ($(find site -name '*.html' | wc -l) pages)"
