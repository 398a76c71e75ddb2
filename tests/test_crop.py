import cv2
import numpy as np
import pytest

from occlusion_fr.crop import crop_box, crop_image, paste_into_photo, points_to_crop


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


def test_an_occluder_on_a_crop_pastes_back_where_it_came_from_and_nowhere_else():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 200, (250, 250, 3), dtype=np.uint8)
    box = crop_box((80, 70, 170, 190), 0.0)
    crop = crop_image(photo, box)
    mask = np.zeros(crop.shape[:2], bool)
    mask[70:120, 10:86] = True  # a lower-face occluder
    occluded = crop.copy()
    occluded[mask] = 255
    pasted = paste_into_photo(photo, occluded, mask, box)
    changed = np.any(pasted != photo, axis=2)
    x0, y0, x1, y1 = box
    rows, cols = np.nonzero(changed)
    assert rows.min() >= y0 and rows.max() <= y1 and cols.min() >= x0 and cols.max() <= x1  # inside the box
    assert np.mean(np.all(pasted[changed] == 255, axis=1)) > 0.9  # the occluder's pixels, edges interpolated
    # Crop the pasted photo again: the occluder is back in its crop pixels, the rest is the photo's.
    again = crop_image(pasted, box)
    inner = np.zeros_like(mask)
    inner[73:117, 13:83] = True  # away from the occluder's edge, where interpolation mixes
    assert (again[inner] > 250).all()
    away = cv2.dilate(mask.astype(np.uint8), np.ones((9, 9), np.uint8)) == 0
    assert np.abs(again[away].astype(int) - crop[away].astype(int)).max() == 0
