import hashlib
import re
from functools import cache
from pathlib import Path

from snakemake.utils import min_version

from occlusion_fr import CROP_HEIGHT, CROP_WIDTH
from occlusion_fr.bundle import MANIFEST, BundleSettings
from occlusion_fr.config import validate_config
from occlusion_fr.datasets.outsiders import OUTSIDER_KEYS
from occlusion_fr.datasets.sources import SOURCE_KEYS
from occlusion_fr.io import sha256_of
from occlusion_fr.masking.percentile import DICTIONARY_KEYS, VALIDATION, fixed_percentiles
from occlusion_fr.method.selection import NO_FDM
from occlusion_fr.models.settings import training_settings
from occlusion_fr.occlusions.directory_source import folder_manifest
from occlusion_fr.occlusions.renderers import renderer_spec
from occlusion_fr.pretrained import RECORD as PRETRAINED_RECORD
from occlusion_fr.pretrained import check_pretrained
from occlusion_fr.regions import region_names
from occlusion_fr.results_layout import results, run_results

min_version("9.0")

# `--config seeds=[0,1]` (as DVC's per-seed stages pass it) arrives as strings.
if isinstance(config.get("seeds"), list):
    config["seeds"] = [int(s) if isinstance(s, str) and s.isdigit() else s for s in config["seeds"]]
# Fails `snakemake -n` with every wrong key named; fills the documented defaults.
validate_config(config, Path(workflow.basedir) / "schemas" / "config.schema.yaml")


def name_pattern(names):
    """A wildcard constraint matching exactly these names (none: matches nothing)."""
    return "|".join(map(re.escape, names)) or "(?!)"


DATASET = config["dataset"]
# Datasets by source: a user's image folder gets its own raw and detection rules.
IMAGE_FOLDER_DATASETS = [name for name, d in config["datasets"].items() if d["source"] == "image_folder"]
LFW_ARCHIVE_DATASETS = [name for name, d in config["datasets"].items() if d["source"] == "lfw_archive"]
SEEDS = config["seeds"]  # one complete run per seed: results/{dataset}/seed{seed}/
LAYOUTS = list(config["layouts"])  # masking layouts: blocks (and later mask dictionaries)
REGION_LAYOUTS = {**config["layouts"], **config["occlusion_layouts"]}  # all written to regions/
# A bundle's models instead of training (rules/pretrained.smk); checked against the config here,
# so that `snakemake -n` names every mismatch.
PRETRAINED = config["pretrained"]["bundle"]
if PRETRAINED:
    check_pretrained(config, Path(results(DATASET, "")))
# The datasets whose models the workflow trains, and the one it takes from the bundle instead (as
# wildcard constraints of the training rules and of rules/pretrained.smk, so no file has two rules).
TRAINED_DATASETS = name_pattern([name for name in config["datasets"] if not (PRETRAINED and name == DATASET)])
PRETRAINED_DATASET = name_pattern([DATASET] if PRETRAINED else [])
# Layouts whose regions this run computes from its own landmarks: with a bundle, the masking
# layouts' regions are the bundle's (its masks were made for them).
DERIVED_LAYOUTS = [name for name in REGION_LAYOUTS if not (PRETRAINED and name in config["layouts"])]


# Table 1: rows are clean test crops and the test occlusions; columns no FDM and each layout.
PROBES = ["clean", *config["occlusion_sets"]["test"]]
STRATEGIES = [NO_FDM, *LAYOUTS]
# The test-time method's settings (occlusion_fr.method.embedding.MethodSettings), a param of every
# job that embeds masked features, so that changing them reruns those jobs and nothing upstream.
METHOD = {key: config["feature_discarding"][key] for key in ("position", "normalisation")}

OCCLUSION_SETS = [(split, name) for split, names in config["occlusion_sets"].items() for name in names]
# The sets a run renders: from a bundle it trains nothing, so it needs no training set.
RENDERED_SETS = [(split, name) for split, name in OCCLUSION_SETS if not (PRETRAINED and split == "train")]
# The segmenter reads only its own training and validation occlusions (and every test set, to
# score them), so rendering another training occlusion does not retrain it.
SEGMENTER_SETS = [(split, name) for split, name in OCCLUSION_SETS
                  if split == "test" or name in config["segmenter"]["occlusions"]]


wildcard_constraints:
    dataset="|".join(config["datasets"]),
    layout="|".join(REGION_LAYOUTS),
    split="train|val|test",
    occlusion="|".join(config["occlusions"]),
    probe="|".join(["clean", *config["occlusions"]]),
    masking_layout="|".join(LAYOUTS),
    strategy="|".join(STRATEGIES),
    region="[A-Za-z0-9_]+",
    seed="[0-9]+",


def layout_spec(wildcards):
    """A layout's region definition, without its percentiles (used only by the mask
    dictionary and its sweep), so changing a percentile does not recompute the regions."""
    return {k: v for k, v in REGION_LAYOUTS[wildcards.layout].items() if k not in DICTIONARY_KEYS}


def mask_dictionary_inputs(wildcards):
    """A region's mean mask (in its layout's generator folder), and its layout's percentile sweep where
    validation chooses the percentile."""
    layout = wildcards.masking_layout
    inputs = {"mean_masks": run_results(f"mask_generators/{layout}", wildcards.dataset, wildcards.seed)}
    if config["layouts"][layout]["percentile"] == VALIDATION:
        inputs["sweep"] = run_results(f"percentile_sweep/{layout}.csv", wildcards.dataset, wildcards.seed)
    return inputs


def masking_layout_regions(layout):
    return region_names(config["layouts"][layout])


def layout_masks(wildcards):
    """The binary masks of every region of a masking layout."""
    return [run_results(f"masks/{wildcards.masking_layout}/{region}.npy", wildcards.dataset, wildcards.seed)
            for region in masking_layout_regions(wildcards.masking_layout)]


def occlusion_set_files(suffix, sets=RENDERED_SETS):
    """Input function: one file per (split, occlusion) set (by default every one the run renders), e.g. its index."""

    def files(wildcards):
        separator = "." if suffix == "csv" else ""
        return [run_results(f"occlusions/{split}/{name}{separator}{suffix}", wildcards.dataset, wildcards.seed)
                for split, name in sets]

    return files


def faces_stage_outputs(dataset):
    """Shared by every run seed: the raw images, the detections and the crops, of the dataset,
    of its pairs file and of the people outside it."""
    return [results(dataset, "faces/faces.csv"), *([results(dataset, "pairs/faces.csv")] if has_pairs(dataset) else []),
            *([results(dataset, "open_set/faces.csv")] if has_open_set(dataset) else [])]


# Stage outputs of one run seed, relative to its folder (see stage_outputs).


def occlusion_stage_outputs():
    return [
        "occlusions/summary.md",
        *[f"figures/occlusions/{split}_{name}.png" for split, name in RENDERED_SETS],
        # The mask generators' training blocks: none from a bundle.
        *[f"blocks/{layout}.csv" for layout in LAYOUTS if not PRETRAINED],
        *[f"figures/blocks_{layout}.png" for layout in LAYOUTS if not PRETRAINED],
    ]


def model_stage_outputs():
    if PRETRAINED:
        return [PRETRAINED_RECORD]
    return [
        "models/base_cnn/metrics.json",
        "figures/base_cnn_training.png",
        "models/base_cnn/history.csv",
        "models/segmenter/history.csv",
        "models/segmenter/test_metrics.md",
        "figures/segmenter_predictions.png",
    ]


def mask_stage_outputs(dataset):
    # From a bundle: no mask generators (so no percentile sweep), and no bundle of its own.
    trained_only = ["bundle", "percentile_sweep/summary.md"] if PRETRAINED else []
    return [path for path in [
        *[f"masks/{layout}/{region}.npy" for layout in LAYOUTS for region in masking_layout_regions(layout)],
        *[f"figures/masks_{layout}.png" for layout in LAYOUTS],
        "table1.md",
        *(["verification.md"] if has_pairs(dataset) else []),
        *(["open_set.md"] if has_open_set(dataset) else []),
        "bundle",
        "identification/fdm_effect.md",
        "identification/claim_tests.md",
        "identification/fdm_ablations.md",
        "percentile_sweep/summary.md",
        "identification/fdm_controls.md",
        "method_selection.md",
        "figures/saliency_clean.png",
        "figures/saliency_fdm.png",
    ] if path not in trained_only]


def data_stage_outputs():
    return [
        "split.csv",
        "landmarks/statistics.json",
        "figures/landmark_distances.png",
        *(["regions/coverage.md"] if DERIVED_LAYOUTS else []),
        *[f"regions/{layout}.json" for layout in REGION_LAYOUTS],
        *[f"figures/regions_{layout}.png" for layout in DERIVED_LAYOUTS],
    ]


def across_seeds_outputs(dataset):
    """Table 1, the model metrics and (where the dataset has people outside it) the open set as
    mean and deviation over the run seeds; none from a bundle (one model, whatever the seeds)."""
    if PRETRAINED:
        return []
    names = ["table1.md", "table1.json", "models.md", *(["open_set.md"] if has_open_set(dataset) else [])]
    return [results(dataset, f"across_seeds/{name}") for name in names]


def stage_outputs(stage, dataset, seeds):
    """A stage's outputs (paths in a run seed's folder) for every seed: the targets of `all` and
    of the DVC stages."""
    paths = stage(dataset) if stage is mask_stage_outputs else stage()
    return [run_results(path, dataset, seed) for seed in seeds for path in paths]


# Input functions of the rules (kept here, as Snakemake's linter asks).


def source_archive(wildcards):
    """The LFW archive for a dataset read from it (see lfw_archive_input); nothing otherwise."""
    return lfw_archive_input(wildcards) if config["datasets"][wildcards.dataset]["source"] == "lfw_archive" else []


def lfw_archive_input(wildcards):
    """The local archive when it exists; otherwise nothing, and the script downloads from the
    dataset's url. Its content is pinned by the dataset's sha256 (a param, so a new archive
    means a new checksum and a rerun); its time stamp is ignored (ancient), because a copied or
    re-provisioned archive gets a new one and must not rerun the whole pipeline."""
    archive = config["datasets"][wildcards.dataset]["archive"]
    return [ancient(archive)] if archive and Path(archive).is_file() else []


def crop_geometry():
    """The detection rules' crop param (occlusion_fr.crop.CropGeometry.from_param): a box crop
    is its margin alone, the value runs recorded before alignment existed, so the params add no
    rerun reason of their own (the detection scripts changed with alignment: Snakemake's code
    trigger reruns a detection made before it once); a similarity crop is its alignment settings."""
    detection = config["detection"]
    if detection["align"] == "box":
        return detection["margin"]
    return {"align": detection["align"], "template": detection["template"]}


def dataset_setting(key):
    """A param: the key's value in the wildcard dataset's settings."""
    return lambda wildcards: config["datasets"][wildcards.dataset][key]


def band_layouts(wildcards):
    """A band occlusion depends on its layout's regions; other renderers on no layout."""
    spec = config["occlusions"][wildcards.occlusion]
    return [run_results(f"regions/{spec['layout']}.json", wildcards.dataset, wildcards.seed)] if spec["type"] == "band" else []


@cache
def _folder_manifest(directory):
    return folder_manifest(directory)


def occlusion_spec(wildcards):
    """What an occlusion's renderer reads. For a folder of real MaskTheFace output, also the
    folder's file list with content hashes (as a digest): adding, removing or replacing a file
    there then reruns the sets made from it and everything downstream (a directory input would
    only see the folder's own time stamp)."""
    spec = renderer_spec(config["occlusions"][wildcards.occlusion])
    if spec["type"] == "face_mask" and spec["source"] == "directory":
        spec["folder_files"] = _folder_manifest(spec["directory"])
    return spec


def image_set_inputs(wildcards):
    """An occlusion set's images and index; clean crops need nothing beyond the crops."""
    if wildcards.probe == "clean":
        return {}
    stem = run_results(f"occlusions/{wildcards.split}/{wildcards.probe}", wildcards.dataset, wildcards.seed)
    return {"set": stem, "index": f"{stem}.csv"}


def masked_identification_inputs(ds, seed, layout, probes):
    """The gallery and the probes' feature maps; for a layout (not None) also its regions, masks
    and the probes' predicted occlusion masks."""
    inputs = {
        "gallery": run_results("features/train/clean.npz", ds, seed),
        "probes": [run_results(f"features/test/{probe}.npz", ds, seed) for probe in probes],
    }
    if layout is not None:
        inputs["regions"] = run_results(f"regions/{layout}.json", ds, seed)
        inputs["masks"] = [run_results(f"masks/{layout}/{r}.npy", ds, seed) for r in masking_layout_regions(layout)]
        inputs["occlusion_masks"] = [run_results(f"predictions/test/{probe}.npz", ds, seed) for probe in probes]
    return inputs


def method_selection_inputs(wildcards):
    """Every masking layout's regions and masks, the gallery, and the validation probes (clean and
    the chosen occlusions) with their predicted occlusion masks."""
    ds, seed = wildcards.dataset, wildcards.seed
    probes = ["clean", *config["method_selection"]["occlusions"]]
    return {
        "gallery": run_results("features/train/clean.npz", ds, seed),
        "probes": [run_results(f"features/val/{p}.npz", ds, seed) for p in probes],
        "occlusion_masks": [run_results(f"predictions/val/{p}.npz", ds, seed) for p in probes],
        **{f"regions_{layout}": run_results(f"regions/{layout}.json", ds, seed) for layout in LAYOUTS},
        **{f"masks_{layout}": [run_results(f"masks/{layout}/{r}.npy", ds, seed) for r in masking_layout_regions(layout)]
           for layout in LAYOUTS},
    }


def identification_inputs(wildcards):
    """Every Table 1 row; no FDM needs no regions, masks nor occlusion masks."""
    layout = None if wildcards.strategy == NO_FDM else wildcards.strategy
    return masked_identification_inputs(wildcards.dataset, wildcards.seed, layout, PROBES)


def fdm_control_inputs(wildcards):
    """The occlusions of `fdm_controls`, with the layout's regions and masks."""
    return masked_identification_inputs(wildcards.dataset, wildcards.seed, wildcards.masking_layout,
                                        config["fdm_controls"]["occlusions"])


def fdm_ablation_inputs(wildcards):
    """The occlusions of `fdm_ablations`, with the layout's regions and masks."""
    return masked_identification_inputs(wildcards.dataset, wildcards.seed, wildcards.masking_layout,
                                        config["fdm_ablations"]["occlusions"])


def percentile_sweep_inputs(wildcards):
    """A layout's regions and mean masks, the gallery, and the validation and test probes of the
    sweep with their predicted occlusion masks."""
    ds, seed, layout = wildcards.dataset, wildcards.seed, wildcards.masking_layout
    probes = {"val": config["percentile_sweep"]["occlusions"], "test": config["occlusion_sets"]["test"]}
    return {
        "gallery": run_results("features/train/clean.npz", ds, seed),
        "regions": run_results(f"regions/{layout}.json", ds, seed),
        "mean_masks": run_results(f"mask_generators/{layout}", ds, seed),
        **{f"{split}_probes": [run_results(f"features/{split}/{p}.npz", ds, seed) for p in names]
           for split, names in probes.items()},
        **{f"{split}_occlusion_masks": [run_results(f"predictions/{split}/{p}.npz", ds, seed) for p in names]
           for split, names in probes.items()},
    }


def pretrained_manifest(wildcards):
    return str(Path(PRETRAINED) / MANIFEST)


def unseen_faces(wildcards):
    """The faces of the people a run scores as never seen: its pairs file's and its open set's."""
    ds = wildcards.dataset
    return ([results(ds, "pairs/faces.csv")] if has_pairs(ds) else []) + (
        [results(ds, "open_set/faces.csv")] if has_open_set(ds) else [])


def pretrained_record(wildcards):
    """Which bundle the run's models came from (rules/pretrained.smk); nothing for a trained run."""
    return [run_results(PRETRAINED_RECORD, wildcards.dataset, wildcards.seed)] if PRETRAINED else []


def paper_table(wildcards):
    """The paper's Table 1 for this dataset, if any; a relative path is inside the repository."""
    path = config["datasets"][wildcards.dataset].get("paper_table1")
    return [str(Path(workflow.basedir) / path)] if path else []


def has_pairs(dataset):
    settings = config["datasets"][dataset]
    return settings["source"] == "synthetic" or bool(settings.get("pairs"))


def has_open_set(dataset):
    """Whether the dataset's source can list the people outside it (occlusion_fr.datasets.outsiders)."""
    return config["datasets"][dataset]["source"] in OUTSIDER_KEYS


def outsider_settings(wildcards):
    """What the source's outsider listing reads (and, for an archive, where a download goes)."""
    dataset = config["datasets"][wildcards.dataset]
    settings = {key: dataset[key] for key in OUTSIDER_KEYS[dataset["source"]]}
    if dataset["source"] == "lfw_archive":
        settings["download_to"] = results(wildcards.dataset, "downloads/lfw-deepfunneled.tgz")
    return settings


def open_set_settings(wildcards):
    """occlusion_fr.evaluation.open_set.OpenSetSettings of a run (the test occlusions as in
    verification_settings)."""
    verification = verification_settings(wildcards)
    return {key: verification[key] for key in ("occlusions", "overlap_threshold", "fars", "seed", "precision",
                                               "dataset", "encoder", "method")} | {
        "max_impostors": config["open_set"]["max_impostors"]}


def tool_benchmark_settings(wildcards):
    """occlusion_fr.evaluation.tool_benchmark.ToolBenchmarkSettings of a run."""
    renderers = verification_settings(wildcards)["occlusions"]
    names = config["tool_benchmark"]["occlusions"]
    unknown = [name for name in names if name not in renderers]
    if unknown:
        raise ValueError(f"tool_benchmark.occlusions: {unknown} are not rendered test occlusions (occlusion_sets.test "
                         f"without directory sources: {', '.join(renderers)})")
    return {"occlusions": {name: renderers[name] for name in names}, "seed": int(wildcards.seed),
            "photo_pairs": config["tool_benchmark"]["photo_pairs"], "max_impostors": config["open_set"]["max_impostors"]}


def pairs_file(wildcards):
    """The dataset's pairs file (LFW pairs.txt format): generated with synthetic faces, else
    ``datasets.<name>.pairs`` (relative to the repository unless absolute)."""
    settings = config["datasets"][wildcards.dataset]
    if settings["source"] == "synthetic":
        return results(wildcards.dataset, "raw/pairs.txt")
    return str(Path(workflow.basedir) / settings["pairs"])


def verification_scores(wildcards):
    """The verification's pair scores (the tool's thresholds are calibrated on them) when the
    dataset has a pairs file."""
    return ([run_results("verification/scores.csv.gz", wildcards.dataset, wildcards.seed)]
            if has_pairs(wildcards.dataset) else [])


def image_folder_settings(wildcards):
    """A user's image folder: where, how listed, and its files' content hashes (so adding,
    removing or replacing a photo reruns the dataset and everything after it)."""
    settings = config["datasets"][wildcards.dataset]
    manifest = settings["manifest"]
    return {"root": settings["root"], "manifest": manifest, "min_images": settings["min_images"],
            "files": _folder_manifest(settings["root"]),
            "manifest_sha256": hashlib.sha256(Path(manifest).read_bytes()).hexdigest() if manifest else None}


def source_settings(wildcards):
    """The settings a dataset's source reads (archive and checksum, or the faces' seed)."""
    dataset = config["datasets"][wildcards.dataset]
    settings = {key: dataset[key] for key in SOURCE_KEYS[dataset["source"]]}
    if dataset["source"] == "image_folder":
        settings["files"] = _folder_manifest(dataset["root"])
    if dataset["source"] == "lfw_archive":
        settings["download_to"] = results(wildcards.dataset, "downloads/lfw-deepfunneled.tgz")
    return settings


def verification_layout_inputs(wildcards):
    """Each masking layout's mask files, as input masks_<layout>."""
    return {f"masks_{layout}": [run_results(f"masks/{layout}/{region}.npy", wildcards.dataset, wildcards.seed)
                                for region in masking_layout_regions(layout)] for layout in LAYOUTS}


def bundle_layout_inputs(wildcards):
    """Each masking layout's regions (regions_<layout>) and mask files (masks_<layout>)."""
    return {**verification_layout_inputs(wildcards),
            **{f"regions_{layout}": run_results(f"regions/{layout}.json", wildcards.dataset, wildcards.seed)
               for layout in LAYOUTS}}


def model_card_inputs(wildcards):
    """What a bundle's model card reports: the trained models' metrics, Table 1 and, with a pairs
    file, the verification table."""
    ds, seed = wildcards.dataset, wildcards.seed
    return {"segmenter_metrics": run_results("models/segmenter/metrics.json", ds, seed),
            "generator_metrics": [run_results(f"models/mask_generators/{layout}", ds, seed) for layout in LAYOUTS],
            "table1": run_results("table1.csv", ds, seed),
            "verification": [run_results("verification.csv", ds, seed)] if has_pairs(ds) else []}


def bundle_settings(wildcards):
    """What a bundle's user needs besides the files (occlusion_fr.bundle.BundleSettings)."""
    return BundleSettings.from_config(config, wildcards.dataset, int(wildcards.seed)).to_dict()


def base_cnn_settings(wildcards):
    return training_settings(config, wildcards.dataset)


def verification_settings(wildcards):
    """occlusion_fr.evaluation.pair_verification.VerificationSettings of a run. The test
    occlusions go as their renderers read them; a folder of real MaskTheFace output holds no
    image of the pairs, so it is left out."""
    return {"occlusions": {name: renderer_spec(config["occlusions"][name]) for name in config["occlusion_sets"]["test"]
                           if config["occlusions"][name].get("source") != "directory"},
            "overlap_threshold": config["feature_discarding"]["overlap_threshold"],
            "fars": config["verification"]["fars"], "seed": int(wildcards.seed),
            "precision": config["base_cnn"]["precision"], "dataset": wildcards.dataset,
            "encoder": config["segmenter"]["encoder"], "method": METHOD, "methods": config["verification"]["methods"],
            "calibration_folds": config["verification"]["calibration_folds"]}
