"""FDM controls: no FDM, learned, probe only, random masks keeping as many elements."""

import numpy as np
import pytest

from occlusion_fr.evaluation.fdm_controls import fdm_controls, fdm_controls_markdown, random_like
from occlusion_fr.evaluation.strategies import ProbeSet
from test_masking import hand_built_masked_gallery


def test_a_random_mask_keeps_as_many_elements_elsewhere():
    mask = np.zeros((4, 3, 2), np.uint8)
    mask[0] = 1
    rng = np.random.default_rng(0)
    draws = [random_like(mask, rng) for _ in range(5)]
    assert all(d.shape == mask.shape and d.sum() == mask.sum() for d in draws)
    assert any(not np.array_equal(d, mask) for d in draws) and any(not np.array_equal(d, draws[0]) for d in draws)
    mask[1:, 0, 0] = 1  # cell (0, 0) keeps all 4 channels, the others 1
    per_cell = [random_like(mask, rng, per_cell=True) for _ in range(5)]
    assert all(np.array_equal(d.sum(0), mask.sum(0)) for d in per_cell)
    assert any(not np.array_equal(d, mask) for d in per_cell)


def controls(draws=40, seed=0):
    gallery, probe = hand_built_masked_gallery()
    occluded = np.zeros((3, 10, 4), bool)
    occluded[:2, 5:] = True  # two probes with the bottom occluded, one with nothing detected
    probes = ProbeSet("face_mask", np.array(["x1", "x2", "x3"]), np.array(["a", "a", "a"]), probe.repeat(3, 1, 1, 1),
                      {"segmenter": occluded})
    return fdm_controls(gallery, [probes], 0.5, "segmenter", draws, seed).set_index("control")


def test_controls_separate_the_learned_mask_from_any_mask_of_its_size():
    table = controls()
    # The corrupted element (3) misleads the unmasked probe towards b; the learned mask drops it.
    assert table.loc["no_fdm", "rank1"] == 0 and table.loc["learned", "rank1"] == pytest.approx(2 / 3)
    assert table.loc["probe_only", "rank1"] == pytest.approx(2 / 3)
    # A random mask keeping 3 of 4 elements drops element 3 in about a quarter of the draws.
    assert 0.05 < table.loc["random", "rank1"] < 0.4 and table.loc["random", "rank1_std"] > 0
    # One channel per map cell: shuffling channels within cells leaves the learned mask as it is.
    assert table.loc["random_channels", "rank1"] == pytest.approx(2 / 3) and table.loc["random_channels", "rank1_std"] == 0
    assert (table.loc[["random", "random_channels"], "draws"] == 40).all()
    assert (table.drop(["random", "random_channels"])["draws"] == 1).all()
    assert table.loc["learned", "kept_share"] == pytest.approx((0.75 + 0.75 + 1) / 3)
    assert table.loc["no_fdm", "kept_share"] == 1 and table["masked_probes_share"].eq(2 / 3).all()
    assert "| face_mask | halves | 0.0 | 66.7 | 66.7 |" in fdm_controls_markdown(table.reset_index(), "synthetic")


def test_controls_are_reproducible_from_the_seed():
    assert controls(draws=5, seed=3).equals(controls(draws=5, seed=3))


def test_a_probe_set_without_the_detector_is_refused():
    gallery, probe = hand_built_masked_gallery()
    probes = ProbeSet("sunglasses", np.array(["x"]), np.array(["a"]), probe, {})
    with pytest.raises(ValueError, match="sunglasses: no occlusion masks from the segmenter"):
        fdm_controls(gallery, [probes], 0.5, "segmenter", 2, 0)
