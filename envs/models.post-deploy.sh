#!/usr/bin/env bash
# Run by Snakemake inside the new environment after creating it.
set -euo pipefail
python -m pip install --no-deps -e "$(dirname "$0")/.."  # the occlusion_fr library
