"""The paper's claims tested per probe: the exact McNemar test and the per-seed verdicts."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from occlusion_fr.evaluation.claims import CLAIMS, claim_tests, claim_tests_markdown, claim_verdicts, mcnemar_exact


@pytest.mark.parametrize("only_first, only_second", [(0, 5), (1, 9), (7, 7), (30, 12), (0, 0)])
def test_mcnemar_exact_is_the_two_sided_binomial_test_on_the_discordant_pairs(only_first, only_second):
    n = only_first + only_second
    expected = 1.0 if n == 0 else binomtest(only_first, n, 0.5).pvalue
    assert mcnemar_exact(only_first, only_second) == pytest.approx(expected)
    assert mcnemar_exact(only_first, only_second) == mcnemar_exact(only_second, only_first)


def per_probe(correct: dict[tuple[str, str], np.ndarray]) -> pd.DataFrame:
    """Per-probe tables from right/wrong per (occlusion, strategy), images img0..imgN."""
    frames = []
    for (occlusion, strategy), right in correct.items():
        detectors = ["none"] if strategy == "none" else ["segmenter", "oracle"]
        for detector in detectors:
            frames.append(pd.DataFrame({"strategy": strategy, "detector": detector, "occlusion": occlusion,
                                        "image": [f"img{i}" for i in range(len(right))],
                                        "rank": np.where(right, 0, 3)}))
    return pd.concat(frames, ignore_index=True)


def test_face_mask_claim_holds_significantly_only_when_every_comparison_is_significant():
    n = 200
    rng = np.random.default_rng(0)
    base = rng.random(n) < 0.5
    correct = {("face_mask", "none"): base | (np.arange(n) < 60)}  # 60 more probes right than...
    for strategy in ("lm1", "lm2", "grid3x3"):
        correct[("face_mask", strategy)] = base.copy()
    tests = claim_tests(per_probe(correct), alpha=0.05)
    face_mask = tests[tests["claim"] == 4]
    assert len(face_mask) == 3 and set(face_mask["lower"]) == {"face_mask/lm1", "face_mask/lm2", "face_mask/grid3x3"}
    assert (face_mask["only_lower"] == 0).all() and (face_mask["only_higher"] > 15).all()
    verdicts = claim_verdicts(tests).set_index("claim")
    assert verdicts.loc[4, "holds"] and verdicts.loc[4, "significant"]
    # LM2 now differs from no FDM on only 2 probes: still below, the claim holds, but not significantly.
    correct[("face_mask", "lm2")] = correct[("face_mask", "none")].copy()
    correct[("face_mask", "lm2")][np.flatnonzero(correct[("face_mask", "none")])[:2]] = False
    verdicts = claim_verdicts(claim_tests(per_probe(correct), alpha=0.05)).set_index("claim")
    assert verdicts.loc[4, "holds"] and not verdicts.loc[4, "significant"]
    assert verdicts.loc[4, "max_p_value"] == pytest.approx(0.5)


def test_claims_whose_cells_the_run_lacks_are_incomplete_and_never_hold():
    n = 50
    correct = {("face_mask", "none"): np.ones(n, bool), ("face_mask", "lm2"): np.zeros(n, bool)}
    tests = claim_tests(per_probe(correct), alpha=0.05)
    assert set(tests["claim"]) == {4}  # only the face-mask claim has a comparison it can make
    verdicts = claim_verdicts(tests).set_index("claim")
    assert not verdicts.loc[4, "complete"] and not verdicts.loc[4, "holds"]
    assert "incomplete" in claim_tests_markdown(tests, "tiny")


def test_the_background_claim_pairs_two_occlusions_of_the_same_images():
    n = 100
    face_mask = np.arange(n) < 30
    bands = np.arange(n) < 10
    tests = claim_tests(per_probe({("face_mask", "none"): face_mask, ("nose_mouth_chin", "none"): bands}), 0.05)
    row = tests[tests["claim"] == len(CLAIMS)].iloc[0]
    assert (row["probes"], row["only_higher"], row["only_lower"]) == (n, 20, 0)
    assert row["significant"] and row["p_value"] == pytest.approx(2 / 2 ** 20)
