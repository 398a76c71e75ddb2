"""Where a run's time goes (`make bench`): Snakemake benchmark files (one TSV per job) summed per
rule and per pipeline stage, a stage being the rules file (`rules/{stage}.smk`) that defines the
rule.

As a command, prints per stage the number of jobs, summed job time and share, its slowest job,
the largest peak memory (Snakemake's max_rss) with its job, and the ten slowest rules, for one run
seed plus the jobs all seeds share (raw images, detection); then whether any job went above the
8 GiB memory goal. Summed job time exceeds wall time when jobs ran side by side.
Usage: python -m occlusion_fr_tooling.stage_times [--dataset lfw] [--seed 0]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

from occlusion_fr.results_layout import dataset_dir, seed_dir

REPO = Path(__file__).resolve().parents[1]
MEMORY_GOAL_MB = 8 * 1024


def stage_order(snakefile: Path) -> list[str]:
    """The rules files (stages) in the order the Snakefile includes them, ``common`` aside."""
    return [stage for stage in re.findall(r'^include: "rules/(\w+)\.smk"', Path(snakefile).read_text(), re.M)
            if stage != "common"]


def rule_stages(rules_dir: Path) -> dict[str, str]:
    """{rule: stage} from the ``rule NAME:`` lines of ``rules_dir/*.smk``."""
    stages = {}
    for path in sorted(Path(rules_dir).glob("*.smk")):
        for rule in re.findall(r"^rule (\w+):", path.read_text(), re.M):
            stages[rule] = path.stem
    return stages


# Rules that measure a finished run (`make bench-tool`), not part of one: not in a seed's time.
MEASUREMENT_RULES = ("tool_benchmark",)


def benchmark_table(benchmark_dir: Path, stages: dict[str, str]) -> pd.DataFrame:
    """One row per benchmark file of a run's jobs: job (file stem), rule, stage, seconds,
    max_rss (MB). A file is ``{rule}.tsv`` or ``{rule}_{wildcards}.tsv``; the longest matching
    rule name wins. Files of no known rule are an error (a renamed rule leaves stale files
    behind); those of MEASUREMENT_RULES are left out."""
    rows = []
    for path in sorted(Path(benchmark_dir).glob("*.tsv")):
        rule = max((r for r in stages if path.stem == r or path.stem.startswith(r + "_")), key=len, default=None)
        if rule is None:
            raise ValueError(f"{path}: no rule in rules/*.smk matches this benchmark file")
        if rule in MEASUREMENT_RULES:
            continue
        record = pd.read_csv(path, sep="\t").iloc[-1]  # the latest run of the job
        rows.append({"job": path.stem, "rule": rule, "stage": stages[rule], "seconds": float(record["s"]),
                     "max_rss": float(record["max_rss"]) if record["max_rss"] != "-" else float("nan")})
    return pd.DataFrame(rows, columns=["job", "rule", "stage", "seconds", "max_rss"])


def stage_summary(table: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Per stage (in ``order``, the ones with jobs): jobs, summed job seconds, share of the total,
    its slowest job, and its largest peak memory (max_rss, MB) with that job."""
    rows = []
    total = table["seconds"].sum()
    for stage in order:
        jobs = table[table["stage"] == stage]
        if jobs.empty:
            continue
        slowest = jobs.loc[jobs["seconds"].idxmax()]
        largest = jobs.loc[jobs["max_rss"].fillna(-1).idxmax()]
        rows.append({"stage": stage, "jobs": len(jobs), "seconds": jobs["seconds"].sum(),
                     "share": jobs["seconds"].sum() / total, "slowest_job": slowest["job"],
                     "slowest_seconds": slowest["seconds"], "max_rss": largest["max_rss"],
                     "largest_job": largest["job"]})
    return pd.DataFrame(rows)


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
