import numpy as np
import pandas as pd
import pytest

from occlusion_fr.landmarks import landmarks_to_columns
from occlusion_fr.regions import build_layout, coverage

# Four hand-made training faces (crop pixels): left eye, right eye, nose, mouth corners.
FACES = [
    [[30, 50], [66, 50], [48, 70], [36, 88], [60, 88]],
    [[32, 54], [64, 54], [48, 74], [38, 92], [58, 92]],
    [[28, 46], [68, 46], [46, 66], [34, 84], [62, 84]],
    [[30, 50], [66, 50], [50, 70], [36, 88], [60, 88]],
]
TABLE = pd.DataFrame([landmarks_to_columns(np.array(f)) for f in FACES])

LM1 = {"regions": {
    "left_eye": {"centre": {"landmarks": ["left_eye"], "width_sigmas": 4, "height_sigmas": 4}},
    "nose": {"centre": {"landmarks": ["nose"], "width_sigmas": 2, "height_sigmas": 6}},
}}
LM2 = {"regions": {
    "forehead": {"top": {"crop": "top"}, "bottom": {"region": "eyes", "edge": "top"}},
    "eyes": {"top": {"landmarks": ["left_eye", "right_eye"], "sigmas": -3},
             "bottom": {"landmarks": ["left_eye", "right_eye"], "sigmas": 2}},
    "nose": {"top": {"region": "eyes", "edge": "bottom"}, "bottom": {"region": "mouth", "edge": "top"},
             "covers": ["nose"]},
    "mouth": {"top": {"landmarks": ["mouth_left", "mouth_right"], "sigmas": -2},
              "bottom": {"landmarks": ["mouth_left", "mouth_right"], "sigmas": 2}},
    "chin": {"top": {"region": "mouth", "edge": "bottom"}, "bottom": {"crop": "bottom"}},
}}


def test_centred_boxes_hand_computed():
    layout = build_layout("lm1", LM1, TABLE)
    # left eye x: 30, 32, 28, 30 -> mean 30, sample sd sqrt(8/3); y: 50, 54, 46, 50 -> 50, sqrt(32/3)
    sx, sy = np.sqrt(8 / 3), np.sqrt(32 / 3)
    expected = [30 - 2 * sx, 50 - 2 * sy, 30 + 2 * sx, 50 + 2 * sy]
    np.testing.assert_allclose(layout["regions"]["left_eye"]["box"], expected)
    # nose x: 48, 48, 46, 50 -> 48, sd sqrt(8/3); y: 70, 74, 66, 70 -> 70, sd sqrt(32/3)
    np.testing.assert_allclose(layout["regions"]["nose"]["box"], [48 - sx, 70 - 3 * sy, 48 + sx, 70 + 3 * sy])
    assert layout["regions"]["left_eye"]["covers"] == ["left_eye"]


def test_zero_width_box_is_an_error_naming_the_region():
    # The mouth midpoint is x = 48 in every face: zero deviation, so a zero-width box.
    mouth = {"centre": {"landmarks": ["mouth"], "width_sigmas": 4, "height_sigmas": 4}}
    with pytest.raises(ValueError, match="layouts.lm1.regions.mouth: empty box"):
        build_layout("lm1", {"regions": {"mouth": mouth}}, TABLE)


def test_bands_hand_computed_and_chained():
    regions = build_layout("lm2", LM2, TABLE)["regions"]
    eyes_y = np.array([50, 54, 46, 50] * 2, float)
    mouth_y = np.array([88, 92, 84, 88] * 2, float)
    eyes_top, eyes_bottom = eyes_y.mean() - 3 * eyes_y.std(ddof=1), eyes_y.mean() + 2 * eyes_y.std(ddof=1)
    mouth_top, mouth_bottom = mouth_y.mean() - 2 * mouth_y.std(ddof=1), mouth_y.mean() + 2 * mouth_y.std(ddof=1)
    np.testing.assert_allclose(regions["forehead"]["box"], [0, 0, 96, eyes_top])
    np.testing.assert_allclose(regions["eyes"]["box"], [0, eyes_top, 96, eyes_bottom])
    np.testing.assert_allclose(regions["nose"]["box"], [0, eyes_bottom, 96, mouth_top])
    np.testing.assert_allclose(regions["mouth"]["box"], [0, mouth_top, 96, mouth_bottom])
    np.testing.assert_allclose(regions["chin"]["box"], [0, mouth_bottom, 96, 128])
    assert regions["eyes"]["covers"] == ["left_eye", "right_eye"]
    assert regions["forehead"]["covers"] == [] and regions["nose"]["covers"] == ["nose"]


def test_grid_cells():
    regions = build_layout("grid3x3", {"grid": {"rows": 3, "cols": 3}}, TABLE)["regions"]
    assert list(regions) == [f"r{r}c{c}" for r in (1, 2, 3) for c in (1, 2, 3)]
    np.testing.assert_allclose(regions["r2c2"]["box"], [32, 128 / 3, 64, 256 / 3])


def test_boxes_are_clipped_to_the_crop():
    spec = {"regions": {"wide": {"top": {"landmarks": ["left_eye"], "sigmas": -100}}}}
    assert build_layout("x", spec, TABLE)["regions"]["wide"]["box"] == [0.0, 0.0, 96.0, 128.0]


@pytest.mark.parametrize("spec, message", [
    ({"regions": {"a": {"bottom": {"region": "b", "edge": "top"}}, "b": {"top": {"region": "a", "edge": "bottom"}}}},
     "cycle"),
    ({"regions": {"a": {"bottom": {"region": "nowhere", "edge": "top"}}}}, "unknown region 'nowhere'"),
])
def test_bad_references_are_named(spec, message):
    with pytest.raises(ValueError, match=message):
        build_layout("x", spec, TABLE)


def test_coverage_per_region_and_all_at_once():
    layout = {"layout": "t", "regions": {
        "eyes": {"box": [0, 45, 96, 52], "covers": ["left_eye", "right_eye"]},   # misses face 2 (y=54)
        "nose": {"box": [45, 60, 49, 80], "covers": ["nose"]},                   # misses face 4 (x=50)
        "rest": {"box": [0, 0, 96, 128], "covers": []},
    }}
    table = coverage(layout, TABLE).set_index("region")["coverage"]
    assert table.to_dict() == {"eyes": 0.75, "nose": 0.75, "all": 0.5}
