import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "schemas" / "config.schema.yaml"
SHARED_LFW = REPO.parent / "shared" / "data" / "lfw" / "lfw-deepfunneled.tgz"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
TINY_PROFILE = REPO / "tests" / "profiles" / "tiny"

# Small enough that the whole pipeline, trainings included, runs in about a minute.
TINY_TRAINING = {"base_cnn": {"batch_size": 8}, "segmenter": {"batch_size": 8, "samples_per_epoch": 32,
                                                              "val_samples": 16},
                 "mask_generator": {"batch_size": 8}}
# The pairs file: 10 folds of 8 matched and 8 mismatched pairs over the 4 trained and 6 unseen people.
TINY = {**TINY_TRAINING, "datasets": {"synthetic": {"identities": 4, "images_per_identity": 5,
                                                    "unseen_identities": 6, "pairs_per_fold": 8,
                                                    "max_epochs": {"base_cnn": 2, "segmenter": 2,
                                                                   "mask_generator": 2}}},
        # The new analyses on a few values, so that the tiny run stays about a minute.
        "percentile_sweep": {"percentiles": [20, 40]}, "fdm_ablations": {"occlusions": ["eyes", "face_mask"]}}
TINY_PAIRS = 2 * 10 * TINY["datasets"]["synthetic"]["pairs_per_fold"]

needs_lfw = pytest.mark.skipif(not SHARED_LFW.is_file(), reason=f"LFW archive not at {SHARED_LFW}")


def snakemake(workdir: Path, *args: str, timeout: int = 900) -> str:
    """Run the repository's workflow in ``workdir``; return its output (Snakemake logs to
    stderr), raising with that output if it fails."""
    result = subprocess.run([*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
                             "--profile", str(TINY_PROFILE), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    if result.returncode != 0:
        raise SnakemakeFailed(result.stdout)
    return result.stdout


class SnakemakeFailed(RuntimeError):
    pass


@pytest.fixture
def workdir(tmp_path):
    """A working directory holding the default config (Snakefile's configfile), set to the
    synthetic dataset (the default, LFW, is for full runs) and one run seed."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    write_config(tmp_path / "config.yaml", {**config, "dataset": "synthetic", "seeds": [0]})
    return tmp_path


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """The whole workflow run once on TINY (seed 0) in a working directory shared by the tests
    that read its outputs (the end-to-end workflow test, the bundle and the commands)."""
    workdir = tmp_path_factory.mktemp("tiny_run")
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    write_config(workdir / "config.yaml", {**config, "dataset": "synthetic", "seeds": [0]})
    # The whole pipeline with every training: minutes on 2 fp32 cores, hence the long limit.
    snakemake(workdir, "--cores", "2", "--configfile", str(write_config(workdir / "tiny.yaml", TINY)), timeout=2700)
    return workdir


def write_config(path: Path, overrides: dict) -> Path:
    path.write_text(yaml.safe_dump(overrides))
    return path
