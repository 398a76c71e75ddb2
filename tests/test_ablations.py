"""Ablations of where and how features are discarded: cell drop and the FDM after batch norm."""

import numpy as np
import pytest
import torch
from torch import nn

from occlusion_fr.evaluation.ablations import VARIANTS, cell_drop_mask, fdm_ablations, fdm_ablations_markdown
from occlusion_fr.evaluation.strategies import ProbeSet
from occlusion_fr.method.embedding import Embedder, MaskedGallery, embed_maps
from occlusion_fr.method.layout import MaskingLayout
from occlusion_fr.models.base_cnn import BaseCNN
from test_masking import FP32, hand_built_gallery, two_band_layout


def test_cell_drop_discards_every_channel_of_the_cells_more_than_half_covered():
    _, _, dictionary, _ = hand_built_gallery()
    layout = MaskingLayout.of(two_band_layout(), dictionary)  # 10x4 crop: top rows 0-4, bottom rows 5-9
    mask = cell_drop_mask(layout, ("bottom",), (3, 2, 2))  # cells of 5x2 pixels
    assert mask.shape == (3, 2, 2) and (mask[:, 0] == 1).all() and (mask[:, 1] == 0).all()
    assert cell_drop_mask(layout, ("top", "bottom"), (3, 2, 2)).sum() == 0
    assert cell_drop_mask(layout, (), (3, 2, 2)).all()
    # A 5-row map: cells of 2 rows; the bottom region (rows 5-9) covers half of cell 2 (rows 4-5): kept.
    assert cell_drop_mask(layout, ("bottom",), (1, 5, 1))[0, :, 0].tolist() == [1, 1, 1, 0, 0]
    with pytest.raises(ValueError, match="does not tile"):
        cell_drop_mask(layout, ("bottom",), (1, 3, 2))


def test_after_batch_norm_a_discarded_element_is_zero_where_the_fully_connected_layer_sees_it():
    torch.manual_seed(0)
    model = BaseCNN(classes=3, embedding_size=8).eval()
    norm = model.embed[0]
    norm.running_mean.uniform_(0.5, 1.5)
    norm.bias.data.uniform_(0.5, 1.0)  # a discarded element before BN becomes this channel's constant
    maps = torch.rand(4, *model.map_shape)
    mask = torch.ones(model.map_shape)
    mask[:, 4:] = 0  # the bottom half of the 8x6 map
    before = embed_maps(model, maps, FP32, mask, position="before_bn")
    after = embed_maps(model, maps, FP32, mask, position="after_bn")
    # Changing the fully connected weights that read the discarded elements moves only `before`.
    fc = model.embed[3]
    reads_discarded = mask.flatten().repeat(fc.out_features, 1) == 0
    fc.weight.data[reads_discarded] += 1.0
    assert np.allclose(embed_maps(model, maps, FP32, mask, position="after_bn"), after, atol=1e-5)
    assert not np.allclose(embed_maps(model, maps, FP32, mask, position="before_bn"), before, atol=1e-3)
    with pytest.raises(ValueError, match="mask position"):
        embed_maps(model, maps, FP32, mask, position="inside")


class NormFlatModel(nn.Module):
    """The embedding is the map itself, behind an identity standing in for the batch norm."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Sequential(nn.Identity(), nn.Flatten())


def test_ablation_table_puts_each_variant_on_the_same_probes():
    gallery_maps, gallery_labels, dictionary, probe = hand_built_gallery()
    occluded = np.zeros((3, 10, 4), bool)
    occluded[:2, 5:] = True  # two probes with the bottom occluded, one with nothing detected
    probes = ProbeSet("face_mask", np.array(["x1", "x2", "x3"]), np.array(["a", "a", "a"]), probe.repeat(3, 1, 1, 1),
                      {"segmenter": occluded})
    gallery = MaskedGallery(Embedder(NormFlatModel(), FP32), gallery_maps, gallery_labels,
                            MaskingLayout.of(two_band_layout(), dictionary))
    table = fdm_ablations(gallery, [probes], 0.5, list(VARIANTS)).set_index("variant")
    # The corrupted element (3) misleads the unmasked probe towards b; the learned mask drops it,
    # cell drop drops the whole bottom row (elements 2 and 3).
    assert table.loc["no_fdm", "rank1"] == 0
    for variant in ("fdm_before_bn", "fdm_after_bn", "cell_drop_before_bn", "cell_drop_after_bn"):
        assert table.loc[variant, "rank1"] == pytest.approx(2 / 3)
    assert table.loc["fdm_before_bn", "kept_share"] == pytest.approx((0.75 + 0.75 + 1) / 3)
    assert table.loc["cell_drop_after_bn", "kept_share"] == pytest.approx((0.5 + 0.5 + 1) / 3)
    assert table["masked_probes_share"].eq(2 / 3).all() and table["probes"].eq(3).all()
    assert "| face_mask | halves | 0.0 (100%) | 66.7 (83%) |" in fdm_ablations_markdown(table.reset_index(), "toy")
    with pytest.raises(ValueError, match="unknown ablation variant"):
        fdm_ablations(gallery, [probes], 0.5, ["fdm_inside"])
