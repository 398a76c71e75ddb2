"""Pair verification of a run: which pairs are scored, ROC, open-set thresholds, the pairs
file a synthetic dataset generates."""

import numpy as np
import pandas as pd
import pytest

from occlusion_fr.datasets.synthetic import render_named, write_pairs
from occlusion_fr.evaluation.pair_verification import open_set_thresholds, roc_curve, tool_thresholds, usable_pairs
from occlusion_fr.datasets.pairs import read_pairs


def test_pairs_with_a_seen_person_or_an_image_without_a_crop_are_dropped_and_counted():
    pairs = pd.DataFrame({"fold": [0, 0, 0, 1, 1], "image1": ["a/1", "b/1", "c/1", "c/1", "d/1"],
                          "identity1": ["a", "b", "c", "c", "d"], "image2": ["a/2", "x/1", "d/1", "c/2", "e/1"],
                          "identity2": ["a", "x", "d", "c", "e"], "same": [True, False, False, True, False]})
    faces = pd.DataFrame({"image": ["a/1", "a/2", "b/1", "x/1", "c/1", "d/1", "e/1"]})  # c/2 has no crop
    kept, counts = usable_pairs(pairs, faces, seen_identities=["b"])
    assert kept["image2"].tolist() == ["a/2", "d/1", "e/1"]
    assert counts.to_dict(orient="list") == {"fold": [0, 1], "pairs": [3, 2], "kept": [2, 1],
                                             "seen_identity": [1, 0], "no_crop": [0, 1]}


def test_roc_has_one_point_per_distinct_score_and_ends_at_everything_accepted():
    scores = np.array([0.9, 0.8, 0.8, 0.3, 0.1])
    same = np.array([True, True, False, False, True])
    far, tar = roc_curve(scores, same)
    assert far.tolist() == pytest.approx([0, 0.5, 1, 1]) and tar.tolist() == pytest.approx([1 / 3, 2 / 3, 2 / 3, 1])


def test_open_set_threshold_lets_at_most_far_of_every_conditions_impostors_through():
    rng = np.random.default_rng(0)
    frames = []
    for condition, shift in (("clean", 0.0), ("face_mask", 0.2)):
        impostors = rng.normal(shift, 0.1, 1000)
        frames.append(pd.DataFrame({"condition": condition, "strategy": "none", "score": impostors, "same": False}))
        frames.append(pd.DataFrame({"condition": condition, "strategy": "none", "score": rng.normal(0.7, 0.1, 100),
                                    "same": True}))
    scores = pd.concat(frames, ignore_index=True)
    threshold = open_set_thresholds(scores, 0.01)["none"]
    impostors = scores.loc[~scores["same"], "score"]
    assert (impostors > threshold).mean() <= 0.01 and (impostors >= threshold).mean() > 0.0095


def test_tool_thresholds_are_per_group_and_read_only_the_calibration_folds():
    rng = np.random.default_rng(2)
    frames = []
    for fold in (0, 1):  # fold 1's scores are higher still: calibrating on it would move every threshold
        # No FDM over every pair; lm2 leaves half the pairs whole (the same scores) and masks the
        # other half, whose impostors then score higher.
        whole = rng.normal(0.0 + fold, 0.1, 2000)
        frames.append(pd.DataFrame({"fold": fold, "strategy": "none", "regions": "", "same": False,
                                    "score": np.r_[whole, rng.normal(0.05 + fold, 0.1, 2000)]}))
        frames.append(pd.DataFrame({"fold": fold, "strategy": "lm2", "regions": "", "same": False, "score": whole}))
        frames.append(pd.DataFrame({"fold": fold, "strategy": "lm2", "regions": "mouth", "same": False,
                                    "score": rng.normal(0.3 + fold, 0.1, 2000)}))
    scores = pd.concat(frames, ignore_index=True)
    thresholds = tool_thresholds(scores, [0.01, 0.001], folds=[0])
    assert set(thresholds) == {"0.01", "0.001"}
    fold0 = scores[scores["fold"] == 0]
    unmasked = open_set_thresholds(fold0[fold0["strategy"] == "none"], 0.01)["none"]
    # A comparison that discards nothing is unmasked with any layout: no FDM's threshold.
    assert thresholds["0.01"]["lm2"]["no_region"] == thresholds["0.01"]["none"]["no_region"] == unmasked
    masked = open_set_thresholds(fold0[fold0["regions"] != ""], 0.01)["lm2"]
    assert thresholds["0.01"]["lm2"]["regions"] == masked and masked > unmasked + 0.2
    assert thresholds["0.01"]["none"]["regions"] == unmasked  # no FDM never discards
    assert thresholds["0.001"]["lm2"]["regions"] > masked
    with pytest.raises(ValueError, match="calibration_folds"):
        tool_thresholds(scores, [0.01], folds=[7])


def test_open_set_thresholds_read_only_the_calibration_folds():
    rng = np.random.default_rng(1)
    calibration = pd.DataFrame({"fold": 0, "strategy": "lm2", "score": rng.normal(0.0, 0.1, 2000), "same": False})
    # Fold 1's impostors score far higher: calibrating on it too would move the threshold up.
    held_out = pd.DataFrame({"fold": 1, "strategy": "lm2", "score": rng.normal(0.6, 0.1, 2000), "same": False})
    scores = pd.concat([calibration, held_out], ignore_index=True)
    threshold = open_set_thresholds(scores, 0.01, folds=[0])["lm2"]
    assert threshold == open_set_thresholds(calibration, 0.01)["lm2"]
    assert threshold < open_set_thresholds(scores, 0.01)["lm2"]
    with pytest.raises(ValueError, match=r"verification.calibration_folds \[7\]: no scored pair"):
        open_set_thresholds(scores, 0.01, folds=[7])


def test_generated_pairs_file_reads_as_lfw_and_names_renderable_images(tmp_path):
    write_pairs(tmp_path / "pairs.txt", identities=6, images_per_identity=4, folds=3, per_fold=5, seed=0)
    pairs = read_pairs(tmp_path / "pairs.txt")
    assert len(pairs) == 30 and pairs.groupby("fold")["same"].sum().tolist() == [5, 5, 5]
    assert (pairs.loc[pairs["same"], "image1"] != pairs.loc[pairs["same"], "image2"]).all()
    assert (pairs.loc[~pairs["same"], "identity1"] != pairs.loc[~pairs["same"], "identity2"]).all()
    names = sorted(set(pairs["image1"]) | set(pairs["image2"]))
    index, skipped = render_named([*names, "person_001/person_001_0000.jpg", "someone/else.jpg"], 0, tmp_path / "raw")
    assert index["image"].tolist() == names and skipped["file"].tolist() == ["person_001/person_001_0000.jpg",
                                                                            "someone/else.jpg"]
    assert all((tmp_path / "raw" / name).stat().st_size > 1000 for name in names)
