#!/usr/bin/env bash
# Set up if needed, lint, and run the whole test suite on the real data (../shared/data/raw
# or $INCLUSION_DATA_DIR). Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
bash tools/setup.sh
# axe-core (pinned in package-lock.json) for the accessibility tests in a real browser
if [ ! -f node_modules/axe-core/axe.min.js ] || [ package-lock.json -nt node_modules/axe-core/axe.min.js ]; then
  if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error; else echo "tests: npm not found; accessibility tests will skip (or fail in CI)" >&2; fi
fi
export INCLUSION_DATA_DIR="${INCLUSION_DATA_DIR:-$ROOT/../shared/data/raw}"
export MPLBACKEND=Agg
.venv/bin/ruff check .
.venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
