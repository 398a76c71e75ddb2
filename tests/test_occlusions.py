import numpy as np
import pandas as pd
import pytest
from PIL import Image

from occlusion_fr.crop import crop_image
from occlusion_fr.io import read_rgb
from occlusion_fr.occlusions.blocks import block_table, render_block
from occlusion_fr.occlusions.directory_source import match_directory
from occlusion_fr.occlusions.geometry import UnusableFace, check_landmarks
from occlusion_fr.occlusions.labels import clean_mask, derive_label, iou
from occlusion_fr.occlusions.overlay import box_pixels
from occlusion_fr.occlusions.renderers import Renderer
from occlusion_fr.occlusions.sets import make_occlusion_set

from helpers import as_row, synthetic_crops

FACE_MASK = {"type": "face_mask", "source": "procedural", "styles": ["surgical", "n95", "kn95", "cloth"],
             "turn_threshold_deg": 13}
SUNGLASSES = {"type": "sunglasses"}
LABELS = {"threshold": 10, "opening": 3, "closing": 5}


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    return synthetic_crops(tmp_path_factory.mktemp("faces"), identities=5, images=6)


def render_all(spec, faces, seed=0):
    table, crops, layout = faces
    renderer = Renderer("occ", spec, {"lm2": layout}, seed, table["image"])
    for i in range(len(table)):
        row = as_row(table, i)
        crop = read_rgb(crops / row.crop)
        yield row, crop, *renderer(row, crop)


def shares(mask, layout):
    total = mask.sum()
    out = {}
    for name, info in layout["regions"].items():
        x0, y0, x1, y1 = box_pixels(info["box"], *mask.shape)
        out[name] = mask[y0:y1, x0:x1].sum() / total
    return out


def test_face_masks_cover_nose_mouth_chin_and_leave_eyes_free(faces):
    per_image = pd.DataFrame([shares(exact, faces[2]) for *_, exact, _ in render_all(FACE_MASK, faces)])
    lower, upper = per_image[["nose", "mouth", "chin"]].sum(1), per_image[["forehead", "eyes"]].sum(1)
    assert lower.mean() > 0.95 and lower.min() > 0.9
    assert upper.mean() < 0.03
    assert (per_image[["nose", "mouth", "chin"]] > 0.1).all().all()  # each lower band really covered


def test_face_mask_pixels_change_where_the_mask_is(faces):
    for _, crop, occluded, exact, details in render_all(FACE_MASK, faces):
        changed = np.abs(crop.astype(int) - occluded.astype(int)).max(-1) > 10
        assert changed[~exact].mean() < 0.02  # outside the exact mask: only partly covered edge pixels
        assert changed[exact].mean() > 0.8
        assert details["style"] in FACE_MASK["styles"] and details["turn"] in (-1, 0, 1)


def test_jpeg_re_encoding_adds_compression_noise_that_the_labels_mostly_ignore(faces):
    lossless = list(render_all(FACE_MASK, faces))
    jpeg = list(render_all({**FACE_MASK, "jpeg_quality": 95}, faces))
    ious = []
    for (_, crop, plain, exact, details), (_, _, encoded, exact_jpeg, details_jpeg) in zip(lossless, jpeg):
        assert details == details_jpeg and np.array_equal(exact, exact_jpeg)  # the same mask, drawn alike
        noise = np.abs(encoded.astype(int) - plain.astype(int))
        assert 0 < noise.mean() < 6  # compression noise, a few grey levels on average
        outside = np.abs(encoded.astype(int) - crop.astype(int)).max(-1)[~exact]
        assert (outside > 0).mean() > 0.2  # the unmasked face changes too, as in a tool's JPEG output
        ious.append(iou(derive_label(crop, encoded, **LABELS)[1], exact))
    assert np.mean(ious) > 0.9


def test_sunglasses_cover_both_eyes(faces):
    for row, _, occluded, exact, _ in render_all(SUNGLASSES, faces):
        for eye in ("left_eye", "right_eye"):
            x, y = int(getattr(row, f"{eye}_x")), int(getattr(row, f"{eye}_y"))
            assert exact[y, x]
        share = shares(exact, faces[2])
        assert share["eyes"] > 0.3 and share["mouth"] + share["chin"] < 0.05


def test_bands_cover_exactly_their_regions(faces):
    _, _, layout = faces
    spec = {"type": "band", "layout": "lm2", "regions": ["nose", "chin"], "intensity": 255}
    expected = np.zeros((128, 96), bool)
    for region in ("nose", "chin"):
        x0, y0, x1, y1 = box_pixels(layout["regions"][region]["box"], 128, 96)
        expected[y0:y1, x0:x1] = True
    for _, crop, occluded, exact, _ in render_all(spec, faces):
        np.testing.assert_array_equal(exact, expected)
        assert (occluded[expected] == 255).all()
        np.testing.assert_array_equal(occluded[~expected], crop[~expected])


def test_blocks_cover_exactly_their_regions_with_seeded_grey(faces):
    table, crops, layout = faces
    blocks = block_table(table, layout, ["train", "val"], seed=0, grey_range=[0, 255])
    assert set(blocks["split"]) == {"train", "val"}  # never test
    assert len(blocks) == (table["split"] != "test").sum() * len(layout["regions"])
    again = block_table(table, layout, ["train", "val"], seed=0, grey_range=[0, 255])
    pd.testing.assert_frame_equal(blocks, again)
    assert blocks["grey"].nunique() > 20
    row = blocks.iloc[0]
    crop = read_rgb(crops / row["crop"])
    occluded, exact = render_block(crop, [row.x0, row.y0, row.x1, row.y1], row["grey"])
    x0, y0, x1, y1 = box_pixels([row.x0, row.y0, row.x1, row.y1], 128, 96)
    assert exact[y0:y1, x0:x1].all() and exact.sum() == (x1 - x0) * (y1 - y0)
    assert (occluded[exact] == row["grey"]).all()
    np.testing.assert_array_equal(occluded[~exact], crop[~exact])


def test_box_pixels_uses_pixel_centres():
    assert box_pixels([0.4, 0.6, 2.5, 3.49], 10, 10) == (0, 1, 2, 3)  # centre 0.5 < 0.6: row 0 out
    assert box_pixels([-5, 8, 20, 12], 10, 10) == (0, 8, 10, 10)


def test_same_seed_same_images_other_seed_other_textures(faces, tmp_path):
    table, crops, layout = faces

    def run(seed, folder):
        index, _ = make_occlusion_set(table, "train", "face_mask", FACE_MASK, {}, seed, crops, tmp_path / folder,
                                      tmp_path / f"{folder}.csv", tmp_path / f"{folder}_skipped.csv", **LABELS)
        return index, [read_rgb(tmp_path / folder / "images" / c) for c in index["occluded"]]

    first, images_a = run(0, "a")
    second, images_b = run(0, "b")
    _, images_c = run(1, "c")
    pd.testing.assert_frame_equal(first, second)
    for a, b in zip(images_a, images_b):
        np.testing.assert_array_equal(a, b)
    differing = [np.abs(a.astype(int) - c.astype(int)).mean() > 1 for a, c in zip(images_a, images_c)]
    assert np.mean(differing) > 0.8
    # A mask close to the face's colour changes few pixels by more than the threshold: lower IoU.
    assert first["iou"].mean() > 0.9 and first["iou"].min() > 0.5


def test_unusable_landmarks_are_skipped_with_a_reason(faces, tmp_path):
    table, crops, layout = faces
    table = table.copy()
    train = table.index[table["split"] == "train"]
    table.loc[train[0], "nose_x"] = 150.0  # outside the 96-wide crop
    table.loc[train[1], ["right_eye_x", "right_eye_y"]] = table.loc[train[1], ["left_eye_x", "left_eye_y"]].values
    index, skipped = make_occlusion_set(table, "train", "sunglasses", SUNGLASSES, {}, 0, crops, tmp_path / "s",
                                        tmp_path / "s.csv", tmp_path / "s_skipped.csv", **LABELS)
    assert len(index) == len(train) - 2
    reasons = dict(zip(skipped["image"], skipped["reason"]))
    assert "outside the 128x96 crop" in reasons[table.loc[train[0], "image"]]
    assert "both eyes on one point" in reasons[table.loc[train[1], "image"]]
    assert pd.read_csv(tmp_path / "s_skipped.csv").shape[0] == 2


def test_check_landmarks_accepts_good_faces():
    check_landmarks(np.array([[30, 50], [66, 50], [48, 70], [36, 88], [60, 88]], float))
    with pytest.raises(UnusableFace, match="missing"):
        check_landmarks(np.array([[30, 50], [66, 50], [np.nan, 70], [36, 88], [60, 88]], float))


def test_morphology_removes_isolated_label_pixels():
    mask = np.zeros((40, 40), bool)
    mask[10:30, 10:30] = True
    mask[15, 15] = False  # a hole
    mask[2, 2] = mask[35, 5] = mask[5, 37] = True  # isolated noise
    cleaned = clean_mask(mask, opening=3, closing=5)
    assert not cleaned[2, 2] and not cleaned[35, 5] and not cleaned[5, 37]
    assert cleaned[15, 15] and cleaned[12:28, 12:28].all()


def test_derived_label_and_iou():
    original = np.full((20, 20, 3), 100, np.uint8)
    occluded = original.copy()
    occluded[5:15, 5:15] = 200
    occluded[0, 0] = 108  # below the threshold
    raw, label = derive_label(original, occluded, threshold=10, opening=3, closing=3)
    assert raw.sum() == 100 and iou(raw, occluded[..., 0] == 200) == 1.0
    assert iou(np.zeros((2, 2), bool), np.zeros((2, 2), bool)) == 1.0
    assert iou(np.eye(2, dtype=bool), ~np.eye(2, dtype=bool)) == 0.0


def test_directory_source_matches_by_stem_and_reports_strays(faces, tmp_path):
    table, crops, _ = faces
    raw = crops.parent / "raw"
    source = tmp_path / "masktheface"
    first, second = table["image"].iloc[0], table["image"].iloc[1]
    for image, suffix in ((first, "surgical"), (first, "cloth"), (second, "KN95_white")):
        target = source / image.split("/")[0] / f"{image.split('/')[1][:-4]}_{suffix}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(read_rgb(raw / image)).save(target)
    (source / "Nobody").mkdir()
    Image.new("RGB", (250, 250)).save(source / "Nobody" / "Nobody_0001_surgical.jpg")
    (source / "notes.png").write_bytes(b"not an image")
    matched, problems = match_directory(source, table["image"])
    assert set(matched) == {first.split("/")[1][:-4], second.split("/")[1][:-4]}
    reasons = dict(zip([p.split("/")[-1] for p in problems["file"]], problems["reason"]))
    assert reasons["Nobody_0001_surgical.jpg"].startswith("unmatched")
    assert reasons["notes.png"].startswith("wrong name pattern")
    assert reasons[f"{first.split('/')[1][:-4]}_surgical.jpg"].startswith("duplicate")

    # Through a whole set: matched files are cropped like their source, the rest reported.
    spec = {"type": "face_mask", "source": "directory", "directory": str(source)}
    split = table.loc[table["image"].isin([first, second]), "split"].iloc[0]
    index, skipped = make_occlusion_set(table, split, "mtf", spec, {}, 0, crops, tmp_path / "set", tmp_path / "i.csv",
                                        tmp_path / "s.csv", **LABELS)
    row = table[table["image"] == index["image"].iloc[0]].iloc[0]
    expected = crop_image(read_rgb(next(p for s, p in matched.items() if row["image"].endswith(s + ".jpg"))),
                          [row.crop_x0, row.crop_y0, row.crop_x1, row.crop_y1])
    assert np.abs(read_rgb(tmp_path / "set" / "images" / index["occluded"].iloc[0]).astype(int)
                  - expected.astype(int)).max() <= 1
    assert index["exact"].fillna("").eq("").all() and index["iou"].isna().all()
    assert (skipped["reason"] == "no file: no MaskTheFace file for this image").sum() == \
        (table["split"] == split).sum() - len(index)
    assert skipped["reason"].str.startswith("unmatched").sum() == 1
    assert skipped["reason"].str.startswith("wrong name pattern").sum() == 1
