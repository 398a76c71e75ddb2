"""Where outputs live, in one place: ``results/{dataset}/`` holds what every run seed shares (raw
images, detections, pairs, the across-seeds tables); ``results/{dataset}/seed{N}/`` one run.

The rules (``rules/common.smk``) and the repository's tooling (``occlusion_fr_tooling``) take their
paths from here; with the default wildcards the functions give the rules' patterns.
"""

from __future__ import annotations

from pathlib import Path

RESULTS = "results"


def results(dataset: str, path: str) -> str:
    """An output shared by every run seed of ``dataset`` (relative to the working directory)."""
    return f"{RESULTS}/{dataset}/{path}"


def run_results(path: str, dataset: str = "{dataset}", seed="{seed}") -> str:
    """An output of one run seed: a rule's pattern by default, a concrete path with values."""
    return f"{RESULTS}/{dataset}/seed{seed}/{path}"


def dataset_dir(dataset: str, root=".") -> Path:
    """``results/{dataset}`` under ``root`` (e.g. the repository)."""
    return Path(root) / RESULTS / dataset


def seed_dir(dataset_folder, seed) -> Path:
    """A run seed's folder inside a dataset's results folder."""
    return Path(dataset_folder) / f"seed{seed}"


def compute_limits_dir(root=".") -> Path:
    """`occlusion_fr_tooling.compute_limits`'s tables, one per CPU capability (AVX2, AVX512, ...): the
    machine's kernel peaks and each training stage's share of them."""
    return Path(root) / RESULTS / "compute_limits"


def compute_limits_csv(cpu_capability: str, root=".") -> Path:
    return compute_limits_dir(root) / f"{cpu_capability}.csv"
