"""Evaluation from a bundle (occlusion_fr.pretrained): which runs may use a bundle's models, and
what the import copies and records."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO, SCHEMA
from occlusion_fr.bundle import Bundle, BundleError, BundleSettings, write_bundle
from occlusion_fr.config import ConfigError, validate_config
from occlusion_fr.pretrained import (check_pretrained, compatibility_problems, import_pretrained, leaked_images,
                                     leaked_people)
from occlusion_fr.regions import region_names


def default_config() -> dict:
    return validate_config(yaml.safe_load((REPO / "config.yaml").read_text()), SCHEMA)


def split_table(seed: int, people: int = 6, images: int = 10) -> pd.DataFrame:
    """Every person's images split 70/15/15 in a seed's order."""
    rows = []
    for person in range(people):
        order = np.random.default_rng([seed, person]).permutation(images)
        for rank, i in enumerate(order):
            split = "train" if rank < 7 else "val" if rank < 8 else "test"
            rows.append({"image": f"p{person}/p{person}_{i:04d}.jpg", "identity": f"p{person}", "split": split})
    return pd.DataFrame(rows)


@pytest.fixture
def bundle_dir(tmp_path):
    """A bundle of the default config's run (seed 0): stand-in files, real settings and split."""
    config = default_config()
    sources = tmp_path / "sources"
    sources.mkdir()
    files = {}
    for name in ("base_cnn.pt", "base_cnn.json", "segmenter.pt", "gallery.npz"):
        (sources / name).write_bytes(name.encode() * 10)
        files[name] = sources / name
    split_table(0).to_csv(sources / "split.csv", index=False)
    files["split.csv"] = sources / "split.csv"
    for layout, spec in config["layouts"].items():
        (sources / f"{layout}.json").write_text(json.dumps({"layout": layout}))
        files[f"layouts/{layout}/regions.json"] = sources / f"{layout}.json"
        for region in region_names(spec):
            np.save(sources / f"{layout}_{region}.npy", np.full(4, len(region), dtype=np.float32))
            files[f"layouts/{layout}/masks/{region}.npy"] = sources / f"{layout}_{region}.npy"
    settings = BundleSettings.from_config(config, "synthetic", 0)
    write_bundle(tmp_path / "trained" / "bundle", files, {**settings.to_dict(), "layouts": list(config["layouts"]),
                                                          "open_set_far": None, "open_set_thresholds": None,
                                                          "open_set_folds": None, "open_set_thresholds_at_far": None})
    return tmp_path / "trained" / "bundle"


def test_the_run_that_made_the_bundle_fits_it_and_each_difference_names_its_config_key(bundle_dir):
    config = default_config()
    bundle = Bundle.read(bundle_dir)
    assert compatibility_problems(bundle, config) == []
    config["detection"]["margin"] = 0.3
    config["detection"]["align"] = "similarity"
    config["segmenter"]["encoder"] = "other"
    config["layouts"]["lm2split"] = config["layouts"]["lm2"]
    config["layouts"]["grid3x3"] = {**config["layouts"]["grid3x3"], "grid": {"rows": 2, "cols": 2}}
    problems = "\n".join(compatibility_problems(bundle, config))
    for key in ("detection.margin", "detection.align", "detection.template", "segmenter.encoder",
                "layouts.lm2split: not in the bundle", "layouts.grid3x3: regions"):
        assert key in problems, problems
    # Test-time settings are the evaluation's own.
    config = default_config()
    config["feature_discarding"]["overlap_threshold"] = 0.3
    config["layouts"]["lm2"]["percentile"] = 10
    assert compatibility_problems(bundle, config) == []


def test_a_missing_bundle_or_one_inside_the_runs_own_results_is_refused(bundle_dir, tmp_path):
    config = default_config()
    config["pretrained"]["bundle"] = str(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="pretrained.bundle: .*nowhere.*no bundle manifest"):
        check_pretrained(config, tmp_path / "results" / "eval")
    config["pretrained"]["bundle"] = str(bundle_dir)
    assert check_pretrained(config, tmp_path / "results" / "eval").settings.seed == 0
    with pytest.raises(ConfigError, match="pretrained.bundle: .* which this run writes"):
        check_pretrained(config, bundle_dir.parent)


def test_only_images_the_models_saw_count_as_leaked():
    bundle_split = split_table(0)
    assert leaked_images(bundle_split, bundle_split).empty  # the bundle's own split
    other_seed = split_table(1)
    leaked = leaked_images(other_seed, bundle_split)
    seen = bundle_split.set_index("image")["split"]
    assert len(leaked) and set(leaked["split"]) <= {"val", "test"}
    for image, split in leaked.itertuples(index=False):
        assert seen[image] == "train" or (split == "test" and seen[image] == "val")
    # Every other validation or test image of the other split is one the models never trained on.
    kept = other_seed[other_seed["split"].isin(["val", "test"]) & ~other_seed["image"].isin(leaked["image"])]
    assert (seen[kept["image"]] != "train").all() and not (
        (kept["split"] == "test") & (seen[kept["image"]] == "val").to_numpy()).any()
    # Another dataset's names never collide.
    assert leaked_images(bundle_split.assign(image="other/" + bundle_split["image"]), bundle_split).empty


def test_the_import_copies_the_models_and_records_the_bundle_or_refuses_a_leaking_split(bundle_dir, tmp_path):
    run = tmp_path / "eval"
    split_table(0).to_csv(tmp_path / "split0.csv", index=False)
    targets = {"lm1": (run / "regions/lm1.json", {r: run / f"masks/lm1/{r}.npy" for r in ("left_eye", "nose")})}
    unseen = tmp_path / "pairs_faces.csv"
    pd.DataFrame({"image": ["q0/q0_0001.jpg", "p1/p1_0001.jpg"], "identity": ["q0", "p1"]}).to_csv(unseen, index=False)
    record = import_pretrained(bundle_dir, tmp_path / "split0.csv", [unseen], (run / "w.pt", run / "m.json"),
                               run / "s.pt", targets)
    assert (run / "w.pt").read_bytes() == (bundle_dir / "base_cnn.pt").read_bytes()
    assert (run / "s.pt").read_bytes() == (bundle_dir / "segmenter.pt").read_bytes()
    assert json.loads((run / "regions/lm1.json").read_text()) == {"layout": "lm1"}
    assert np.load(run / "masks/lm1/left_eye.npy")[0] == len("left_eye")
    assert record["dataset"] == "synthetic" and record["seed"] == 0 and record["layouts"] == ["lm1"]
    assert len(record["manifest_sha256"]) == 64
    split_table(1).to_csv(tmp_path / "split1.csv", index=False)
    (run / "w.pt").unlink()
    with pytest.raises(BundleError, match=r"split1.csv: \d+ validation or test images .* seed 0"):
        import_pretrained(bundle_dir, tmp_path / "split1.csv", [], (run / "w.pt", run / "m.json"), run / "s.pt",
                          targets)
    assert not (run / "w.pt").exists(), "nothing is copied into a run that leaks"
    # A run that drops a person the models trained on scores that person's pairs as never seen.
    split_table(0).query("identity != 'p1'").to_csv(tmp_path / "fewer.csv", index=False)
    with pytest.raises(BundleError, match=r"pairs_faces.csv: 1 people scored as never seen .* p1"):
        import_pretrained(bundle_dir, tmp_path / "fewer.csv", [unseen], (run / "w.pt", run / "m.json"), run / "s.pt",
                          targets)
    assert not (run / "w.pt").exists()


def test_people_outside_the_split_are_leaked_only_when_the_models_trained_on_them():
    bundle_split = split_table(0)
    faces = pd.DataFrame({"identity": ["p0", "p5", "stranger"]})
    assert leaked_people(bundle_split, bundle_split, faces) == []  # p0, p5 are the run's own; stranger unseen
    assert leaked_people(bundle_split[bundle_split["identity"] != "p5"], bundle_split, faces) == ["p5"]
    only_tested = bundle_split[(bundle_split["identity"] != "p5") | (bundle_split["split"] == "test")]
    assert leaked_people(bundle_split[bundle_split["identity"] != "p5"], only_tested, faces) == []
