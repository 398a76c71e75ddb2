"""Stage times of a finished run, from its Snakemake benchmark files (one per job).

Prints per stage (rules file) the number of jobs, summed job time and share, its slowest job,
the largest peak memory (Snakemake's max_rss) with its job, and the ten slowest rules, for one run
seed plus the jobs all seeds share (raw images, detection); then whether any job went above the
8 GiB memory goal. Summed job time exceeds wall time when jobs ran side by side.
Usage: python benchmarks/stage_times.py [--dataset lfw] [--seed 0]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from occlusion_fr.results_layout import dataset_dir, seed_dir
from tools.stage_times import benchmark_table, rule_stages, stage_order, stage_summary

REPO = Path(__file__).resolve().parents[1]
MEMORY_GOAL_MB = 8 * 1024


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
              f"   slowest {row.slowest_job} {row.slowest_seconds:.0f} s   peak memory {row.max_rss / 1024:.2f} GiB"
              f" ({row.largest_job})")
    over = table[table["max_rss"] > MEMORY_GOAL_MB]
    print(f"jobs above {MEMORY_GOAL_MB / 1024:.0f} GiB peak memory: "
          + (", ".join(f"{r.job} ({r.max_rss / 1024:.2f} GiB)" for r in over.itertuples()) if len(over) else "none")
          + f"; largest {table['max_rss'].max() / 1024:.2f} GiB")
    rules = table.groupby("rule")["seconds"].agg(["count", "sum"]).sort_values("sum", ascending=False).head(10)
    print("slowest rules:")
    for rule, row in rules.iterrows():
        print(f"  {rule:<20} {int(row['count']):>3} jobs {row['sum'] / 60:7.1f} min")


if __name__ == "__main__":
    main()
