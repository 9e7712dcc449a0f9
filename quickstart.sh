#!/usr/bin/env bash
# One command from a fresh clone: set up a virtualenv, import the offline datasets, and run
# the main job on its embedded defaults: the quick suite with the MLP and GCN baselines,
# tracked in ./gbench.db (MLflow, SQLite), then the tidy results and the leaderboard site.
set -euo pipefail
cd "$(dirname "$0")"

if [[ ! -x .venv/bin/gbench ]]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet torch==2.13.0   # the CPU build; never a CUDA one
  .venv/bin/python -m pip install --quiet -e ".[ogb]"
fi
export PATH="$PWD/.venv/bin:$PATH"
export GBENCH_DATA_DIR="${GBENCH_DATA_DIR:-$PWD/data}"

shared="${GBENCH_SHARED_DATASETS:-../shared/datasets}"
if [[ -d $shared ]]; then
  gbench data import "$shared"
fi
gbench data list
gbench run --suite quick --model mlp --model gcn
gbench results --format table
gbench leaderboard build --out site
echo "leaderboard: file://$PWD/site/index.html  (or: gbench leaderboard serve --dir site)"
