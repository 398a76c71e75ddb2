"""Append a finished run's wall time to results/{dataset}/run_times.csv (`make run` calls it).

Benchmark files give each job's time; this gives the whole run's, which is shorter than their sum
when small jobs ran side by side. The README's LFW section shows the latest row.
Usage: python -m occlusion_fr_tooling.record_run --dataset lfw --seeds 0,1,2 --cores 2 --seconds 4200
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
from pathlib import Path

import pandas as pd

from occlusion_fr.io import write_csv
from occlusion_fr.models.training import machine
from occlusion_fr.results_layout import dataset_dir

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--seeds", required=True, help="the run's seeds, comma separated")
    parser.add_argument("--cores", required=True)
    parser.add_argument("--seconds", type=float, required=True, help="wall time of the whole run")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, stdout=subprocess.PIPE,
                            text=True).stdout.strip()
    row = {"finished": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "seeds": args.seeds, "cores": args.cores, "wall_seconds": round(args.seconds), "commit": commit,
           "machine": machine()["description"]}
    path = dataset_dir(args.dataset, REPO) / "run_times.csv"
    table = pd.concat([pd.read_csv(path, dtype=str), pd.DataFrame([row])]) if path.is_file() else pd.DataFrame([row])
    write_csv(path, table)
    print(f"{path.relative_to(REPO)}: {args.dataset} seeds {args.seeds} in {args.seconds / 60:.1f} min")


if __name__ == "__main__":
    main()
