#!/usr/bin/env bash
# Set up if needed, lint, and run the whole test suite on the real data (../shared/data/raw
# or $INCLUSION_DATA_DIR). Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
bash tools/setup.sh
export INCLUSION_DATA_DIR="${INCLUSION_DATA_DIR:-$ROOT/../shared/data/raw}"
export MPLBACKEND=Agg
.venv/bin/ruff check .
.venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
