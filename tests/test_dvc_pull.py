"""`make pull` without anything to pull: one line that says why and what to do, exit status 1,
no traceback (the pull itself, REMOTE= a local remote into a fresh clone: tests/test_dvc.py)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO

ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1",
       "XDG_CONFIG_HOME": "/nonexistent"}  # a developer's global DVC config (a default remote) stays out


def pull(root: Path, **env) -> subprocess.CompletedProcess:
    script = root / "occlusion_fr_tooling" / "dvc_pull.sh"
    script.parent.mkdir(exist_ok=True)
    shutil.copy(REPO / "occlusion_fr_tooling" / "dvc_pull.sh", script)
    return subprocess.run(["bash", str(script)], cwd=root, env={**ENV, **env}, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120)


def one_line_refusal(result: subprocess.CompletedProcess, says: str) -> None:
    assert result.returncode == 1, result
    assert result.stderr.count("\n") == 1 and says in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_without_a_lock_pull_says_there_is_no_run_to_pull(tmp_path):
    one_line_refusal(pull(tmp_path), "this commit has no dvc.lock")


def test_without_a_remote_pull_says_how_to_name_one(tmp_path):
    subprocess.run(["dvc", "init", "--no-scm", "-q"], cwd=tmp_path, env=ENV, check=True)
    (tmp_path / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")
    one_line_refusal(pull(tmp_path), "no DVC remote is configured; name one: make pull REMOTE=")
