#!/usr/bin/env bash
# Set up if needed, fill the data folder, build the editions and render every report into reports/.
# Works from any directory. Settings (environment):
#   INCLUSION_DATA_DIR  use this data folder as is (default: data/raw, filled from the mirror)
#   INCLUSION_MIRROR    mirror to fill data/raw from (default: ../shared/data/raw beside the repo)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
bash tools/setup.sh
export MPLBACKEND=Agg
CLI="$ROOT/.venv/bin/inclusion-index"
if [ -z "${INCLUSION_DATA_DIR:-}" ]; then
  MIRROR="${INCLUSION_MIRROR:-$ROOT/../shared/data/raw}"
  if [ -d "$MIRROR" ]; then
    echo "== fetching sources from mirror $MIRROR"
    "$CLI" fetch --mirror "$MIRROR" | tail -n 1
  fi
fi
echo "== loading and validating every source"
if compgen -G "$ROOT/notebooks/*.ipynb" >/dev/null; then
  # one process loads, then prints "== rendering the series" and renders (imports paid once)
  "$CLI" render --coverage "$ROOT/reports/coverage.csv" "$@"
else
  "$CLI" load --coverage "$ROOT/reports/coverage.csv"
fi
