from pathlib import Path

from snakemake.utils import min_version

from occlusion_fr.config import validate_config
from occlusion_fr.occlusions.sets import renderer_spec
from occlusion_fr.regions import region_names

min_version("9.0")

# Fails `snakemake -n` with every wrong key named; fills the documented defaults.
validate_config(config, Path(workflow.basedir) / "schemas" / "config.schema.yaml")

DATASET = config["dataset"]
LAYOUTS = list(config["layouts"])  # masking layouts: blocks (and later mask dictionaries)
REGION_LAYOUTS = {**config["layouts"], **config["occlusion_layouts"]}  # all written to regions/


# Table 1: rows are clean test crops and the test occlusions; columns no FDM and each layout.
PROBES = ["clean", *config["occlusion_sets"]["test"]]
STRATEGIES = ["none", *LAYOUTS]

OCCLUSION_SETS = [(split, name) for split, names in config["occlusion_sets"].items() for name in names]


wildcard_constraints:
    dataset="|".join(config["datasets"]),
    layout="|".join(REGION_LAYOUTS),
    split="train|val|test",
    occlusion="|".join(config["occlusions"]),
    probe="|".join(["clean", *config["occlusions"]]),
    masking_layout="|".join(LAYOUTS),
    strategy="|".join(STRATEGIES),
    region="[A-Za-z0-9_]+",


def results(dataset, path):
    return f"results/{dataset}/{path}"


def layout_spec(wildcards):
    """A layout's region definition, without the percentile (used only by the mask
    dictionary), so changing a percentile does not recompute the regions."""
    return {k: v for k, v in REGION_LAYOUTS[wildcards.layout].items() if k != "percentile"}


def masking_layout_regions(layout):
    return region_names(config["layouts"][layout])


def layout_masks(wildcards):
    """The binary masks of every region of a masking layout."""
    return [results(wildcards.dataset, f"masks/{wildcards.masking_layout}/{region}.npy")
            for region in masking_layout_regions(wildcards.masking_layout)]


def occlusion_set_files(suffix):
    """Input function: one file per configured (split, occlusion) set, e.g. its index."""

    def files(wildcards):
        separator = "." if suffix == "csv" else ""
        return [results(wildcards.dataset, f"occlusions/{split}/{name}{separator}{suffix}")
                for split, name in OCCLUSION_SETS]

    return files


def occlusion_stage_outputs(dataset):
    return [
        results(dataset, "occlusions/summary.md"),
        *[results(dataset, f"figures/occlusions/{split}_{name}.png") for split, name in OCCLUSION_SETS],
        *expand(results(dataset, "blocks/{layout}.csv"), layout=LAYOUTS),
        *expand(results(dataset, "figures/blocks_{layout}.png"), layout=LAYOUTS),
    ]


def model_stage_outputs(dataset):
    return [
        results(dataset, "models/base_cnn/metrics.json"),
        results(dataset, "figures/base_cnn_training.png"),
        results(dataset, "models/base_cnn/history.csv"),
        results(dataset, "models/segmenter/history.csv"),
        results(dataset, "models/segmenter/test_metrics.md"),
        results(dataset, "figures/segmenter_predictions.png"),
    ]


def mask_stage_outputs(dataset):
    return [
        *[results(dataset, f"masks/{layout}/{region}.npy") for layout in LAYOUTS
          for region in masking_layout_regions(layout)],
        *expand(results(dataset, "figures/masks_{layout}.png"), layout=LAYOUTS),
        results(dataset, "table1.md"),
        results(dataset, "figures/saliency_clean.png"),
        results(dataset, "figures/saliency_fdm.png"),
    ]


def data_stage_outputs(dataset):
    return [
        results(dataset, "split.csv"),
        results(dataset, "landmarks/statistics.json"),
        results(dataset, "figures/landmark_distances.png"),
        results(dataset, "regions/coverage.md"),
        *expand(results(dataset, "regions/{layout}.json"), layout=REGION_LAYOUTS),
        *expand(results(dataset, "figures/regions_{layout}.png"), layout=REGION_LAYOUTS),
    ]


# Input functions of the rules (kept here, as Snakemake's linter asks).


def lfw_archive_input(wildcards):
    """The local archive when it exists; otherwise nothing, and the script downloads from
    datasets.lfw.url. Its content is pinned by datasets.lfw.sha256 (a param, so a new archive
    means a new checksum and a rerun); its time stamp is ignored (ancient), because a copied or
    re-provisioned archive gets a new one and must not rerun the whole pipeline."""
    archive = config["datasets"]["lfw"]["archive"]
    return [ancient(archive)] if archive and Path(archive).is_file() else []


def band_layouts(wildcards):
    """A band occlusion depends on its layout's regions; other renderers on no layout."""
    spec = config["occlusions"][wildcards.occlusion]
    return [results(wildcards.dataset, f"regions/{spec['layout']}.json")] if spec["type"] == "band" else []


def image_set_inputs(wildcards):
    """An occlusion set's images and index; clean crops need nothing beyond the crops."""
    if wildcards.probe == "clean":
        return {}
    stem = results(wildcards.dataset, f"occlusions/{wildcards.split}/{wildcards.probe}")
    return {"set": stem, "index": f"{stem}.csv"}


def identification_inputs(wildcards):
    """Probe and gallery feature maps; for a layout also its regions, masks and the probes'
    occlusion masks (no FDM needs none of them)."""
    ds = wildcards.dataset
    inputs = {
        "gallery": results(ds, "features/train/clean.npz"),
        "probes": [results(ds, f"features/test/{probe}.npz") for probe in PROBES],
    }
    if wildcards.strategy != "none":
        layout = wildcards.strategy
        inputs["regions"] = results(ds, f"regions/{layout}.json")
        inputs["masks"] = [results(ds, f"masks/{layout}/{r}.npy") for r in masking_layout_regions(layout)]
        inputs["occlusion_masks"] = [results(ds, f"predictions/test/{probe}.npz") for probe in PROBES]
    return inputs


def paper_table(wildcards):
    """The paper's Table 1 for this dataset, if any; a relative path is inside the repository."""
    path = config["datasets"][wildcards.dataset].get("paper_table1")
    return [str(Path(workflow.basedir) / path)] if path else []
