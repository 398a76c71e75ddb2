from pathlib import Path

from snakemake.utils import min_version

from occlusion_fr.config import validate_config

min_version("9.0")

# Fails `snakemake -n` with every wrong key named; fills the documented defaults.
validate_config(config, Path(workflow.basedir) / "schemas" / "config.schema.yaml")

DATASET = config["dataset"]
LAYOUTS = list(config["layouts"])


wildcard_constraints:
    dataset="|".join(config["datasets"]),
    layout="|".join(LAYOUTS),


def results(dataset, path):
    return f"results/{dataset}/{path}"


def layout_spec(wildcards):
    """A layout's region definition, without the percentile (used only by the mask
    dictionary), so changing a percentile does not recompute the regions."""
    return {k: v for k, v in config["layouts"][wildcards.layout].items() if k != "percentile"}


def data_stage_outputs(dataset):
    return [
        results(dataset, "split.csv"),
        results(dataset, "landmarks/statistics.json"),
        results(dataset, "figures/landmark_distances.png"),
        results(dataset, "regions/coverage.md"),
        *expand(results(dataset, "regions/{layout}.json"), layout=LAYOUTS),
        *expand(results(dataset, "figures/regions_{layout}.png"), layout=LAYOUTS),
    ]
