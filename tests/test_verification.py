"""LFW pair verification: pairs.txt, identity-disjoint pairs, 10-fold accuracy, TAR at FAR."""

import numpy as np
import pandas as pd
import pytest

from occlusion_fr.datasets.pairs import identity_disjoint, read_pairs
from occlusion_fr.evaluation.verification import best_threshold, fold_accuracies, tar_at_far, verification_summary

from conftest import REPO, SHARED_LFW

LFW_PAIRS = SHARED_LFW.parent / "pairs.txt"


def test_pairs_file_is_read_with_image_paths_and_folds(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text("2\t1\nAnn_Lee\t1\t3\nAnn_Lee\t2\tBo_Xu\t1\nBo_Xu\t1\t2\nCy\t4\tAnn_Lee\t12\n")
    pairs = read_pairs(path)
    assert pairs.to_dict("records")[1] == {"fold": 0, "image1": "Ann_Lee/Ann_Lee_0002.jpg", "identity1": "Ann_Lee",
                                           "image2": "Bo_Xu/Bo_Xu_0001.jpg", "identity2": "Bo_Xu", "same": False}
    assert pairs["fold"].tolist() == [0, 0, 1, 1] and pairs["same"].tolist() == [True, False, True, False]
    assert pairs["image2"].iloc[3] == "Ann_Lee/Ann_Lee_0012.jpg"


@pytest.mark.parametrize("text, message", [
    ("ten 300\n", r"pairs.txt:1: expected a header"),
    ("1\t1\nAnn_Lee\t1\t3\n", r"1 pair lines, but the header promises 1 folds of 1 matched"),
    ("1\t1\nAnn_Lee\t1\tBo\t3\nAnn_Lee\t1\tBo\t3\n", r"pairs.txt:2: expected NAME I J \(a matched pair\)"),
])
def test_a_malformed_pairs_file_is_refused_naming_the_line(tmp_path, text, message):
    (tmp_path / "pairs.txt").write_text(text)
    with pytest.raises(ValueError, match=message):
        read_pairs(tmp_path / "pairs.txt")


def test_fold_thresholds_come_from_the_other_folds():
    # fold 0 separates at 0.5; fold 1 is harder (a mismatched pair at 0.65 between matched 0.6 and 0.7).
    scores = np.array([0.9, 0.8, 0.1, 0.2, 0.6, 0.7, 0.65, 0.3])
    same = np.array([True, True, False, False, True, True, False, False])
    folds = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    assert best_threshold(scores[:4], same[:4]) == pytest.approx(0.5)
    per_fold = fold_accuracies(scores, same, folds)
    # fold 0 gets fold 1's best threshold (0.45: 3 of 4 right there) and is all right with it;
    # fold 1 gets 0.5, which accepts its 0.65 mismatched pair.
    assert per_fold["threshold"].tolist() == pytest.approx([0.45, 0.5])
    assert per_fold["accuracy"].tolist() == [1.0, 0.75]
    summary = verification_summary(scores, same, folds, fars=(0.5,))
    assert summary["accuracy"] == pytest.approx(0.875)
    assert summary["accuracy_std"] == pytest.approx(np.std([1.0, 0.75], ddof=1))
    assert summary["accuracy_standard_error"] == pytest.approx(summary["accuracy_std"] / np.sqrt(2))


def test_tar_at_far_lets_through_at_most_that_share_of_impostors():
    impostors = np.linspace(0, 1, 1000)
    genuine = np.array([0.9995, 0.995, 0.5, 0.2])
    scores = np.concatenate([genuine, impostors])
    same = np.concatenate([np.ones(4, bool), np.zeros(1000, bool)])
    strict = tar_at_far(scores, same, 1e-2)
    assert strict["far"] == pytest.approx(0.01) and strict["threshold"] == pytest.approx(impostors[-11])
    assert strict["tar"] == 0.5  # 0.9995 and 0.995 lie above the 11th highest impostor (0.98999)
    stricter = tar_at_far(scores, same, 1e-3)
    assert stricter["far"] <= 1e-3 and stricter["tar"] == 0.25  # only 0.9995 beats 0.998999
    assert tar_at_far(scores, same, 1.0)["tar"] == 1.0


def test_lfw_pairs_without_the_run_s_identities():
    if not LFW_PAIRS.is_file():
        pytest.skip(f"no {LFW_PAIRS}")
    pairs = read_pairs(LFW_PAIRS)
    assert len(pairs) == 6000 and (pairs.groupby("fold")["same"].sum() == 300).all()
    split = pd.read_csv(REPO / "results/lfw/seed1/split.csv")
    seen = set(split.loc[split["split"].isin(["train", "val"]), "identity"])
    kept, counts = identity_disjoint(pairs, seen)
    assert len(seen) == 158 and (counts["kept"] + counts["dropped"] == 600).all()
    assert not (kept["identity1"].isin(seen) | kept["identity2"].isin(seen)).any()
    assert counts["kept"].sum() == len(kept) and 5000 < len(kept) < 6000


def test_too_little_to_score_is_an_error_or_undefined_never_a_crash():
    with pytest.raises(ValueError, match="no scored pair"):
        best_threshold(np.array([]), np.array([], dtype=bool))
    with pytest.raises(ValueError, match="needs at least 2"):
        fold_accuracies(np.array([0.1, 0.9]), np.array([False, True]), np.array([0, 0]))
    undefined = tar_at_far(np.array([0.8, 0.9]), np.array([True, True]), 0.01)
    assert undefined["impostor_pairs"] == 0 and np.isnan(undefined["tar"]) and np.isnan(undefined["threshold"])
