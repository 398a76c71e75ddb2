import cv2
import numpy as np
import pytest

from occlusion_fr.crop import (CropGeometry, box_to_crop, corners_of, crop_box, crop_image, paste_into_photo,
                               points_to_crop, similarity_to)


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


TEMPLATE = ((27.0, 50.0), (69.0, 50.0), (48.0, 75.0), (30.0, 97.0), (66.0, 97.0))


def _similarity(angle_deg: float, scale: float, photo_centre=(150.0, 150.0)) -> np.ndarray:
    """Photo-to-crop similarity that puts ``photo_centre`` at the crop's centre."""
    theta = np.radians(angle_deg)
    linear = scale * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return np.hstack([linear, (np.array([48.0, 64.0]) - linear @ np.asarray(photo_centre))[:, None]])


def _apply(affine, points) -> np.ndarray:
    return np.asarray(points, float) @ affine[:2, :2].T + affine[:, 2]


def test_similarity_to_recovers_a_known_similarity_and_never_reflects():
    photo_to_crop = _similarity(-17.0, 0.55, (90.0, 130.0))
    points = _apply(cv2.invertAffineTransform(photo_to_crop), TEMPLATE)
    np.testing.assert_allclose(similarity_to(points, TEMPLATE), photo_to_crop, atol=1e-9)
    # A mirrored face is fitted by a rotation, not a reflection: the determinant stays positive.
    mirrored = np.array(TEMPLATE) * [-1, 1]
    assert np.linalg.det(similarity_to(mirrored, TEMPLATE)[:, :2]) > 0
    with pytest.raises(ValueError, match="degenerate landmarks"):
        similarity_to([[5, 5]] * 5, TEMPLATE)


def test_aligned_crops_put_the_landmarks_on_the_template_within_a_pixel():
    # A tilted, scaled face in a photo: five bright dots where its landmarks are.
    crop_to_photo = cv2.invertAffineTransform(_similarity(23.0, 0.6))
    landmarks = _apply(crop_to_photo, TEMPLATE)
    photo = np.zeros((300, 300, 3), np.uint8)
    for x, y in landmarks:
        cv2.circle(photo, (int(round(x * 16)), int(round(y * 16))), 3 * 16, (255, 255, 255), -1, cv2.LINE_AA, shift=4)
    geometry = CropGeometry(align="similarity", template=TEMPLATE)
    corners = geometry.corners([0, 0, 1, 1], landmarks)  # the box plays no part
    np.testing.assert_allclose(points_to_crop(landmarks, corners), TEMPLATE, atol=1e-6)
    crop = crop_image(photo, corners)
    assert crop.shape == (128, 96, 3)
    count, labels = cv2.connectedComponents((crop[..., 0] > 60).astype(np.uint8))
    assert count - 1 == 5
    for label in range(1, count):
        ys, xs = np.nonzero(labels == label)
        weights = crop[ys, xs, 0].astype(float)
        centre = np.array([np.average(xs, weights=weights), np.average(ys, weights=weights)])
        # pixel centres sit at integer crop coordinates, as in cv2.warpAffine
        assert np.linalg.norm(np.array(TEMPLATE) - centre, axis=1).min() < 1.0


def test_box_geometry_is_the_papers_crop_and_similarity_needs_a_template():
    box, landmarks = [40, 50, 120, 160], np.array(TEMPLATE) + 40
    np.testing.assert_allclose(CropGeometry(margin=0.1).corners(box, landmarks), crop_box(box, 0.1))
    assert CropGeometry.from_param(0.1) == CropGeometry(margin=0.1)
    assert CropGeometry.from_detection({"margin": 0.0, "min_face_size": 20}) == CropGeometry()
    aligned = CropGeometry.from_param({"align": "similarity", "template": [list(p) for p in TEMPLATE]})
    assert aligned == CropGeometry.from_detection({"margin": 0.0, "align": "similarity", "template": TEMPLATE})
    with pytest.raises(ValueError, match="detection.template"):
        CropGeometry(align="similarity")
    with pytest.raises(ValueError, match="detection.align"):
        CropGeometry(align="affine")


def test_rotated_crops_map_boxes_to_bounds_and_paste_back_in_place():
    crop_to_photo = cv2.invertAffineTransform(_similarity(-30.0, 0.5))
    corners = corners_of(cv2.invertAffineTransform(crop_to_photo))
    np.testing.assert_allclose(points_to_crop(_apply(crop_to_photo, [[0, 0], [96, 128], [96, 0]]), corners),
                               [[0, 0], [96, 128], [96, 0]], atol=1e-9)
    # A face box keeps its centre and its size (scale 0.5) on the rotated crop, not its corners' bounds.
    x0, y0, x1, y1 = box_to_crop([100, 100, 150, 170], corners)
    np.testing.assert_allclose([(x0 + x1) / 2, (y0 + y1) / 2], points_to_crop([[125, 135]], corners)[0], atol=1e-9)
    np.testing.assert_allclose([x1 - x0, y1 - y0], [25, 35], atol=1e-9)
    # On a box crop it is the box's corners mapped, as renderers had it before alignment.
    source = crop_box([100, 100, 150, 170], 0.0)
    np.testing.assert_allclose(box_to_crop([100, 100, 150, 170], source),
                               points_to_crop([[100, 100], [150, 170]], source).ravel(), atol=1e-9)
    rng = np.random.default_rng(1)
    photo = rng.integers(0, 200, (300, 300, 3), dtype=np.uint8)
    crop = crop_image(photo, corners)
    mask = np.zeros(crop.shape[:2], bool)
    mask[70:120, 10:86] = True
    occluded = crop.copy()
    occluded[mask] = 255
    again = crop_image(paste_into_photo(photo, occluded, mask, corners), corners)
    inner = np.zeros_like(mask)
    inner[74:116, 14:82] = True
    assert (again[inner] > 250).all()
