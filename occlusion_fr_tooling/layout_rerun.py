"""What rerunning after a change to one masking layout costs, from a finished seed's job times.

Asks Snakemake for the whole DAG of one seed (`--dry-run --forceall`), takes the jobs downstream
of a layout's regions (a region edit) or of its mask dictionary (a percentile edit), and sums
their measured times from the seed's benchmark files. Compares the sum with the seed's whole run
from the raw archive (its job time plus the shared detection jobs; goal: at most 10%).
Writes the table to results/{dataset}/seed{seed}/layout_reruns.csv (rendered into the README).
Usage: python -m occlusion_fr_tooling.layout_rerun [--dataset lfw] [--seed 0] [--configfile FILE]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import yaml

from occlusion_fr.io import write_csv
from occlusion_fr.results_layout import dataset_dir, seed_dir
from occlusion_fr_tooling.rerun_cost import benchmark_seconds, layout_change_costs, parse_dry_run
from occlusion_fr_tooling.stage_times import benchmark_table, rule_stages

REPO = Path(__file__).resolve().parents[1]


def dry_run(dataset: str, seed: int, configfile: Path | None) -> str:
    command = [sys.executable, "-m", "snakemake", "--dry-run", "--forceall", "--nolock",
               *(["--configfile", str(configfile)] if configfile else []),
               "--config", f"dataset={dataset}", f"seeds=[{seed}]"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"snakemake dry run failed:\n{done.stderr[-2000:]}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="lfw")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--configfile", type=Path, help="the run's configuration (default: config.yaml)")
    args = parser.parse_args()
    results = dataset_dir(args.dataset, REPO)
    folder = seed_dir(results, args.seed) / "benchmarks"
    if not folder.is_dir():
        raise SystemExit(f"{folder.relative_to(REPO)}: no benchmark files; run the pipeline first")
    config = yaml.safe_load((args.configfile or REPO / "config.yaml").read_text())
    costs = layout_change_costs(parse_dry_run(dry_run(args.dataset, args.seed, args.configfile)),
                                list(config["layouts"]), lambda path: benchmark_seconds(REPO / path))
    stages = rule_stages(REPO / "rules")
    shared = benchmark_table(results / "benchmarks", stages)
    whole = (shared.loc[shared["rule"] != "across_seeds", "seconds"].sum()
             + benchmark_table(folder, stages)["seconds"].sum())
    costs.insert(0, "seed", args.seed)
    costs["share_of_run"] = costs["seconds"] / whole
    write_csv(seed_dir(results, args.seed) / "layout_reruns.csv", costs)
    print(f"{args.dataset}, seed {args.seed}: rerun after changing one masking layout, priced with the seed's "
          f"benchmark files (one seed from the raw archive: {whole / 60:.1f} min of job time)")
    for row in costs.itertuples(index=False):
        missing = f", {row.unmeasured_jobs} never measured" if row.unmeasured_jobs else ""
        print(f"  {row.layout:<8} {row.change:<10} {row.jobs:>3} jobs {row.seconds / 60:6.1f} min "
              f"{100 * row.share_of_run:5.1f}% of the run{missing}")


if __name__ == "__main__":
    main()
