"""Bundles: every file checked against the manifest before use."""

import json

import pytest

from occlusion_fr.bundle import Bundle, BundleError, BundleSettings, read_bundle, write_bundle
from occlusion_fr.crop import CropGeometry


@pytest.fixture
def bundle(tmp_path):
    (tmp_path / "a.pt").write_bytes(b"weights" * 100)
    (tmp_path / "r.json").write_text('{"regions": {}}')
    out = tmp_path / "run" / "bundle"
    write_bundle(out, {"base_cnn.pt": tmp_path / "a.pt", "layouts/lm2/regions.json": tmp_path / "r.json"},
                 {"dataset": "synthetic", "seed": 0})
    return out


def test_round_trip_lists_every_file_with_its_checksum(bundle):
    manifest = read_bundle(bundle)
    assert set(manifest["files"]) == {"base_cnn.pt", "layouts/lm2/regions.json"}
    assert manifest["files"]["base_cnn.pt"]["bytes"] == 700 and manifest["seed"] == 0
    assert not [p for p in bundle.parent.iterdir() if p.name.startswith(".")], "no staging folder left behind"


def test_rewriting_replaces_the_bundle_whole(bundle, tmp_path):
    (tmp_path / "b.pt").write_bytes(b"other")
    write_bundle(bundle, {"other.pt": tmp_path / "b.pt"}, {})
    assert set(read_bundle(bundle)["files"]) == {"other.pt"} and not (bundle / "base_cnn.pt").exists()


@pytest.mark.parametrize("damage, message", [
    (lambda b: (b / "base_cnn.pt").write_bytes(b"weights" * 99 + b"weighTs"), "base_cnn.pt: content differs"),
    (lambda b: (b / "base_cnn.pt").write_bytes(b"weights"), "base_cnn.pt: content differs"),
    (lambda b: (b / "layouts" / "lm2" / "regions.json").unlink(), "regions.json: missing"),
    (lambda b: (b / "bundle.json").unlink(), "bundle.json: no bundle manifest"),
    (lambda b: (b / "bundle.json").write_text("{"), "bundle.json: not a readable manifest"),
    (lambda b: (b / "bundle.json").write_text(json.dumps({"format": "x", "files": {}})), "format 'x'"),
    (lambda b: (b / "bundle.json").write_text(json.dumps(
        {"format": "occlusion-fr-bundle/1", "files": {"../a.pt": {"sha256": "", "bytes": 0}}})), "leaves the bundle"),
])
def test_a_damaged_bundle_is_refused_naming_the_file(bundle, damage, message):
    damage(bundle)
    with pytest.raises(BundleError, match=message):
        read_bundle(bundle)


def settings() -> BundleSettings:
    return BundleSettings(dataset="synthetic", seed=0, config_fingerprint="abc", crop={"height": 128, "width": 96},
                          detection={"margin": 0.0, "min_face_size": 20, "thresholds": [0.6, 0.7, 0.7]},
                          segmenter={"encoder": "resnet18"}, overlap_threshold=0.5,
                          method={"position": "before_bn", "normalisation": "none"}, default_layout="lm2")


def test_the_typed_contract_round_trips_and_names_what_a_manifest_lacks(tmp_path):
    (tmp_path / "m.npy").write_bytes(b"mask")
    (tmp_path / "r.json").write_text('{"regions": {}}')
    files = {"layouts/lm2/masks/eyes.npy": tmp_path / "m.npy", "layouts/lm2/regions.json": tmp_path / "r.json"}
    fields = {**settings().to_dict(), "layouts": ["lm2"], "open_set_far": 0.001,
              "open_set_thresholds": {"lm2": {"no_region": 0.4, "regions": 0.5}}, "open_set_folds": [0, 1],
              "open_set_thresholds_at_far": {"0.01": {"lm2": {"no_region": 0.3, "regions": 0.35}},
                                             "0.001": {"lm2": {"no_region": 0.4, "regions": 0.5}}}}
    write_bundle(tmp_path / "b", files, fields)
    bundle = Bundle.read(tmp_path / "b")
    assert bundle.settings == settings() and bundle.open_set_thresholds == {"lm2": {"no_region": 0.4, "regions": 0.5}}
    assert bundle.open_set_folds == [0, 1]
    assert bundle.mask_files("lm2") == [tmp_path / "b" / "layouts/lm2/masks/eyes.npy"]
    with pytest.raises(BundleError, match="does not list gallery.npz"):
        bundle.file("gallery.npz")
    write_bundle(tmp_path / "old", files, {key: value for key, value in fields.items() if key != "overlap_threshold"})
    with pytest.raises(BundleError, match="no 'overlap_threshold'"):
        Bundle.read(tmp_path / "old")


def test_settings_come_from_the_config_alone():
    config = {"detection": {"margin": 0.0, "align": "box", "min_face_size": 20, "thresholds": [0.6, 0.7, 0.7],
                            "batch_size": 32, "template": [[27, 50], [69, 50], [48, 75], [30, 97], [66, 97]]},
              "segmenter": {"encoder": "resnet18"},
              "feature_discarding": {"overlap_threshold": 0.5, "position": "before_bn", "normalisation": "none"},
              "bundle": {"default_layout": "lm2"}, "seeds": [0]}
    made = BundleSettings.from_config(config, "synthetic", "0")
    assert made.seed == 0 and made.detection == settings().detection and made.default_layout == "lm2"
    # The run seeds are not part of a run's fingerprint; any other setting is.
    assert BundleSettings.from_config({**config, "seeds": [1, 2]}, "synthetic", 0) == made
    changed = {**config, "feature_discarding": {**config["feature_discarding"], "overlap_threshold": 0.6}}
    assert BundleSettings.from_config(changed, "synthetic", 0).config_fingerprint != made.config_fingerprint
    # Aligned crops: the tool crops photos as the run did, landmarks onto the run's template.
    aligned = BundleSettings.from_config({**config, "detection": {**config["detection"], "align": "similarity"}},
                                         "synthetic", 0)
    assert CropGeometry.from_detection(made.detection) == CropGeometry()
    assert CropGeometry.from_detection(aligned.detection) == CropGeometry(
        align="similarity", template=tuple(map(tuple, config["detection"]["template"])))
