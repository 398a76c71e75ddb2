"""Stage times of a finished run, from its Snakemake benchmark files (one per job).

Prints per stage (rules file) the number of jobs, summed job time and share, its slowest job,
and the ten slowest rules, for one run seed plus the jobs all seeds share (raw images,
detection). Summed job time exceeds wall time when jobs ran side by side.
Usage: python benchmarks/stage_times.py [--dataset lfw] [--seed 0]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from occlusion_fr.results_layout import dataset_dir, seed_dir
from tools.stage_times import benchmark_table, rule_stages, stage_order, stage_summary

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="lfw")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    shared = dataset_dir(args.dataset, REPO) / "benchmarks"
    folder = seed_dir(dataset_dir(args.dataset, REPO), args.seed) / "benchmarks"
    if not folder.is_dir():
        raise SystemExit(f"{folder.relative_to(REPO)}: no benchmark files; run the pipeline first")
    order = stage_order(REPO / "Snakefile")
    stages = rule_stages(REPO / "rules")
    table = pd.concat([benchmark_table(f, stages) for f in (shared, folder) if f.is_dir()], ignore_index=True)
    summary = stage_summary(table, order)
    print(f"{args.dataset}, seed {args.seed}: {len(table)} jobs, {table['seconds'].sum() / 60:.1f} min of job time "
          f"({folder.relative_to(REPO)} and {shared.relative_to(REPO)})")
    for row in summary.itertuples(index=False):
        print(f"  {row.stage:<11} {row.jobs:>3} jobs {row.seconds / 60:7.1f} min {100 * row.share:5.1f}%"
              f"   slowest {row.slowest_job} {row.slowest_seconds:.0f} s")
    rules = table.groupby("rule")["seconds"].agg(["count", "sum"]).sort_values("sum", ascending=False).head(10)
    print("slowest rules:")
    for rule, row in rules.iterrows():
        print(f"  {rule:<20} {int(row['count']):>3} jobs {row['sum'] / 60:7.1f} min")


if __name__ == "__main__":
    main()
