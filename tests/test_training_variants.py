"""Issue 29's switches beyond the paper: random blocks, occlusion-augmented base training, a
model that reads only some crop rows, and lm2split (the lm2 bands split into left and right)."""

import copy
import json
import re

import numpy as np
import pytest
import torch
import yaml
from snakemake.utils import update_config

from occlusion_fr.config import validate_config
from occlusion_fr.io import read_rgb
from occlusion_fr.models.base_cnn import BaseCNN
from occlusion_fr.models.data import load_images
from occlusion_fr.models.occluders import TrainingOccluders
from occlusion_fr.models.settings import training_settings
from occlusion_fr.models.train_base_cnn import train_base_cnn
from occlusion_fr.occlusions.renderers import Renderer
from occlusion_fr.regions import build_layout

from conftest import REPO, SCHEMA, TINY_TRAINING, snakemake
from helpers import as_row, synthetic_crops
from test_workflow import planned_jobs, planned_wildcards

RANDOM_BLOCK = {"type": "random_block", "height": [0.2, 0.4], "width": [0.3, 0.6], "grey": [10, 20]}
FACE_MASK = {"type": "face_mask", "source": "procedural", "styles": ["surgical", "cloth"], "turn_threshold_deg": 26}


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    return synthetic_crops(tmp_path_factory.mktemp("faces"), identities=4, images=6)


def default_config() -> dict:
    return validate_config(yaml.safe_load((REPO / "config.yaml").read_text()), SCHEMA)


def test_random_blocks_stay_in_their_ranges_and_differ_per_image_and_draw(faces):
    table, crops, _ = faces
    renderer = Renderer("blocks", RANDOM_BLOCK, {}, 0, table["image"])
    boxes = []
    for i in range(len(table)):
        row = as_row(table, i)
        crop = read_rgb(crops / row.crop)
        occluded, exact, details = renderer(row, crop)
        h, w = crop.shape[:2]
        rows, cols = np.nonzero(exact)
        height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert exact.sum() == height * width  # one solid rectangle inside the crop
        assert 0.2 * h - 1 <= height <= 0.4 * h + 1 and 0.3 * w - 1 <= width <= 0.6 * w + 1
        assert 10 <= details["grey"] <= 20 and (occluded[exact] == details["grey"]).all()
        assert (occluded[~exact] == crop[~exact]).all()
        again = renderer(row, crop)[1]
        assert (again == exact).all()  # the same image and draw: the same block
        boxes.append(tuple(details["box"]))
        assert tuple(renderer(row, crop, draw=1)[2]["box"]) != tuple(details["box"])
    assert len(set(boxes)) == len(boxes)


def occluder_settings(rate: float) -> dict:
    return {"rate": rate, "occlusions": ["face_mask", "blocks"], "renders": 2,
            "specs": {"face_mask": FACE_MASK, "blocks": RANDOM_BLOCK}}


def test_training_occluders_swap_about_rate_of_the_samples_for_their_own_renders(faces):
    table, crops_dir, _ = faces
    rows = table[table["split"] == "train"].reset_index(drop=True)
    crops = load_images(crops_dir, rows["crop"])
    occluders = TrainingOccluders.render(rows, crops, occluder_settings(0.5), seed=3)
    assert occluders.names == ["face_mask", "face_mask", "blocks", "blocks"]
    summary = occluders.summary()
    assert summary["occludable"] == {"face_mask": len(rows), "blocks": len(rows)}
    # Two renders of one occlusion differ; each differs from the clean crop.
    assert not torch.equal(occluders.renders[:, 2], occluders.renders[:, 3])
    assert all(not torch.equal(occluders.renders[:, k], crops) for k in range(4))

    generator, swapped = torch.Generator().manual_seed(0), []
    for _ in range(200):
        index = torch.randint(len(rows), (8,), generator=generator)
        batch, swap = occluders.apply(index, crops[index], generator)
        swapped.append(swap)
        assert torch.equal(batch[~swap], crops[index][~swap])  # the others stay clean
        for i in torch.nonzero(swap).flatten():  # a swapped sample is one of its own renders
            assert any(torch.equal(batch[i], occluders.renders[index[i], k]) for k in range(4))
    share = torch.cat(swapped).float().mean().item()
    assert abs(share - 0.5) < 4 * np.sqrt(0.25 / 1600)
    # The same generator state gives the same batch (a resumed epoch sees the same occluders).
    index = torch.arange(8)
    first = occluders.apply(index, crops[index], torch.Generator().manual_seed(5))[0]
    assert torch.equal(first, occluders.apply(index, crops[index], torch.Generator().manual_seed(5))[0])


def test_a_crop_no_renderer_can_use_is_never_swapped(faces):
    table, crops_dir, _ = faces
    rows = table[table["split"] == "train"].reset_index(drop=True)
    rows.loc[0, ["nose_y"]] = rows.loc[0, "left_eye_y"] - 5  # nose above the eyes: no face mask fits
    crops = load_images(crops_dir, rows["crop"])
    settings = {**occluder_settings(1.0), "occlusions": ["face_mask"]}
    occluders = TrainingOccluders.render(rows, crops, settings, seed=0)
    assert occluders.summary()["occludable"] == {"face_mask": len(rows) - 1}
    index = torch.tensor([0, 1, 0, 1])
    batch, swap = occluders.apply(index, crops[index], torch.Generator().manual_seed(0))
    assert swap.tolist() == [False, True, False, True] and torch.equal(batch[0], crops[0])


def test_settings_without_the_switches_are_the_paper_s_and_with_them_carry_what_the_job_needs():
    config = default_config()
    settings = training_settings(config, "lfw")
    assert "occluders" not in settings and "visible_rows" not in settings  # unchanged fingerprints
    assert settings["max_epochs"] == config["datasets"]["lfw"]["max_epochs"]["base_cnn"]
    overlay = yaml.safe_load((REPO / "experiments" / "occlusion_augmented.yaml").read_text())
    augmented = copy.deepcopy(yaml.safe_load((REPO / "config.yaml").read_text()))
    update_config(augmented, overlay)
    settings = training_settings(validate_config(augmented, SCHEMA), "lfw_augmented")
    assert settings["occluders"]["rate"] == 0.5
    assert set(settings["occluders"]["specs"]) == {"face_mask", "sunglasses", "random_blocks"}
    assert settings["occluders"]["specs"]["random_blocks"]["type"] == "random_block"
    assert "regions" not in settings["occluders"]["specs"]["random_blocks"]  # only the keys its renderer reads
    upper = copy.deepcopy(config)
    upper["base_cnn"]["visible_rows"] = [0.0, 0.5]
    assert training_settings(upper, "lfw")["visible_rows"] == [0.0, 0.5]


def test_a_model_reading_the_upper_rows_ignores_the_lower_ones():
    torch.manual_seed(0)
    whole = BaseCNN(classes=3).eval()
    upper = BaseCNN(classes=3, visible_rows=(0.0, 0.5)).eval()
    upper.load_state_dict(whole.state_dict())  # the same parameters: the switch adds none
    images = torch.randn(2, 3, 128, 96)
    changed = images.clone()
    changed[:, :, 64:] = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        torch.testing.assert_close(upper(images), upper(changed))
        assert not torch.allclose(whole(images), whole(changed), atol=1e-3)
        changed_top = images.clone()
        changed_top[:, :, :10] = 0
        assert not torch.allclose(upper(images), upper(changed_top), atol=1e-3)
    with pytest.raises(ValueError, match="visible_rows"):
        BaseCNN(classes=3, visible_rows=(0.6, 0.4))


@pytest.mark.slow
def test_an_augmented_base_sees_occluders_in_its_batches_and_an_upper_face_base_trains(faces, tmp_path):
    table, crops_dir, _ = faces
    settings = {**training_settings(default_config(), "synthetic"), **TINY_TRAINING["base_cnn"], "max_epochs": 2,
                "occluders": occluder_settings(0.5), "precision": "fp32"}
    record = train_base_cnn(table, crops_dir, settings, seed=0, checkpoint_dir=tmp_path / "augmented")
    shares = [epoch["occluded_share"] for epoch in record["history"]]
    samples = (len(table[table["split"] == "train"]) // 8) * 8
    assert len(shares) == 2 and all(abs(s - 0.5) < 4 * np.sqrt(0.25 / samples) for s in shares)
    assert record["occluders"]["renders_per_crop"] == 4
    plain = train_base_cnn(table, crops_dir, {**settings, "occluders": {**settings["occluders"], "rate": 0.0},
                                              "max_epochs": 1}, seed=0, checkpoint_dir=tmp_path / "plain")
    assert "occluders" not in plain and all("occluded_share" not in epoch for epoch in plain["history"])
    upper = train_base_cnn(table, crops_dir, {**settings, "visible_rows": [0.0, 0.5], "max_epochs": 1}, seed=0,
                           checkpoint_dir=tmp_path / "upper")
    assert upper["architecture"]["visible_rows"] == [0.0, 0.5]


def lm2split_layout() -> dict:
    return yaml.safe_load((REPO / "experiments" / "lm2split.yaml").read_text())["layouts"]["lm2split"]


def test_lm2split_halves_each_lm2_band_at_the_eyes_midline(faces):
    table, _, lm2 = faces
    train = table[table["split"] == "train"]
    split = build_layout("lm2split", lm2split_layout(), train)
    assert len(split["regions"]) == 10
    midline = float(np.mean(np.concatenate([train["left_eye_x"], train["right_eye_x"]])))
    for band, info in lm2["regions"].items():
        left, right = split["regions"][f"{band}_left"]["box"], split["regions"][f"{band}_right"]["box"]
        np.testing.assert_allclose([left[1], left[3]], [info["box"][1], info["box"][3]], atol=1e-6)
        np.testing.assert_allclose([right[1], right[3]], [info["box"][1], info["box"][3]], atol=1e-6)
        np.testing.assert_allclose([left[0], left[2], right[0], right[2]],
                                   [info["box"][0], midline, midline, info["box"][2]], atol=1e-6)


@pytest.mark.slow
def test_the_lm2split_overlay_plans_one_generator_per_half_band(workdir):
    plan = snakemake(workdir, "-n", "--configfile", str(REPO / "experiments" / "lm2split.yaml"))
    regions = sorted(re.search(r"region=(\w+)", w)[1] for w in planned_wildcards(plan, "mask_dictionary")
                     if "masking_layout=lm2split" in w)
    assert regions == sorted(f"{band}_{side}" for band in ("forehead", "eyes", "nose", "mouth", "chin")
                             for side in ("left", "right"))
    # One generator job per masking layout trains its regions; one dictionary entry per region.
    assert planned_jobs(plan)["mask_generator"] == 4 and planned_jobs(plan)["mask_dictionary"] == 9 + 4 + 5 + 10


def test_every_lm2split_region_is_named_in_the_overlay_and_valid():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    update_config(config, yaml.safe_load((REPO / "experiments" / "lm2split.yaml").read_text()))
    validated = validate_config(config, SCHEMA)
    assert [r for r in validated["layouts"]["lm2split"]["regions"]] == [
        f"{band}_{side}" for band in ("forehead", "eyes", "nose", "mouth", "chin") for side in ("left", "right")]
    # The overlay adds a layout and leaves the default ones as config.yaml defines them.
    assert json.dumps(validated["layouts"]["lm2"]) == json.dumps(default_config()["layouts"]["lm2"])
