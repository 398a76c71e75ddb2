"""Mask generators, the mask dictionary, feature discarding masks, masked identification, Table 1."""

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch import nn

from occlusion_fr import CROP_HEIGHT, CROP_WIDTH

from occlusion_fr.evaluation.strategies import ProbeSet, evaluate_strategy
from occlusion_fr.evaluation.table1 import table1, table1_markdown, with_paper
from occlusion_fr.masking.dictionary import binarise, load_mask_dictionary, load_mean_masks
from occlusion_fr.masking.generator import (MaskGenerator, block_images, mean_mask, pdsn_loss, region_pairs, region_seed,
                                            split_crops, train_layout_generators, train_mask_generator)
from occlusion_fr.method.embedding import Embedder, MaskedGallery
from occlusion_fr.method.fdm import feature_discarding_mask
from occlusion_fr.method.layout import MaskingLayout
from occlusion_fr.method.occlusion_masks import load_occlusion_masks, save_occlusion_masks
from occlusion_fr.method.selection import occluded_regions, region_overlap, region_pixel_masks
from occlusion_fr.models.base_cnn import BaseCNN
from occlusion_fr.models.data import load_images
from occlusion_fr.models.features import feature_maps, load_feature_maps, save_feature_maps
from occlusion_fr.models.training import choose_device

FP32 = choose_device("fp32")


class FlatModel(nn.Module):
    """Stands in for the base CNN where only ``embed`` matters: the embedding is the map itself."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Flatten()


def test_generator_keeps_the_feature_map_shape_within_zero_and_one():
    generator = MaskGenerator(16, kernel_size=3)
    mask = generator(torch.rand(4, 16, 8, 6))
    assert mask.shape == (4, 16, 8, 6) and mask.min() >= 0 and mask.max() <= 1


def test_siamese_loss_falls_on_a_tiny_batch():
    torch.manual_seed(0)
    base = BaseCNN(classes=3, embedding_size=16).eval()
    for parameter in base.parameters():
        parameter.requires_grad_(False)
    clean = torch.rand(6, 512, 8, 6)
    occluded = clean.clone()
    occluded[:, :, :3] = torch.rand(6, 512, 3, 6) * 3  # the "block" corrupts the top rows
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    generator = MaskGenerator(512, kernel_size=1)
    optimiser = torch.optim.Adam(generator.parameters(), lr=3e-2)
    losses = []
    for _ in range(40):
        terms = pdsn_loss(base, generator, clean, occluded, labels, lambda_diff=10.0)
        optimiser.zero_grad()
        terms["loss"].backward()
        optimiser.step()
        losses.append(terms["loss"].item())
    assert losses[-1] < 0.5 * losses[0]
    with torch.no_grad():  # the mask the loss saw (batch statistics)
        mask = generator((clean - occluded).abs())
    # The corrupted rows end up masked more than the intact ones (they start out alike).
    assert mask[:, :, :3].mean() < 0.9 * mask[:, :, 3:].mean()


def test_mean_mask_is_the_mean_of_min_max_normalised_outputs():
    generator = MaskGenerator(4, kernel_size=1).eval()
    clean, occluded = torch.rand(5, 4, 2, 3), torch.rand(5, 4, 2, 3)
    with torch.no_grad():
        outputs = generator((clean - occluded).abs()).flatten(1)
    low, high = outputs.min(1, keepdim=True).values, outputs.max(1, keepdim=True).values
    expected = ((outputs - low) / (high - low)).mean(0).view(4, 2, 3).numpy()
    result = mean_mask(generator, clean, occluded, FP32, batch_size=2)
    np.testing.assert_allclose(result, expected, atol=1e-5)
    assert result.min() >= 0 and result.max() <= 1


def test_block_images_fill_only_the_box():
    crops = torch.full((2, 3, 128, 96), 100, dtype=torch.uint8)
    rows = pd.DataFrame({"grey": [0, 255], "x0": [0.0, 10.0], "y0": [0.0, 20.0], "x1": [96.0, 30.0],
                         "y1": [40.0, 60.0]})
    out = block_images(crops, rows)
    assert (out[0, :, :40] == 0).all() and (out[0, :, 40:] == 100).all()
    assert (out[1, :, 20:60, 10:30] == 255).all() and (out[1, :, :20] == 100).all()


@pytest.mark.parametrize("percentile", [0, 20, 25, 30, 100])
def test_binarisation_keeps_exactly_the_share_above_the_percentile(percentile):
    rng = np.random.default_rng(1)
    mean = rng.random((512, 8, 6)).astype(np.float32)
    binary = binarise(mean, percentile)
    assert binary.shape == mean.shape and set(np.unique(binary)) <= {0, 1}
    assert binary.sum() == mean.size - round(percentile / 100 * mean.size)
    if 0 < percentile < 100:
        assert mean[binary == 1].min() >= mean[binary == 0].max()


def test_binarisation_breaks_ties_so_the_share_stays_exact():
    binary = binarise(np.full((10, 2, 2), 0.5), 30)
    assert binary.sum() == 28
    with pytest.raises(ValueError, match="percentile"):
        binarise(np.zeros(4), 101)


def two_band_layout():
    return {"layout": "halves", "crop_height": 10, "crop_width": 4,
            "regions": {"top": {"box": [0, 0, 4, 5]}, "bottom": {"box": [0, 5, 4, 10]}}}


def test_dictionary_and_mean_masks_are_keyed_by_region(tmp_path):
    """`{region}.npy` (the dictionary) and `{region}_mean_mask.npy` (the generators' averages) both
    give the region's name, the name the region layout and the FDM use."""
    mean = np.random.default_rng(0).random((4, 2, 3)).astype(np.float32)
    np.save(tmp_path / "eyes_mean_mask.npy", mean)
    np.save(tmp_path / "eyes.npy", binarise(mean, 25))
    means = load_mean_masks(tmp_path, ["eyes"])
    assert list(means) == ["eyes"] and np.array_equal(means["eyes"], mean)
    with pytest.raises(FileNotFoundError, match="nose_mean_mask"):  # a region the generator job never wrote
        load_mean_masks(tmp_path, ["eyes", "nose"])
    dictionary = load_mask_dictionary([tmp_path / "eyes.npy"])
    assert list(dictionary) == ["eyes"] and dictionary["eyes"].mean() == pytest.approx(0.75, abs=1 / 24)


def test_a_region_counts_as_occluded_only_above_half_its_area():
    pixels = region_pixel_masks(two_band_layout())
    assert pixels["top"].sum() == 20 and not (pixels["top"] & pixels["bottom"]).any()
    masks = np.zeros((3, 10, 4), bool)
    masks[0, :3] = True  # 12 of the top's 20 pixels: 60%
    masks[1, 5:] = True
    masks[1, 5:, 0:2] = False  # the bottom exactly half covered: not more than 50%
    masks[2] = True
    overlap = region_overlap(masks, pixels)
    np.testing.assert_allclose(overlap, [[0.6, 0], [0, 0.5], [1, 1]])
    assert occluded_regions(overlap, list(pixels), 0.5) == [("top",), (), ("top", "bottom")]


def test_fdm_is_the_product_of_the_selected_masks():
    dictionary = {"top": np.array([1, 0, 1, 1], np.uint8), "bottom": np.array([1, 1, 0, 1], np.uint8)}
    np.testing.assert_array_equal(feature_discarding_mask(dictionary, (), (4,)), [1, 1, 1, 1])
    np.testing.assert_array_equal(feature_discarding_mask(dictionary, ("top",), (4,)), [1, 0, 1, 1])
    np.testing.assert_array_equal(feature_discarding_mask(dictionary, ("top", "bottom"), (4,)), [1, 0, 0, 1])


def hand_built_gallery():
    """Two people, feature maps (C=1, H=2, W=2): person a lights element 0, person b element 1.
    The probe is a's face with element 3 corrupted towards b's pattern."""
    gallery = torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 1.0]]).view(2, 1, 2, 2)
    dictionary = {"top": np.array([1, 1, 1, 1], np.uint8).reshape(1, 2, 2),
                  "bottom": np.array([1, 1, 1, 0], np.uint8).reshape(1, 2, 2)}
    probe = torch.tensor([[0.6, 0, 0, 2.0]]).view(1, 1, 2, 2)
    return gallery, np.array(["a", "b"]), dictionary, probe


def hand_built_masked_gallery() -> tuple[MaskedGallery, torch.Tensor]:
    """The hand-built gallery under the two-band layout's FDMs, and the probe."""
    gallery_maps, gallery_labels, dictionary, probe = hand_built_gallery()
    layout = MaskingLayout.of(two_band_layout(), dictionary)
    return MaskedGallery(Embedder(FlatModel(), FP32), gallery_maps, gallery_labels, layout), probe


def test_masked_identification_discards_the_corrupted_element():
    gallery, probe = hand_built_masked_gallery()
    probes = probe.repeat(3, 1, 1, 1)
    ranks = gallery.selection_ranks(probes, np.array(["a", "a", "a"]), [(), ("bottom",), ("bottom",)])
    assert ranks.tolist() == [1, 0, 0]  # unmasked: b wins; masked: a
    assert set(gallery._embeddings) == {(None, ()), (None, ("bottom",))}  # one gallery embedding per distinct FDM


def test_evaluate_strategy_selects_regions_from_occlusion_masks():
    gallery, probe = hand_built_masked_gallery()
    occluded = np.zeros((2, 10, 4), bool)
    occluded[1, 5:] = True  # the second probe's bottom half is occluded
    probes = ProbeSet("mouth", np.array(["x1", "x2"]), np.array(["a", "a"]), probe.repeat(2, 1, 1, 1),
                      {"segmenter": occluded, "oracle": occluded})
    summary, per_probe = evaluate_strategy(gallery, [probes], 0.5)
    assert summary["detector"].tolist() == ["segmenter", "oracle"]
    assert summary["rank1"].tolist() == [0.5, 0.5] and summary["distinct_fdms"].tolist() == [2, 2]
    assert per_probe["regions"].tolist()[:2] == ["", "bottom"]
    none, _ = evaluate_strategy(MaskedGallery(gallery.embedder, gallery.maps, gallery.labels), [probes], 0.5)
    assert none[["strategy", "detector", "rank1"]].values.tolist() == [["none", "none", 0.0]]


def test_table1_repeats_no_fdm_per_detector_and_compares_with_the_paper():
    rows = []
    for detector in ("segmenter", "oracle"):
        for occlusion, value in (("clean", 0.9), ("eyes", 0.2)):
            rows.append({"strategy": "lm2", "detector": detector, "occlusion": occlusion, "probes": 10,
                         "rank1": value + (0.05 if detector == "oracle" else 0), "rank5": 1.0, "distinct_fdms": 2,
                         "mean_regions": 1.0, "mean_kept_share": 0.7})
    none = [{"strategy": "none", "detector": "none", "occlusion": o, "probes": 10, "rank1": v, "rank5": 1.0,
             "distinct_fdms": 1, "mean_regions": 0.0, "mean_kept_share": 1.0} for o, v in (("clean", 0.9),
                                                                                          ("eyes", 0.1))]
    paper = pd.DataFrame({"occlusion": ["eyes", "eyes"], "strategy": ["none", "lm2"], "rank1": [2.83, 8.13]})
    long = with_paper(table1([pd.DataFrame(rows), pd.DataFrame(none)], ["clean", "eyes"], ["none", "lm2"]), paper)
    assert len(long) == 8 and set(long["detector"]) == {"segmenter", "oracle"}
    eyes_lm2 = long.query("detector == 'segmenter' and occlusion == 'eyes' and strategy == 'lm2'").iloc[0]
    assert eyes_lm2["paper_rank1"] == 8.13 and eyes_lm2["difference"] == pytest.approx(20 - 8.13)
    text = table1_markdown(long, "lfw", ["clean", "eyes"], ["none", "lm2"])
    assert "| eyes | 10.00 | **20.00** |" in text and "20.00 / 8.13 / +11.87" in text
    assert text.index("segmenter") < text.index("oracle")


def test_feature_maps_and_occlusion_masks_round_trip(tmp_path):
    maps = (torch.randn(3, 4, 2, 2) * 1e5).to(torch.bfloat16)  # beyond float16's range
    save_feature_maps(tmp_path / "maps.npz", ["a", "b", "c"], maps)
    names, loaded = load_feature_maps(tmp_path / "maps.npz")
    assert names.tolist() == ["a", "b", "c"] and torch.equal(loaded, maps) and torch.isfinite(loaded.float()).all()
    masks = np.random.default_rng(0).random((3, 5, 7)) > 0.5
    save_occlusion_masks(tmp_path / "occ.npz", ["a", "b", "c"], {"segmenter": masks, "oracle": None})
    names, loaded = load_occlusion_masks(tmp_path / "occ.npz")
    assert set(loaded) == {"segmenter"} and np.array_equal(loaded["segmenter"], masks)


def test_saliency_is_scaled_per_image_and_vanishes_when_the_fdm_discards_everything():
    from occlusion_fr.saliency import saliency_maps

    torch.manual_seed(0)
    model = BaseCNN(classes=3, embedding_size=16).eval()
    images = torch.randint(0, 256, (2, 3, 128, 96), dtype=torch.uint8)
    saliency = saliency_maps(model, images)
    assert saliency.shape == (2, 128, 96) and saliency.min() >= 0
    np.testing.assert_allclose(saliency.reshape(2, -1).max(1), 1.0)
    assert (saliency_maps(model, images, torch.zeros(model.map_shape)) == 0).all()


def _layout_job_inputs(tmp_path):
    """Crops of 3 people (2 training, 1 validation image each), a frozen base CNN, its cached
    clean maps and blocks over two regions: what a layout's generator job reads."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    rows, crop_names = [], []
    for person in range(3):
        for image in range(3):
            name = f"p{person}/p{person}_{image}.png"
            (tmp_path / "crops" / f"p{person}").mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (CROP_HEIGHT, CROP_WIDTH, 3), dtype=np.uint8)).save(
                tmp_path / "crops" / name)
            crop_names.append(name)
            for region, box in {"top": (0, 0, CROP_WIDTH, 40), "bottom": (0, 80, CROP_WIDTH, CROP_HEIGHT)}.items():
                rows.append({"image": name.replace(".png", ".jpg"), "crop": name, "identity": f"p{person}",
                             "split": "val" if image == 2 else "train", "region": region,
                             "grey": int(rng.integers(0, 256)), "x0": box[0], "y0": box[1], "x1": box[2],
                             "y1": box[3]})
    blocks = pd.DataFrame(rows)
    base = BaseCNN(classes=3, embedding_size=16).eval()
    for parameter in base.parameters():
        parameter.requires_grad_(False)
    clean_maps = {}
    for split in ("train", "val"):
        names = blocks.loc[(blocks["split"] == split) & (blocks["region"] == "top"), "image"].to_numpy()
        crops = load_images(tmp_path / "crops", [name.replace(".jpg", ".png") for name in names])
        clean_maps[split] = (names, feature_maps(base, crops, FP32))
    settings = {"kernel_size": 1, "lambda_diff": 10.0, "batch_size": 2, "lr": 1e-3, "patience": 5, "max_epochs": 3,
                "precision": "fp32"}
    return base, blocks, clean_maps, settings


def test_a_layouts_generators_in_one_job_are_those_of_one_job_per_region(tmp_path):
    """The layout job trains each region with the region's own seed and pairs: the same generator
    as a training of that region alone (what one job per region did)."""
    base, blocks, clean_maps, settings = _layout_job_inputs(tmp_path)
    identities = ["p0", "p1", "p2"]
    trained = list(train_layout_generators(base, identities, blocks, clean_maps, tmp_path / "crops", "halves",
                                           ["top", "bottom"], settings, 7, FP32, tmp_path / "checkpoints"))
    assert [region for region, *_ in trained] == ["top", "bottom"]
    for region, record, generator, mean in trained:
        assert record["train_pairs"] == 6 and record["val_pairs"] == 3 and len(record["history"]) == 3
        pairs = {split: region_pairs(base, blocks, split, region, *clean_maps[split],
                                     split_crops(blocks, split, tmp_path / "crops"), identities, FP32)
                 for split in ("train", "val")}
        alone = train_mask_generator(base, pairs["train"], pairs["val"], settings, region_seed(7, "halves", region),
                                     FP32, tmp_path / "alone" / region)
        for name, weight in alone["generator"].state_dict().items():
            torch.testing.assert_close(generator.state_dict()[name], weight, msg=f"{region}: {name}")
        np.testing.assert_allclose(mean, mean_mask(alone["generator"], pairs["train"][0], pairs["train"][1], FP32),
                                   atol=1e-6)
    # The two regions' blocks differ, and so do their generators.
    assert not torch.equal(trained[0][2].state_dict()["layers.0.weight"], trained[1][2].state_dict()["layers.0.weight"])


def test_an_interrupted_generator_training_resumes_where_it_stopped(tmp_path, monkeypatch):
    """A job killed during a generator's third epoch resumes from the second epoch's checkpoint
    (weights, optimiser, early stopping, batch order) and ends where an uninterrupted one does."""
    import occlusion_fr.masking.generator as generator_module

    base, blocks, clean_maps, settings = _layout_job_inputs(tmp_path)
    pairs = {split: region_pairs(base, blocks, split, "top", *clean_maps[split],
                                 split_crops(blocks, split, tmp_path / "crops"), ["p0", "p1", "p2"], FP32)
             for split in ("train", "val")}
    whole = train_mask_generator(base, pairs["train"], pairs["val"], settings, 3, FP32, tmp_path / "whole")

    calls = {"training epochs": 0}
    run_epoch = generator_module._run_epoch

    def killed_in_the_third_epoch(*args, **kwargs):
        if kwargs.get("optimiser", args[5] if len(args) > 5 else None) is not None:
            calls["training epochs"] += 1
            if calls["training epochs"] == 3:
                raise KeyboardInterrupt("killed")
        return run_epoch(*args, **kwargs)

    monkeypatch.setattr(generator_module, "_run_epoch", killed_in_the_third_epoch)
    with pytest.raises(KeyboardInterrupt):
        train_mask_generator(base, pairs["train"], pairs["val"], settings, 3, FP32, tmp_path / "resumed")
    monkeypatch.setattr(generator_module, "_run_epoch", run_epoch)
    resumed = train_mask_generator(base, pairs["train"], pairs["val"], settings, 3, FP32, tmp_path / "resumed")
    assert [row["epoch"] for row in resumed["history"]] == [1, 2, 3]
    drop_seconds = [{k: v for k, v in row.items() if k != "seconds"} for row in resumed["history"][:2]]
    assert drop_seconds == [{k: v for k, v in row.items() if k != "seconds"} for row in whole["history"][:2]]
    assert resumed["history"][2]["train_loss"] == pytest.approx(whole["history"][2]["train_loss"], rel=1e-5)
    for name, weight in whole["generator"].state_dict().items():
        torch.testing.assert_close(resumed["generator"].state_dict()[name], weight, msg=name)
