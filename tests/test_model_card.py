"""The model card renders the run's own numbers (occlusion_fr.model_card), here from hand-made
inputs; tests/test_commands.py checks it against the tiny run's files."""

import pandas as pd

from occlusion_fr.bundle import BundleSettings
from occlusion_fr.model_card import CardInputs, model_card


def card_inputs(**changes) -> CardInputs:
    settings = BundleSettings(dataset="mine", seed=3, config_fingerprint="abc", crop={"height": 128, "width": 96},
                              detection={"margin": 0.0, "min_face_size": 20, "thresholds": [0.6, 0.7, 0.7]},
                              segmenter={"encoder": "resnet18"}, overlap_threshold=0.5,
                              method={"position": "before_bn", "normalisation": "centre"}, default_layout="lm2")
    split = pd.DataFrame({"image": [f"p{i % 3}/{i}.jpg" for i in range(12)], "identity": [f"p{i % 3}" for i in range(12)],
                          "split": ["train"] * 8 + ["val"] * 2 + ["test"] * 2})
    table1 = pd.DataFrame([
        {"strategy": s, "detector": d, "occlusion": o, "probes": 2, "rank1": r}
        for d in ("segmenter", "oracle") for o, cells in {"clean": (0.9, 0.9, 0.85), "face_mask": (0.2, 0.45, 0.6)}.items()
        for s, r in zip(("none", "lm1", "lm2"), cells)])
    history = [{"epoch": 1, "seconds": 90.0}, {"epoch": 2, "seconds": 30.0}]
    base = {"architecture": {"scale": 30.0, "margin": 0.35, "embedding_size": 512, "head": "flatten"},
            "history": history, "best_epoch": 2, "val_rank1": 0.8, "test_rank1": 0.75, "identities": ["p0", "p1", "p2"],
            "machine": {"description": "2 CPU threads (X; AVX2, no bf16), no GPU"}, "precision": "fp32"}
    segmenter = {"encoder": "resnet18", "history": history[:1], "best_epoch": 1, "val_iou": 0.5, "precision": "fp32"}
    fields = dict(settings=settings, source="image_folder", detector="mtcnn", split=split, base_cnn=base, segmenter=segmenter,
                  segmenter_occlusions=["face_mask"], mask_generators=[{"history": history}] * 2,
                  layouts={"lm1": ["nose", "mouth"], "lm2": ["eyes"]}, table1=table1, verification=None,
                  thresholds_at_far=None, calibration_folds=None)
    return CardInputs(**{**fields, **changes})


def test_a_card_states_the_runs_numbers_and_picks_the_best_layout_per_row():
    card = model_card(card_inputs(), "occlusion_fr 0.1.0")
    assert "# Model card: occlusion-fr, mine seed 3" in card
    assert "| face_mask | 2 | 20.0 | 60.0 | 60.0 (lm2) |" in card  # no FDM, the default layout, the best
    assert "| clean | 2 | 90.0 | 85.0 | 90.0 (none) |" in card
    assert "| train | 8 | 3 |" in card and "| test | 2 | 2 |" in card
    assert "base CNN 2.0 min, segmenter 1.5 min, 2 mask generators 4.0 min" in card
    assert "clean test rank-1 75.0%" in card and "Trained on 3 identities" in card
    assert "lm1 (2 regions); lm2 (1 region)" in card and "The user's own photos" in card
    # Without a pairs file: no verification table and no thresholds, said so.
    assert "Pair verification" not in card and "the run had no pairs file" in card


def test_a_card_with_pairs_lists_tar_and_every_threshold():
    verification = pd.DataFrame([{"condition": c, "strategy": s, "pairs": 10, "accuracy": 0.7,
                                  "tar_at_far_0.01": 0.5, "tar_at_far_0.001": 0.25}
                                 for c in ("clean", "face_mask") for s in ("none", "lm1", "lm2")])
    thresholds = {"0.01": {"none": {"no_region": 0.41, "regions": 0.41}, "lm2": {"no_region": 0.41, "regions": 0.52}},
                  "0.001": {"none": {"no_region": 0.61, "regions": 0.61}, "lm2": {"no_region": 0.61, "regions": 0.7}}}
    card = model_card(card_inputs(verification=verification, thresholds_at_far=thresholds, calibration_folds=[0, 1]),
                      "code")
    assert "| face_mask | lm2 | 10 | 70.0 | 50.0 | 25.0 |" in card
    assert "| face_mask | lm1 |" not in card  # no FDM and the default layout only
    assert card.index("| 0.001 | lm2 | 0.610 | 0.700 |") < card.index("| 0.01 | lm2 | 0.410 | 0.520 |")
    assert "folds 0, 1" in card
