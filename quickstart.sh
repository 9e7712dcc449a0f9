#!/usr/bin/env bash
# One command from a fresh clone: set up a virtualenv, import the offline datasets, and run
# the main job on its embedded defaults (today: the dataset registry and a generated graph).
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
gbench data show texas
gbench data generate csbm --nodes 100000 --degree 10 --homophily 0.2 --seed 0
