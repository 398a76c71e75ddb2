import copy

import pytest
import yaml
from snakemake.utils import update_config

from occlusion_fr.config import ConfigError, load_schema, validate_config

from conftest import REPO, SCHEMA, SnakemakeFailed, snakemake, write_config


def walk_properties(schema, path=""):
    """Yield (dotted key, subschema) for every named property in the schema and its $defs."""
    for key, sub in schema.get("properties", {}).items():
        yield f"{path}{key}", sub
        yield from walk_properties(sub, f"{path}{key}.")
    for i, branch in enumerate(schema.get("oneOf", [])):
        yield from walk_properties(branch, path)
    for name, sub in schema.get("$defs", {}).items():
        yield from walk_properties(sub, f"$defs.{name}.")


def test_every_key_has_a_description():
    keys = list(walk_properties(load_schema(SCHEMA)))
    assert len(keys) > 30
    assert [k for k, sub in keys if not sub.get("description") and "$ref" not in sub] == []


def test_every_top_level_setting_has_a_default():
    """Everything except the structure inside a layout (alternatives, which a default would pick)."""
    missing = [k for k, sub in walk_properties(load_schema(SCHEMA))
               if not k.startswith("$defs.") and "default" not in sub]
    assert missing == []


def test_empty_config_gets_the_documented_defaults():
    config = validate_config({}, SCHEMA)
    assert config["dataset"] == "synthetic"
    assert config["split"] == {"train": 0.7, "val": 0.15, "test": 0.15}
    assert set(config["layouts"]) == {"grid3x3", "lm1", "lm2"}
    assert config["layouts"]["lm2"]["percentile"] == "validation" and config["layouts"]["lm2"]["paper_percentile"] == 30


def test_repository_config_is_valid():
    validate_config(yaml.safe_load((REPO / "config.yaml").read_text()), SCHEMA)


@pytest.mark.parametrize("overlay", sorted((REPO / "experiments").glob("*.yaml")), ids=lambda p: p.stem)
def test_experiment_overlays_are_valid_on_their_own_datasets(overlay):
    """`--configfile experiments/X.yaml` (merged as Snakemake merges it) with each dataset it adds."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    extra = yaml.safe_load(overlay.read_text())
    update_config(config, extra)
    if extra.keys() == {"layouts"}:
        # A layout-only overlay adds masking layouts to the run it overlays and changes none of its own.
        default_layouts = set(yaml.safe_load((REPO / "config.yaml").read_text())["layouts"])
        assert extra["layouts"] and not set(extra["layouts"]) & default_layouts
        validate_config(copy.deepcopy(config), SCHEMA)
        return
    added = set(extra.get("datasets", {})) - {"synthetic", "lfw"}
    assert added, f"{overlay.name} adds no dataset of its own, so its results would overwrite the default run's"
    for name in added:
        validated = validate_config({**copy.deepcopy(config), "dataset": name}, SCHEMA)
        # A copy of LFW gets the same defaults as datasets.lfw.
        if validated["datasets"][name]["source"] == "lfw_archive":
            assert validated["datasets"][name].keys() == validated["datasets"]["lfw"].keys()


@pytest.mark.parametrize("change, named", [
    (lambda c: c.update(datasett="lfw"), "'datasett' was unexpected"),
    (lambda c: c["split"].update(train=1.5), "config key split.train"),
    (lambda c: c["datasets"]["lfw"].update(sha256="abc"), "config key datasets.lfw.sha256"),
    (lambda c: c["layouts"]["lm2"]["regions"]["eyes"]["top"].update(sigmas="three"),
     "config key layouts.lm2.regions.eyes.top"),
    (lambda c: c["layouts"]["lm1"]["regions"]["nose"]["centre"].update(landmarks=["chin"]),
     "config key layouts.lm1.regions.nose.centre.landmarks.0"),
    (lambda c: c["occlusion_sets"].update(test=["eyes", "scarf"]), "config key occlusion_sets.test.1: no occlusion"),
    (lambda c: c["occlusions"]["eyes"].update(regions=["brows"]), "config key occlusions.eyes.regions: 'brows'"),
    (lambda c: c["occlusions"]["eyes"].update(regions=[]), "config key occlusions.eyes.regions"),
    (lambda c: c["occlusions"]["face_mask"].update(source="directory"), "config key occlusions.face_mask.directory"),
    (lambda c: c["blocks"].update(splits=["test"]), "config key blocks.splits.0"),
    (lambda c: c["occlusion_layouts"].update(lm2=c["layouts"]["lm2"]), "config key occlusion_layouts.lm2: also"),
    (lambda c: c["occlusions"]["eyes"].update(layout="nowhere"), "config key occlusions.eyes.layout"),
    (lambda c: c["saliency"].update(layout="landmark_bands"), "config key saliency.layout: no masking layout"),
    (lambda c: c["saliency"].update(occlusions=["eyes", "scarf"]), "config key saliency.occlusions.1"),
    (lambda c: c["fdm_controls"].update(occlusions=["face_mask", "scarf"]), "config key fdm_controls.occlusions.1"),
    (lambda c: c["fdm_ablations"].update(occlusions=["face_mask", "scarf"]), "config key fdm_ablations.occlusions.1"),
    (lambda c: c["fdm_ablations"].update(variants=["fdm_inside"]), "config key fdm_ablations.variants.0"),
    (lambda c: c["segmenter"].update(occlusions=["face_mask", "nose_mouth_chin"]),
     "config key segmenter.occlusions.1: 'nose_mouth_chin' is not in occlusion_sets.train"),
    (lambda c: c["percentile_sweep"].update(occlusions=["nose_mouth_chin"]),
     "config key percentile_sweep.occlusions.0: 'nose_mouth_chin' is not in occlusion_sets.val"),
    (lambda c: c["percentile_sweep"].update(percentiles=[10, 120]), "config key percentile_sweep.percentiles.1"),
    (lambda c: c["base_cnn"].update(head="attention"), "config key base_cnn.head"),
    (lambda c: c["base_cnn"].update(visible_rows=[0.6, 0.4]), "config key base_cnn.visible_rows"),
    (lambda c: c["base_cnn"]["occluders"].update(occlusions=["sunglasses", "eyes"]),
     "config key base_cnn.occluders.occlusions.1: 'eyes' is a band occlusion"),
    (lambda c: c["base_cnn"]["occluders"].update(occlusions=["scarf"]),
     "config key base_cnn.occluders.occlusions.0: no occlusion named 'scarf'"),
    (lambda c: c["base_cnn"]["occluders"].update(rate=1.5), "config key base_cnn.occluders.rate"),
    (lambda c: c["occlusions"].update(blocks={"type": "random_block", "height": [0.5, 0.1]}),
     "config key occlusions.blocks.height"),
    (lambda c: c["detection"].update(align="affine"), "config key detection.align"),
    (lambda c: c["detection"].update(template=[[27, 50], [69, 50], [48, 75], [30, 97]]), "config key detection.template"),
    (lambda c: c["detection"].update(template=[[27, 50], [69, 50], [48, 75], [30, 97], [66, 140]]),
     "config key detection.template.4: the point lies outside the 96x128 crop"),
    (lambda c: c["feature_discarding"].update(overlap_threshold=1.5), "config key feature_discarding.overlap_threshold"),
    (lambda c: c["mask_generator"].update(kernel_size=2), "config key mask_generator.kernel_size"),
    (lambda c: c.update(seeds=[1.0]), "config key seeds.0: 1.0 is not of type 'integer'"),
    (lambda c: c["datasets"]["lfw"]["max_epochs"].update(base_cnn=30.0), "config key datasets.lfw.max_epochs.base_cnn"),
    (lambda c: c["datasets"].update(lfw_copy={"source": "lfw_archive", "root": "photos"}),
     "config key datasets.lfw_copy: Additional properties are not allowed"),
    (lambda c: c["datasets"].update(mine={"root": "photos"}), "config key datasets.mine: 'source' is a required"),
    (lambda c: c["layouts"]["lm2"]["regions"]["nose"]["bottom"].update(region="mouths"),
     "config key layouts.lm2.regions.nose.bottom.region: 'mouths' is not a region of this layout"),
    (lambda c: c["occlusion_layouts"]["landmark_bands"]["regions"]["eyes"].update(top={"region": "nose",
                                                                                      "edge": "bottom"}),
     "config key occlusion_layouts.landmark_bands.regions.eyes: its edges refer back to it"),
])
def test_wrong_keys_and_values_are_named(change, named):
    config = copy.deepcopy(yaml.safe_load((REPO / "config.yaml").read_text()))
    change(config)
    with pytest.raises(ConfigError, match=named.replace(".", r"\.").replace("(", r"\(")):
        validate_config(config, SCHEMA)


@pytest.mark.slow
def test_dry_run_fails_naming_the_wrong_key(workdir):
    bad = write_config(workdir / "bad.yaml", {"split": {"trian": 0.7}})
    with pytest.raises(SnakemakeFailed) as failure:
        snakemake(workdir, "-n", "--configfile", str(bad))
    assert "config key split" in str(failure.value) and "'trian' was unexpected" in str(failure.value)
    # Refused before any job runs: a region edge naming no region of its layout, a float seed.
    bad = write_config(workdir / "edge.yaml", {"layouts": {"lm2": {"regions": {
        "nose": {"top": {"region": "eye", "edge": "bottom"}}}}}})
    with pytest.raises(SnakemakeFailed, match="config key layouts.lm2.regions.nose.top.region: 'eye'"):
        snakemake(workdir, "-n", "--configfile", str(bad))
    with pytest.raises(SnakemakeFailed, match="config key seeds.0: 1.0 is not of type 'integer'"):
        snakemake(workdir, "-n", "--configfile", str(write_config(workdir / "seed.yaml", {"seeds": [1.0]})))


@pytest.mark.slow
def test_a_second_lfw_archive_dataset_gets_its_own_raw_images(workdir):
    """An experiment's copy of LFW (any name with `source: lfw_archive`) is read into its own
    results folder by the same rule, with its own settings."""
    extra = write_config(workdir / "copy.yaml", {"dataset": "lfw_copy", "datasets": {"lfw_copy": {
        "source": "lfw_archive", "archive": "elsewhere/lfw-deepfunneled.tgz", "min_images": 20}}})
    plan = snakemake(workdir, "-n", "-p", "--configfile", str(extra), "--", "results/lfw_copy/raw/index.csv")
    assert "rule lfw_dataset:" in plan and "results/lfw_copy/raw/images" in plan
    assert "results/lfw/raw" not in plan
