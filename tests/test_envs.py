"""Conda environments agree with requirements.txt, and the workflow passes Snakemake's linter."""

import re

import pytest
import yaml

from conftest import REPO, snakemake

ENVS = sorted((REPO / "envs").glob("*.yaml"))


def pins(lines) -> dict[str, str]:
    return {m[1].lower(): m[2] for line in lines if (m := re.match(r"\s*([A-Za-z0-9_.-]+)==(\S+)", line))}


REQUIREMENTS = pins((REPO / "requirements.txt").read_text().splitlines())


def test_there_are_environments_for_the_rules():
    assert {path.stem for path in ENVS} == {"data", "models"}


@pytest.mark.parametrize("env", ENVS, ids=lambda path: path.stem)
def test_environment_pins_match_the_requirements(env):
    spec = yaml.safe_load(env.read_text())
    assert "python=3.11" in spec["dependencies"]
    pip = next(item["pip"] for item in spec["dependencies"] if isinstance(item, dict))
    env_pins = pins(pip)
    assert len(env_pins) == len(pip), f"{env.name}: every pip entry must be pinned with =="
    drift = {name: (version, REQUIREMENTS.get(name)) for name, version in env_pins.items()
             if REQUIREMENTS.get(name) != version}
    assert not drift, f"{env.name} differs from requirements.txt (env, requirements): {drift}"


def test_facenet_pin_is_the_same_for_make_and_conda():
    makefile = pins(re.findall(r"facenet-pytorch==\S+", (REPO / "Makefile").read_text()))
    post_deploy = pins(re.findall(r"facenet-pytorch==\S+", (REPO / "envs/data.post-deploy.sh").read_text()))
    assert makefile == post_deploy and "facenet-pytorch" in makefile


@pytest.mark.slow
def test_every_rule_has_an_environment_and_lint_is_clean(workdir):
    output = snakemake(workdir, "--lint")
    assert "Congratulations, your workflow is in a good condition!" in output, output
