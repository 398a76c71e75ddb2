#!/usr/bin/env bash
# Run by Snakemake inside the new environment after creating it.
set -euo pipefail
python -m pip install --no-deps facenet-pytorch==2.6.0  # its metadata pins torch<2.3; works with 2.14
python -m pip install --no-deps -e "$(dirname "$0")/.."  # the occlusion_fr library
