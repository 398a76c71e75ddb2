"""A run from a bundle (`pretrained.bundle`), end to end on the tiny run's bundle: it plans no
training job, and with the same data and split it reproduces the trained run's Table 1."""

import json

import pandas as pd
import pytest
import yaml

from conftest import REPO, TINY, SnakemakeFailed, snakemake, write_config
from test_workflow import planned_jobs

pytestmark = pytest.mark.slow
RUN = "results/synthetic/seed0"
TRAINING = {"base_cnn", "segmenter", "mask_generator", "mask_dictionary", "training_history"}


@pytest.fixture(scope="module")
def evaluation(tiny_run, tmp_path_factory):
    """A second working directory, config as the tiny run's but with its bundle as `pretrained`:
    the same synthetic data and split seed, so every test image is one the bundle never trained on."""
    workdir = tmp_path_factory.mktemp("from_bundle")
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    write_config(workdir / "config.yaml", {**config, "dataset": "synthetic", "seeds": [0],
                                           "pretrained": {"bundle": str(tiny_run / RUN / "bundle")}})
    tiny = write_config(workdir / "tiny.yaml", TINY)
    return workdir, tiny


def test_a_run_from_a_bundle_plans_only_detection_occlusions_and_evaluation(evaluation):
    workdir, tiny = evaluation
    jobs = planned_jobs(snakemake(workdir, "-n", "--configfile", str(tiny)))
    assert jobs["pretrained_models"] == 1 and not TRAINING & set(jobs)
    # No percentile sweep (it needs the generators), no bundle, no across-seeds tables; only
    # the validation and test occlusion sets (7 + 8), no training set.
    assert not {"percentile_sweep", "percentile_sweeps", "bundle", "across_seeds"} & set(jobs)
    assert jobs["occlusion_set"] == 15 and jobs["region_layout"] == 1  # the occlusion bands' layout alone
    for rule in ("identification", "table1", "verification", "open_set", "fdm_control", "fdm_ablation",
                 "method_selection", "saliency_figures", "mask_figure"):
        assert jobs[rule] >= 1, rule
    lint = snakemake(workdir, "--lint", "--configfile", str(tiny))
    assert "Congratulations, your workflow is in a good condition!" in lint, lint


def test_a_run_from_a_bundle_reproduces_the_trained_runs_table_1(evaluation, tiny_run):
    workdir, tiny = evaluation
    snakemake(workdir, "--cores", "2", "--configfile", str(tiny), "--", f"{RUN}/table1.md", timeout=1800)
    ours, trained = (pd.read_csv(root / RUN / "table1.csv") for root in (workdir, tiny_run))
    keys = ["strategy", "detector", "occlusion"]
    merged = ours.merge(trained, on=keys, suffixes=("", "_trained"), validate="one_to_one")
    assert len(merged) == len(trained)
    assert (merged["rank1"] - merged["rank1_trained"]).abs().max() <= 1e-3
    record = json.loads((workdir / RUN / "pretrained.json").read_text())
    assert record["bundle"] == str(tiny_run / RUN / "bundle") and record["seed"] == 0
    assert "not trained in this run" in (workdir / RUN / "table1.md").read_text()
    assert not (workdir / RUN / "models" / "mask_generators").exists()


def test_a_run_that_does_not_fit_the_bundle_is_refused_before_anything_runs(evaluation):
    workdir, tiny = evaluation
    margin = write_config(workdir / "margin.yaml", {"detection": {"margin": 0.2}})
    with pytest.raises(SnakemakeFailed, match=r"detection\.margin: 0\.2, but the bundle's models"):
        snakemake(workdir, "-n", "--configfile", str(tiny), str(margin))
