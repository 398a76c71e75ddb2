"""The embedding cache: every raw embedding of a job is made once, whichever method, strategy or
control asks for it, and the cached values are the ones a fresh computation gives."""

import gc

import numpy as np
import pytest

import method_fixture as fixture
from occlusion_fr.method.embedding import AFTER_BN, Embedder, MethodSettings
from occlusion_fr.method.models import FaceModels
from occlusion_fr.models.training import choose_device


@pytest.fixture(scope="module")
def maps():
    model, device = fixture.base_cnn(), choose_device("fp32")
    gallery_crops, _, _, _ = fixture.crops()
    return model, device, FaceModels(model, fixture.WhiteSegmenter(), device, Embedder(model, device)).feature_maps(
        gallery_crops)


@pytest.fixture()
def counted(monkeypatch):
    """The number of tensors the embedders embed."""
    calls = []
    compute = Embedder._compute

    def counting(self, maps, mask, position):
        calls.append((len(maps), mask is not None, position))
        return compute(self, maps, mask, position)

    monkeypatch.setattr(Embedder, "_compute", counting)
    return calls


def test_methods_sharing_a_cache_embed_each_maps_mask_and_position_once(maps, counted):
    model, device, gallery_maps = maps
    mask = np.zeros(model.map_shape, np.float32)
    mask[:, :4] = 1
    centre = Embedder(model, device, MethodSettings(normalisation="centre"), cohort=gallery_maps)
    snorm, after = centre.with_settings(MethodSettings(normalisation="snorm")), centre.with_settings(
        MethodSettings(AFTER_BN, "centre"))
    fresh = Embedder(model, device, MethodSettings(normalisation="centre"), cohort=gallery_maps)

    np.testing.assert_allclose(centre(gallery_maps, mask), fresh(gallery_maps, mask), atol=1e-6)
    counted.clear()
    snorm(gallery_maps, mask)  # the same raw embeddings as centre's: nothing new is made
    assert counted == []
    after(gallery_maps, mask)  # another position: made once, its cohort is the same tensor
    assert counted == [(len(gallery_maps), True, AFTER_BN)]
    counted.clear()
    # Without a mask the position does not matter: one embedding of every map for all methods.
    plain = centre.raw(gallery_maps)
    after.raw(gallery_maps), snorm.raw(gallery_maps, rows=[2, 0])
    assert len(counted) == 1
    np.testing.assert_array_equal(snorm.raw(gallery_maps, rows=[2, 0]), plain[[2, 0]])


def test_rows_of_a_tensor_embed_as_the_rows_alone_would(maps, counted):
    model, device, gallery_maps = maps
    mask = np.zeros(model.map_shape, np.float32)
    mask[:, -3:] = 1
    embedder = Embedder(model, device)
    rows = np.array([3, 1])
    np.testing.assert_allclose(embedder.raw(gallery_maps, mask, rows=rows),
                               Embedder(model, device).raw(gallery_maps[rows], mask), atol=1e-5)
    embedder.raw(gallery_maps, mask, rows=rows)
    assert len(counted) == 2  # the second request for the same rows is served from the cache
    # Every row in order is the whole tensor: one entry, not two.
    embedder.raw(gallery_maps, mask, rows=np.arange(len(gallery_maps)))
    embedder.raw(gallery_maps, mask)
    assert len(counted) == 3


def test_masks_used_once_are_not_kept_and_entries_die_with_their_maps(maps):
    model, device, gallery_maps = maps
    embedder = Embedder(model, device)
    random_mask = np.ones(model.map_shape, np.float32)
    random_mask[0] = 0
    calls = []
    compute = embedder._compute
    embedder._compute = lambda *args: calls.append(1) or compute(*args)
    first = embedder.raw(gallery_maps, random_mask, keep=False)
    assert len(embedder.cache) == 0
    # Read again right away (gallery, then cohort, then probes): held until the next such mask.
    np.testing.assert_array_equal(embedder.raw(gallery_maps, random_mask, keep=False), first)
    assert len(calls) == 1
    other_mask = random_mask.copy()
    other_mask[1] = 0
    embedder.raw(gallery_maps, other_mask, keep=False), embedder.raw(gallery_maps, random_mask, keep=False)
    assert len(calls) == 3
    del embedder._compute
    short_lived = gallery_maps.clone()
    embedder.raw(short_lived), embedder.raw(short_lived, random_mask)
    assert len(embedder.cache) == 2
    del short_lived
    gc.collect()
    assert len(embedder.cache) == 0
