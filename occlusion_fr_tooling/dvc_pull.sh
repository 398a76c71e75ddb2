#!/usr/bin/env bash
# Fetch the data and weights of this commit's run (dvc.lock) from the DVC remote, then make
# Snakemake see them as up to date. `make pull` runs it with the repository's .venv.
#
# Why the second step: Snakemake reruns a job when an input is newer than its outputs, and
# `dvc pull` gives every file the time of the pull, in no particular order, so a fresh clone
# would retrain everything. DVC has just checked every file against the hashes in dvc.lock;
# once `dvc status` confirms that config and workflow match that lock too, the files are the
# locked run's outputs and `snakemake --touch` restores their time order (it touches each job's
# outputs in DAG order and runs nothing).
#
# REMOTE (a URL or a folder; `make pull REMOTE=...`) becomes this clone's default remote, kept in
# .dvc/config.local (not in git), so later pulls need no REMOTE; without it the default remote is used. Without
# a lock or a remote there is nothing to pull: one line says so, no traceback, exit status 1.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f dvc.lock ]; then
  echo "make pull: this commit has no dvc.lock, so no run's data and weights are versioned to pull" \
       "(docs/reproducibility.md: dvc repro, commit dvc.lock, dvc push)" >&2
  exit 1
fi
if [ -n "${REMOTE:-}" ]; then
  dvc remote add --local --default --force pulled "$REMOTE"
elif ! dvc remote default >/dev/null 2>&1; then
  echo "make pull: no DVC remote is configured; name one: make pull REMOTE=<url or folder>" \
       "(or dvc remote add -d NAME URL; docs/reproducibility.md)" >&2
  exit 1
fi
dvc pull
# across_seeds is always_changed (see dvc.yaml); every other stage must match dvc.lock.
if ! dvc status --quiet faces data occlusions models masks; then
  echo "dvc status: config.yaml or the workflow differ from dvc.lock; not marking anything as" \
       "up to date (run \`dvc repro\` instead):" >&2
  dvc status faces data occlusions models masks >&2
  exit 1
fi
snakemake --touch --cores 1 --quiet all
