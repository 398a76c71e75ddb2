#!/usr/bin/env bash
# One LFW seed end to end on a CUDA GPU with the GPU settings, and its stage times.
#
# On this project's device machine (no internet, at most 64 MiB per call), after `make gpu-pack`
# here, two calls within the machine's 30 s warm window:
#   run(carry=[".gpu/part1"], command="bash occlusion_fr_tooling/gpu_check.sh receive", timeout_s=120)
#   run(carry=[".gpu/part2"], command="bash occlusion_fr_tooling/gpu_check.sh run", timeout_s=590)
# On a CUDA workstation with the project installed: `make gpu-pack gpu-check`.
# GPU_CHECK_MINUTES (default 8) bounds the Snakemake run; the stage times of the jobs that
# finished are printed and written to $OUT (or results/gpu_check/) either way.
set -euo pipefail
STORE=/tmp/gpu_check  # outside the working tree: kept between calls while the machine is held
mkdir -p "$STORE"
for part in .gpu/part*/; do
  [ -d "$part" ] && cp -r "$part". "$STORE"/
done
if [ "${1:-run}" = receive ]; then
  du -sh "$STORE"; exit 0
fi
PYTHON="${PYTHON:-$(command -v .venv/bin/python || command -v python3)}"
if [ -d "$STORE/wheels" ] && ! "$PYTHON" -c "import snakemake" 2>/dev/null; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$STORE"/wheels/*.whl
  export PYTHONPATH="/tmp/site:${PYTHONPATH:-}"
fi
export PYTHONPATH="$PWD:${PYTHONPATH:-}" PYTHONUNBUFFERED=1
"$PYTHON" -m occlusion_fr_tooling.gpu_check --configfile "$STORE/gpu_check.yaml" --minutes "${GPU_CHECK_MINUTES:-8}" \
  --out "${OUT:-results/gpu_check}"
