import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "schemas" / "config.schema.yaml"
SHARED_LFW = REPO.parent / "shared" / "data" / "lfw" / "lfw-deepfunneled.tgz"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]

needs_lfw = pytest.mark.skipif(not SHARED_LFW.is_file(), reason=f"LFW archive not at {SHARED_LFW}")


def snakemake(workdir: Path, *args: str) -> str:
    """Run the repository's workflow in ``workdir``; return its output (Snakemake logs to
    stderr), raising with that output if it fails."""
    result = subprocess.run([*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory", str(workdir), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    if result.returncode != 0:
        raise SnakemakeFailed(result.stdout)
    return result.stdout


class SnakemakeFailed(RuntimeError):
    pass


@pytest.fixture
def workdir(tmp_path):
    """A working directory holding a copy of the default config (Snakefile's configfile)."""
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    return tmp_path


def write_config(path: Path, overrides: dict) -> Path:
    path.write_text(yaml.safe_dump(overrides))
    return path
