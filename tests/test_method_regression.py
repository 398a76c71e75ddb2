"""The test-time method gives what it gave before it moved to occlusion_fr/method: Table 1's
cells, the controls and ablations, pair scores and `identify`, on a fully determined setting
(tests/method_fixture.py), against tests/data/method_before_refactor.json, which the previous
code (commit cc7085d) wrote from the same setting."""

import json

import numpy as np
import pytest
import torch

import method_fixture as fixture
from occlusion_fr.api import Face, Gallery, Recognizer
from occlusion_fr.bundle import NO_REGION, REGIONS, Bundle, BundleSettings
from occlusion_fr.evaluation.ablations import VARIANTS, fdm_ablations
from occlusion_fr.evaluation.fdm_controls import fdm_controls
from occlusion_fr.evaluation.pair_verification import pair_scores
from occlusion_fr.evaluation.strategies import ProbeSet, evaluate_strategy
from occlusion_fr.method.embedding import Embedder, MaskedGallery
from occlusion_fr.method.layout import MaskingLayout
from occlusion_fr.method.selection import NO_FDM
from occlusion_fr.method.models import FaceModels
from occlusion_fr.models.training import choose_device

from conftest import REPO

BEFORE = json.loads((REPO / "tests" / "data" / "method_before_refactor.json").read_text())


@pytest.fixture(scope="module")
def setting():
    model, device = fixture.base_cnn(), choose_device("fp32")
    models = FaceModels(model, fixture.WhiteSegmenter(), device, Embedder(model, device))
    gallery_crops, gallery_ids, probe_crops, probe_ids = fixture.crops()
    gallery_maps, probe_maps = models.feature_maps(gallery_crops), models.feature_maps(probe_crops)
    occlusion = models.occlusion(probe_crops)
    layout = MaskingLayout.of(fixture.LAYOUT, fixture.dictionary())
    probes = ProbeSet("bands", np.array([f"x{i}" for i in range(len(probe_ids))]), probe_ids, probe_maps,
                      {"segmenter": occlusion, "oracle": occlusion})
    return models, layout, probes, gallery_maps, gallery_ids, probe_crops


def records(summary):
    return summary.drop(columns=["strategy", "detector", "occlusion"]).to_dict(orient="records")


def test_table1_cells_controls_and_ablations_are_unchanged(setting):
    models, layout, probes, gallery_maps, gallery_ids, _ = setting
    summary, per_probe = evaluate_strategy(MaskedGallery(models.embedder, gallery_maps, gallery_ids), [probes], 0.5)
    assert records(summary) == pytest.approx(BEFORE["none_summary"]) and per_probe["rank"].tolist() == BEFORE["none_ranks"]
    gallery = MaskedGallery(models.embedder, gallery_maps, gallery_ids, layout)
    summary, per_probe = evaluate_strategy(gallery, [probes], 0.5)
    assert records(summary) == pytest.approx(BEFORE["layout_summary"])
    assert per_probe["rank"].tolist() == BEFORE["layout_ranks"]
    assert per_probe["regions"].tolist() == BEFORE["layout_regions"]
    controls = fdm_controls(gallery, [probes], 0.5, "segmenter", 3, 0)
    assert dict(zip(controls["control"], controls["rank1"])) == pytest.approx(BEFORE["controls"])
    ablations = fdm_ablations(gallery, [probes], 0.5, list(VARIANTS))
    assert dict(zip(ablations["variant"], ablations["rank1"])) == pytest.approx(BEFORE["ablations"])


def test_pair_scores_and_identify_are_unchanged(setting):
    models, layout, probes, gallery_maps, gallery_ids, probe_crops = setting
    first = gallery_maps[np.arange(len(probes.labels)) % len(gallery_maps)]
    occlusion = probes.occlusion_masks["segmenter"]
    for name, chosen in (("none", None), ("bands", layout)):
        scores, _ = pair_scores(models.embedder, first, probes.maps, occlusion, chosen, 0.5)
        np.testing.assert_allclose(scores, BEFORE[f"pair_scores_{name}"], atol=1e-5)

    settings = BundleSettings("fixture", 0, "fp", {"height": 128, "width": 96}, {}, {"encoder": "none"}, 0.5,
                              {"position": "before_bn", "normalisation": "none"}, "bands")
    thresholds = {strategy: {NO_REGION: 0.5, REGIONS: 0.5} for strategy in (NO_FDM, "bands")}
    bundle = Bundle(REPO, {}, settings, ["bands"], 1e-3, thresholds, [0], {"0.001": thresholds})
    gallery = Gallery(np.array([f"g{i}" for i in range(len(gallery_ids))]), gallery_ids, gallery_maps, "fp")
    recognizer = Recognizer(models, {"bands": layout}, gallery, bundle)
    for i, before in zip((0, 5, 9), BEFORE["identify"]):
        face = Face(f"x{i}.png", probe_crops[i].permute(1, 2, 0).numpy(), None)
        answer = recognizer.identify(f"x{i}.png", layout="bands", top_k=3, face=face)
        assert {k: answer[k] for k in ("identity", "threshold", "layout", "discarded_regions")} == {
            k: before[k] for k in ("identity", "threshold", "layout", "discarded_regions")}
        assert answer["score"] == pytest.approx(before["score"], abs=1e-5)
        assert [t["identity"] for t in answer["top"]] == [t["identity"] for t in before["top"]]
        assert [t["score"] for t in answer["top"]] == pytest.approx([t["score"] for t in before["top"]], abs=1e-5)
    assert torch.is_tensor(gallery.maps)
