"""What a change costs to rerun: the jobs of a Snakemake DAG downstream of the jobs a change
touches, priced with a finished run's benchmark files.

The DAG comes from the text of ``snakemake --dry-run --forceall`` (every job with its input,
output and benchmark files), so the answer does not depend on which outputs exist where it is
asked; a job depends on another when one of its inputs is, or lies inside, the other's output.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

JOB = re.compile(r"^(?:local)?rule (\w+):\n((?:    .*\n?)*)", re.M)


@dataclass(frozen=True)
class Job:
    rule: str
    wildcards: dict[str, str]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    benchmark: str | None


def _files(value: str | None) -> tuple[str, ...]:
    return tuple(f for f in (value or "").split(", ") if f)


def parse_dry_run(text: str) -> list[Job]:
    """The jobs a dry run lists (its job blocks: ``rule NAME:`` and indented ``key: value`` lines)."""
    jobs = []
    for match in JOB.finditer(text):
        fields = dict(line.strip().split(": ", 1) for line in match[2].splitlines() if ": " in line)
        wildcards = dict(item.split("=", 1) for item in _files(fields.get("wildcards")))
        jobs.append(Job(match[1], wildcards, _files(fields.get("input")), _files(fields.get("output")),
                        fields.get("benchmark")))
    if not jobs:
        raise ValueError("no jobs in the dry run's output (was it run with --dry-run --forceall?)")
    return jobs


def _depends_on(job: Job, producer: Job) -> bool:
    return any(i == o or i.startswith(o.rstrip("/") + "/") for i in job.inputs for o in producer.outputs)


def downstream(jobs: list[Job], changed: list[int]) -> list[int]:
    """Indices of the ``changed`` jobs and of every job that depends on them, directly or not."""
    reached, frontier = set(changed), list(changed)
    while frontier:
        producer = jobs[frontier.pop()]
        for index, job in enumerate(jobs):
            if index not in reached and _depends_on(job, producer):
                reached.add(index)
                frontier.append(index)
    return sorted(reached)


def matching(jobs: list[Job], rule: str, **wildcards: str) -> list[int]:
    """Indices of the jobs of ``rule`` whose wildcards include ``wildcards``."""
    found = [i for i, job in enumerate(jobs)
             if job.rule == rule and all(job.wildcards.get(k) == v for k, v in wildcards.items())]
    if not found:
        raise ValueError(f"the DAG has no {rule} job with {wildcards}")
    return found


def benchmark_seconds(path: Path) -> float | None:
    """A benchmark file's latest measured seconds, None when the job never ran there."""
    if not Path(path).is_file():
        return None
    return float(pd.read_csv(path, sep="\t").iloc[-1]["s"])


# What a change to one masking layout touches first (the rest follows from the DAG): its
# regions (the layout's definition) or only its mask dictionary (its percentile).
LAYOUT_CHANGES = {"regions": ("region_layout", "layout"), "percentile": ("mask_dictionary", "masking_layout")}


def layout_change_costs(jobs: list[Job], layouts: list[str],
                        seconds_of: Callable[[str], float | None]) -> pd.DataFrame:
    """Per masking layout and kind of change: the jobs it reruns, their summed measured seconds
    (``seconds_of(benchmark path)``), how many of them declare a benchmark that was never
    measured (the sum misses them) and the rules involved. Jobs without a benchmark directive
    only gather files (``all``, training curves) and count as jobs, not time."""
    rows = []
    for layout in layouts:
        for change, (rule, wildcard) in LAYOUT_CHANGES.items():
            rerun = [jobs[i] for i in downstream(jobs, matching(jobs, rule, **{wildcard: layout}))]
            times = [seconds_of(job.benchmark) for job in rerun if job.benchmark]
            rows.append({"layout": layout, "change": change, "jobs": len(rerun),
                         "seconds": sum(t for t in times if t is not None),
                         "unmeasured_jobs": sum(t is None for t in times),
                         "rules": " ".join(sorted({job.rule for job in rerun}))})
    return pd.DataFrame(rows)
