#!/usr/bin/env bash
# Create .venv and install the project (editable, with dev tools) when missing or out of date.
# Sourced by run_all.sh and run_tests.sh; safe to run repeatedly.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "setup: Python 3.11 or newer is required (found $("$PY" --version 2>&1))" >&2
  exit 1
fi
VENV="$ROOT/.venv"
STAMP="$VENV/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  "$PY" -m venv "$VENV"
fi
if [ ! -f "$STAMP" ]; then
  echo "setup: installing dependencies (first run takes a few minutes)"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e "$ROOT[dev]"
  "$VENV/bin/python" -m ipykernel install --prefix "$VENV" --name python3 >/dev/null
  rm -f "$VENV"/.installed-*
  touch "$STAMP"
fi
