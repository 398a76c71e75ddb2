import numpy as np
import pytest

from occlusion_fr.crop import crop_box, crop_image, points_to_crop


def test_crop_box_grows_to_the_crop_aspect_ratio():
    # 50 wide, 60 high: too short for 128:96, so the height grows to 50 * 4/3 about the centre.
    np.testing.assert_allclose(crop_box([10, 20, 60, 80], margin=0.0), [10, 50 - 100 / 3, 60, 50 + 100 / 3])
    # 30 wide, 80 high: too narrow, so the width grows to 60.
    np.testing.assert_allclose(crop_box([0, 0, 30, 80], margin=0.0), [-15, 0, 45, 80])
    # margin 0.1 on a 40x60 box: 48 x 72, then widened to 54 (= 72 * 3/4).
    np.testing.assert_allclose(crop_box([0, 0, 40, 60], margin=0.1), [-7, -6, 47, 66])


def test_crop_box_refuses_degenerate_boxes():
    with pytest.raises(ValueError, match="degenerate"):
        crop_box([5, 5, 5, 20], margin=0.0)


def test_points_to_crop_hand_computed():
    source = [10, 20, 58, 84]  # 48 x 64 -> 96 x 128: scale 2
    points = np.array([[10, 20], [34, 52], [58, 84], [22.5, 21]])
    np.testing.assert_allclose(points_to_crop(points, source), [[0, 0], [48, 64], [96, 128], [25, 2]])


def test_crop_image_moves_pixels_where_points_go():
    image = np.zeros((250, 250, 3), np.uint8)
    image[100, 140] = 255
    source = crop_box([90, 60, 170, 180], margin=0.05)
    crop = crop_image(image, source)
    assert crop.shape == (128, 96, 3)
    y, x = np.unravel_index(np.argmax(crop[..., 0]), crop.shape[:2])
    expected = points_to_crop([[140, 100]], source)[0]
    assert abs(x - expected[0]) <= 1 and abs(y - expected[1]) <= 1


def test_crop_outside_the_photo_repeats_the_border():
    image = np.full((50, 50, 3), 200, np.uint8)
    crop = crop_image(image, [-20, -20, 40, 60])
    assert crop.min() == 200
