"""The test-time method's normalisations make masked scores comparable: what every face masked
by the same FDM shares (the batch norm's constants, the linear layer's response to them) is taken
out by centring on the cohort, or by S-norm against it."""

import numpy as np
import pytest

import method_fixture as fixture
from occlusion_fr.method.embedding import AFTER_BN, Embedder, MaskedGallery, MethodSettings, s_norm
from occlusion_fr.method.layout import MaskingLayout
from occlusion_fr.method.models import FaceModels
from occlusion_fr.models.training import choose_device


@pytest.fixture(scope="module")
def maps():
    model, device = fixture.base_cnn(), choose_device("fp32")
    gallery_crops, gallery_ids, _, _ = fixture.crops()
    models = FaceModels(model, fixture.WhiteSegmenter(), device, Embedder(model, device))
    return model, device, models.feature_maps(gallery_crops), gallery_ids


def impostor_scores(embedder, maps, ids, mask):
    embedded = embedder(maps, mask)
    scores = embedder.similarity(embedded, embedded, mask)
    return scores[ids[:, None] != ids[None]]


def test_masked_impostors_score_near_one_without_normalisation_and_not_with_it(maps):
    model, device, gallery_maps, ids = maps
    mask = np.zeros(model.map_shape, np.uint8)
    mask[:, :2] = 1  # keep the top quarter of the map: most elements discarded
    plain = Embedder(model, device, MethodSettings(), cohort=gallery_maps)
    # The problem: every face masked alike shares one large vector, so impostors look alike.
    assert impostor_scores(plain, gallery_maps, ids, mask).mean() > 0.9
    centred = Embedder(model, device, MethodSettings(normalisation="centre"), cohort=gallery_maps)
    assert abs(impostor_scores(centred, gallery_maps, ids, mask).mean()) < 0.3
    snorm = Embedder(model, device, MethodSettings(normalisation="snorm"), cohort=gallery_maps)
    assert abs(impostor_scores(snorm, gallery_maps, ids, mask).mean()) < 1.0
    # Centring on the cohort masked alike: the cohort's own centred embeddings average to zero.
    np.testing.assert_allclose(centred(gallery_maps, mask).mean(0), 0, atol=1e-3)


def test_each_fdm_has_its_own_cohort_mean_and_none_leaks_into_another(maps):
    model, device, gallery_maps, _ = maps
    upper, lower = np.zeros(model.map_shape, np.uint8), np.zeros(model.map_shape, np.uint8)
    upper[:, :2], lower[:, -2:] = 1, 1
    shared = Embedder(model, device, MethodSettings(normalisation="centre"), cohort=gallery_maps)
    first_upper, first_lower = shared(gallery_maps, upper), shared(gallery_maps, lower)
    # The same embedder, used for both masks in either order, gives what a fresh one gives for each.
    for mask, seen in ((upper, first_upper), (lower, first_lower)):
        fresh = Embedder(model, device, MethodSettings(normalisation="centre"), cohort=gallery_maps)
        np.testing.assert_allclose(shared(gallery_maps, mask), fresh(gallery_maps, mask), atol=1e-6)
        np.testing.assert_allclose(seen, fresh(gallery_maps, mask), atol=1e-6)
    assert len(shared.cache) == 2  # one cohort embedding per FDM, keyed by the mask's content
    # Centring the lower mask's faces by the upper mask's cohort mean would leave an offset.
    raw_lower = shared.raw(gallery_maps, lower)
    wrong = raw_lower - shared.cohort(upper).mean(0)
    assert np.abs(wrong.mean(0)).max() > 10 * np.abs((raw_lower - shared.cohort(lower).mean(0)).mean(0)).max()


def test_after_bn_and_normalisation_run_through_the_masked_gallery(maps):
    model, device, gallery_maps, ids = maps
    layout = MaskingLayout.of(fixture.LAYOUT, fixture.dictionary())
    for normalisation in ("none", "centre", "snorm"):
        embedder = Embedder(model, device, MethodSettings(AFTER_BN, normalisation), cohort=gallery_maps)
        gallery = MaskedGallery(embedder, gallery_maps, ids, layout)
        ranks = gallery.selection_ranks(gallery_maps, ids, [("lower",)] * len(ids))
        assert ranks.shape == (len(ids),) and (ranks == 0).all()  # each gallery face finds itself
    assert len(embedder.cache) == 1  # the cohort (here also gallery and probes) embedded once for the one FDM


def test_s_norm_is_the_mean_of_both_sides_z_scores():
    scores = np.array([[0.5]])
    first, second = np.array([[0.1, 0.3]]), np.array([[0.0, 0.4]])
    expected = ((0.5 - 0.2) / 0.1 + (0.5 - 0.2) / 0.2) / 2
    assert s_norm(scores, first, second)[0, 0] == pytest.approx(expected)
    assert s_norm(np.array([0.5]), first, second)[0] == pytest.approx(expected)


def test_a_normalisation_without_a_cohort_or_an_unknown_setting_is_refused(maps):
    model, device, gallery_maps, _ = maps
    with pytest.raises(ValueError, match="needs a cohort"):
        Embedder(model, device, MethodSettings(normalisation="centre"))(gallery_maps)
    with pytest.raises(ValueError, match="normalisation must be one of"):
        MethodSettings(normalisation="tnorm")


def test_method_selection_reads_validation_as_an_open_set_test_and_chooses_a_comparable_method(maps):
    from occlusion_fr.evaluation.method_selection import choose_method, method_selection, method_selection_markdown
    from occlusion_fr.evaluation.strategies import ProbeSet

    model, device, gallery_maps, ids = maps
    layout = MaskingLayout.of(fixture.LAYOUT, fixture.dictionary())
    lower = np.zeros((len(ids), 128, 96), bool)
    lower[:, 64:] = True
    clean = ProbeSet("clean", ids, ids, gallery_maps, {"segmenter": np.zeros_like(lower)})
    occluded = ProbeSet("mouth", ids, ids, gallery_maps, {"segmenter": lower})
    methods = [MethodSettings(), MethodSettings(AFTER_BN, "centre")]
    table = method_selection(Embedder(model, device), gallery_maps, ids, [clean, occluded], [layout], methods, 0.5,
                             0.01)
    assert len(table) == 2 * 2 and set(table["strategy"]) == {"none", "bands"}
    assert table[["rank1_clean", "rank1_mouth"]].eq(1.0).all().all()  # each face finds itself
    assert table.query("strategy == 'none'")["clean_tar_share"].eq(1.0).all()
    chosen = choose_method(table, 0.9)
    assert chosen in set(table["method"])
    assert f"**{chosen}**" in method_selection_markdown(table, chosen, "toy", 0.01, 0.9)
    # No method qualifies: the best worst-layout share wins.
    assert choose_method(table, 2.0) == table.loc[table.query("strategy == 'bands'")["clean_tar_share"].idxmax(),
                                                   "method"]
