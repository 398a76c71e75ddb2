"""Where a run's time goes: Snakemake benchmark files (one TSV per job) summed per rule and per
pipeline stage, a stage being the rules file (`rules/{stage}.smk`) that defines the rule."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd


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


def benchmark_table(benchmark_dir: Path, stages: dict[str, str]) -> pd.DataFrame:
    """One row per benchmark file: job (file stem), rule, stage, seconds, max_rss (MB). A file
    is ``{rule}.tsv`` or ``{rule}_{wildcards}.tsv``; the longest matching rule name wins. Files
    of no known rule are an error (a renamed rule leaves stale files behind)."""
    rows = []
    for path in sorted(Path(benchmark_dir).glob("*.tsv")):
        rule = max((r for r in stages if path.stem == r or path.stem.startswith(r + "_")), key=len, default=None)
        if rule is None:
            raise ValueError(f"{path}: no rule in rules/*.smk matches this benchmark file")
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
