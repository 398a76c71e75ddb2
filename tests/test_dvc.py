"""DVC over the Snakemake workflow, for real: a throw-away git repository holding this working
tree with the tiny synthetic run (config and results), a local folder as DVC remote. `dvc repro`
runs every stage and locks the run's hashes, `dvc push` shares it, a fresh clone pulls it without
retraining anything and identifies a photo with the pulled bundle, and an experiment on one layout
key reruns only that layout's jobs."""

import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, TINY_PROFILE

pytestmark = pytest.mark.slow
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
       "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.org", "GIT_COMMITTER_NAME": "test",
       "GIT_COMMITTER_EMAIL": "test@example.org", "DVC_NO_ANALYTICS": "1",
       "XDG_CONFIG_HOME": "/nonexistent",  # a developer's global DVC config (a default remote) stays out
       "SNAKEMAKE_PROFILE": str(TINY_PROFILE)}  # dvc.yaml's snakemake commands: one thread per job
OUT = Path("results/synthetic")
RUN = OUT / "seed0"
CACHED_STAGES = ["faces", "data", "occlusions", "models", "masks"]  # all but the always-changed aggregate
# The Snakefile's target of each DVC stage (dvc.yaml's commands).
STAGE_TARGETS = ["faces_stage", "data_stage", "occlusion_stage", "model_stage", "mask_stage", "across_seeds_stage"]


def run(cwd: Path, *command: str) -> str:
    result = subprocess.run(command, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=900)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-6000:]}"
    return result.stdout


def deep_update(base: dict, changes: dict) -> dict:
    for key, value in changes.items():
        base[key] = deep_update(base.get(key, {}), value) if isinstance(value, dict) else value
    return base


def hashes(root: Path) -> dict[str, str]:
    """md5 of every result file (resumable training checkpoints are neither in git nor DVC)."""
    return {str(path.relative_to(root)): hashlib.md5(path.read_bytes()).hexdigest()
            for path in sorted((root / OUT).rglob("*")) if path.is_file() and "checkpoints" not in path.parts}


def jobs_run(output: str) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job Snakemake started, read from its log (a job is a block
    from "rule NAME:" to the next blank line)."""
    jobs = []
    for block in re.findall(r"^(?:local)?rule \w+:\n(?:    .*\n)*", output, re.M):
        wildcards = re.search(r"^    wildcards: (.*)$", block, re.M)
        jobs.append((re.match(r"(?:local)?rule (\w+)", block)[1], wildcards[1] if wildcards else ""))
    return jobs


@pytest.fixture(scope="module")
def origin(tiny_run, tmp_path_factory):
    """The working tree (without results, data or caches) as a new git repository with the tiny
    run's config and results (copied with their time stamps: CI trains the tiny run once), after
    `dvc repro`, a commit and `dvc push` to a local remote."""
    root = tmp_path_factory.mktemp("dvc")
    origin = root / "origin"
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                            stdout=subprocess.PIPE, text=True).stdout.split("\0")
    for name in filter(None, listed):
        if name.startswith(("results/", "data/")) or not (REPO / name).is_file():
            continue
        (origin / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, origin / name)
    # The tiny run's config, merged as Snakemake merged it, key order included (params are compared
    # with it): Snakemake starts from the --configfile overrides, updates with the Snakefile's
    # configfile, then applies the overrides again.
    overrides = yaml.safe_load((tiny_run / "tiny.yaml").read_text())
    config = deep_update(deep_update(copy.deepcopy(overrides), yaml.safe_load((tiny_run / "config.yaml").read_text())),
                         overrides)
    (origin / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    # Seed 0 of the tiny run, without what other tests add beside it (another seed, the report),
    # with Snakemake's records of its jobs (params, code), so that an edit there reruns as it would.
    shutil.copytree(tiny_run / OUT, origin / OUT, ignore=shutil.ignore_patterns("seed[1-9]*", "report.html"))
    shutil.copytree(tiny_run / ".snakemake" / "metadata", origin / ".snakemake" / "metadata")
    # Commit the synthetic run's small results, as the repository does for LFW.
    ignore = origin / ".gitignore"
    ignore.write_text(ignore.read_text().replace("results/synthetic/\n", ""))
    run(origin, "git", "init", "-q")
    # The remote is this clone's own (.dvc/config.local): a fresh clone names it, `make pull REMOTE=...`.
    run(origin, "dvc", "remote", "add", "--local", "-d", "local", str(root / "remote"))
    # DVC's default cache (reflink, else copy) rewrites each file output it commits, with a new
    # time stamp, and the next stage's Snakemake would see updated inputs and retrain; a copy
    # cache leaves the files, and their time order, alone.
    run(origin, "dvc", "config", "--local", "cache.type", "copy")
    run(origin, "git", "add", "-A")
    run(origin, "git", "commit", "-qm", "tiny workflow")
    repro = run(origin, "dvc", "repro")
    run(origin, "git", "add", "-A")
    run(origin, "git", "commit", "-qm", "tiny run")
    run(origin, "dvc", "push")
    return origin, repro


def test_repro_runs_every_stage_and_locks_it(origin):
    repo, repro = origin
    # Every stage's Snakemake target ran and found the tiny run's jobs done (same config, code
    # and time order), so the lock holds the hashes of what the tiny run trained.
    for target in STAGE_TARGETS:
        assert f"snakemake --cores all {target}" in repro, target
    assert {rule for rule, _ in jobs_run(repro)} <= set(STAGE_TARGETS), repro[-3000:]
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    assert set(lock["stages"]) == {"faces", "data@0", "occlusions@0", "models@0", "masks@0", "across_seeds"}
    assert lock["stages"]["masks@0"]["params"]["config.yaml"]["layouts"]["lm1"]["percentile"] == "validation"
    assert "up to date" in run(repo, "dvc", "status", *CACHED_STAGES)
    metrics = yaml.safe_load(run(repo, "dvc", "metrics", "show", "--json"))[""]["data"]
    table = metrics[f"{RUN}/table1.json"]["data"]
    assert 0 <= table["segmenter"]["clean"]["lm2"] <= 1 and set(table["oracle"]["face_mask"]) == {
        "none", "grid3x3", "lm1", "lm2"}
    across = metrics[f"{OUT}/across_seeds/table1.json"]["data"]
    assert across["segmenter"]["clean"]["lm2"]["mean"] == table["segmenter"]["clean"]["lm2"]
    assert f"{RUN}/models/base_cnn/history.csv" in run(repo, "dvc", "plots", "show", "--json")


def test_fresh_clone_pulls_everything_and_retrains_nothing(origin, tmp_path):
    repo, _ = origin
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", str(repo), str(clone))
    assert not (clone / RUN / "models/base_cnn/weights.pt").exists()  # weights come from DVC, not git
    # Without a remote, one line says what to do (no traceback, nothing pulled).
    refused = subprocess.run(["bash", "occlusion_fr_tooling/dvc_pull.sh"], cwd=clone, env=ENV, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    assert refused.returncode == 1 and refused.stderr.strip().count("\n") == 0, refused.stderr
    assert "no DVC remote is configured" in refused.stderr and "REMOTE=" in refused.stderr
    assert not (clone / RUN / "models/base_cnn/weights.pt").exists()
    run(clone, "env", f"REMOTE={repo.parent / 'remote'}", "bash", "occlusion_fr_tooling/dvc_pull.sh")
    assert hashes(clone) == hashes(repo)
    dry_run = run(clone, "snakemake", "-n")
    assert "Nothing to be done" in dry_run, dry_run[-3000:]
    # The pulled bundle answers at once (a smoke test: the tool's own tests check its answers).
    # The dataset's photos (MTCNN finds no face in some synthetic ones: they are answered with that).
    answers = json.loads(run(clone, "occlusion-fr", "identify", str(RUN / "bundle"), str(OUT / "raw" / "images"),
                             "--json"))
    answered = [answer for answer in answers if "error" not in answer]
    assert answered and all("no face found" in answer["error"] for answer in answers if "error" in answer), answers


def test_experiment_on_a_layout_key_reruns_only_that_layout(origin):
    repo, _ = origin
    before = hashes(repo)
    output = run(repo, "dvc", "exp", "run", "-S", "config.yaml:layouts.lm1.percentile=50")
    jobs = [(rule, wildcards) for rule, wildcards in jobs_run(output) if not rule.endswith("_stage")]
    run_wildcards = "dataset=synthetic, seed=0"
    lm1 = [f"{run_wildcards}, masking_layout=lm1, region={r}" for r in ("left_eye", "mouth", "nose", "right_eye")]
    assert sorted(jobs) == sorted([*[("mask_dictionary", w) for w in lm1],
                                   ("mask_figure", f"{run_wildcards}, masking_layout=lm1"),
                                   ("identification", f"{run_wildcards}, strategy=lm1"),
                                   ("table1", run_wildcards), ("fdm_effect", run_wildcards),
                                   ("fdm_control", f"{run_wildcards}, masking_layout=lm1"),
                                   ("fdm_controls", run_wildcards), ("verification", run_wildcards),
                                   ("fdm_ablation", f"{run_wildcards}, masking_layout=lm1"),
                                   ("fdm_ablations", run_wildcards), ("claim_tests", run_wildcards),
                                   ("percentile_sweep", f"{run_wildcards}, masking_layout=lm1"),
                                   ("percentile_sweeps", run_wildcards), ("method_selection", run_wildcards),
                                   ("open_set", run_wildcards),
                                   ("bundle", run_wildcards), ("across_seeds", "dataset=synthetic"),
                                   ("open_set_across_seeds", "dataset=synthetic")]), output[-5000:]
    after = hashes(repo)
    changed = {path for path in after if after[path] != before.get(path)}
    assert any(path.startswith(f"{RUN}/masks/lm1/") for path in changed)
    # Generators, other layouts' masks and the models are untouched.
    assert not {path for path in changed if re.search(r"(weights\.pt|mask_generators/|masks/lm2/)", path)}
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    assert lock["stages"]["masks@0"]["params"]["config.yaml"]["layouts"]["lm1"]["percentile"] == 50
