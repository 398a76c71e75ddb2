"""The SLURM profile against a real single-node SLURM (slurmctld, slurmd, slurmdbd + mariadb,
munge) started by the test. `.ci/run` installs Debian's slurm-wlm, slurmdbd, mariadb-server and
munge and sets REQUIRE_SLURM=1, so there a missing SLURM fails instead of skipping."""

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import REPO, write_config

pytestmark = pytest.mark.slow
HAVE_SLURM = all(shutil.which(tool) for tool in ("slurmctld", "slurmd", "slurmdbd", "munged", "mariadbd"))
if not HAVE_SLURM and os.environ.get("REQUIRE_SLURM") == "1":
    raise RuntimeError("REQUIRE_SLURM=1 but slurm-wlm, slurmdbd, mariadb-server or munge is not installed")
needs_slurm = pytest.mark.skipif(not HAVE_SLURM or os.geteuid() != 0,
                                 reason="needs root and Debian's slurm-wlm, slurmdbd, mariadb-server, munge")
TINY = {"base_cnn": {"batch_size": 8}, "datasets": {"synthetic": {
    "identities": 4, "images_per_identity": 5, "max_epochs": {"base_cnn": 1}}}}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    root = tmp_path_factory.mktemp("slurm")
    env = {**os.environ, "ROOT": str(root), "WITH_DBD": "1"}
    subprocess.run(["bash", str(REPO / "tests/slurm/start_cluster.sh")], env=env, check=True, timeout=120,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield root
    finally:
        subprocess.run(["bash", str(REPO / "tests/slurm/stop_cluster.sh")], env=env, timeout=60)


@pytest.fixture
def slurm_profile(tmp_path):
    """The repository's SLURM profile, sized for the 2-CPU, GPU-less test node."""
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    profile.update({"jobs": 2, "latency-wait": 5, "retries": 0, "slurm-init-seconds-before-status-checks": 2})
    profile["default-resources"] = {**profile["default-resources"], "mem_mb": 1000, "runtime": 10}
    profile["set-threads"] = {rule: min(threads, 2) for rule, threads in profile["set-threads"].items()}
    profile["set-resources"] = {rule: {"mem_mb": 3000, "runtime": 10, "cpus_per_task": profile["set-threads"].get(
        rule, 1)} for rule in profile["set-resources"]}  # no GPU, 2 CPUs, 20 GB on the test node
    folder = tmp_path / "profile"
    folder.mkdir()
    (folder / "config.yaml").write_text(yaml.safe_dump(profile))
    return folder


def run_on_slurm(workdir, profile, *args):
    # The plugin does not fail a run whose status checks fail, it waits: bound it.
    command = ["timeout", "-k", "10", "600", sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
               "--directory", str(workdir), "--workflow-profile", str(profile), *args]
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def accounted_jobs(output: str) -> list[tuple[str, str]]:
    """(rule, sacct state) of every SLURM job the run reports submitting; the rule is read from
    the job's log path, which the plugin names after it."""
    submitted = dict(re.findall(r"submitted with SLURM jobid (\d+) \(log: \S*/slurm_logs/rule_([A-Za-z0-9_]+?)/",
                                output))
    if not submitted:
        return []
    out = subprocess.run(["sacct", "-X", "-n", "-P", "--format=JobID,State", "-j", ",".join(submitted)],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return [(submitted[job_id], state) for job_id, state in (line.split("|") for line in out.splitlines())]


@needs_slurm
def test_pipeline_runs_through_sbatch_and_every_job_completes(cluster, workdir, slurm_profile):
    config = write_config(workdir / "tiny.yaml", TINY)
    targets = ["results/synthetic/seed0/regions/coverage.md", "results/synthetic/seed0/models/base_cnn/metrics.json"]
    result = run_on_slurm(workdir, slurm_profile, *targets, "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-5000:]
    assert all((workdir / target).is_file() for target in targets)
    jobs = accounted_jobs(result.stdout)
    assert sorted(rule for rule, _ in jobs) == sorted(["synthetic_dataset", "detect_faces", "split", "base_cnn",
                                                       "coverage_report"] + ["region_layout"] * 4), jobs
    assert all(state == "COMPLETED" for _, state in jobs), jobs


@needs_slurm
def test_a_failing_job_fails_the_run(cluster, workdir, slurm_profile):
    config = write_config(workdir / "broken.yaml", {"dataset": "lfw", "datasets": {"lfw": {
        "archive": str(workdir / "missing.tgz"), "url": None}}})
    result = run_on_slurm(workdir, slurm_profile, "results/lfw/raw/index.csv", "--configfile", str(config))
    assert result.returncode not in (0, 124, 137), result.stdout[-5000:]  # failed, not hung
    assert accounted_jobs(result.stdout) == [("lfw_dataset", "FAILED")]
