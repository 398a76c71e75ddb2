import numpy as np
import pandas as pd
import pytest

from occlusion_fr.datasets.synthetic import IMAGE_SIZE, generate_dataset, render_face, sample_identity, sample_nuisance
from occlusion_fr.io import read_rgb
from occlusion_fr.landmarks import landmarks_from_table


def render(seed, identity, image):
    rng = np.random.default_rng([seed, identity, image])
    return render_face(sample_identity(np.random.default_rng([seed, identity])), sample_nuisance(rng), rng)


def test_same_seed_same_image_and_other_seed_differs():
    a, lm_a, box_a = render(0, 3, 1)
    b, lm_b, box_b = render(0, 3, 1)
    c, _, _ = render(1, 3, 1)
    assert a.shape == (IMAGE_SIZE, IMAGE_SIZE, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(lm_a, lm_b)
    np.testing.assert_array_equal(box_a, box_b)
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 10


def gray(image, point):
    x, y = np.round(point).astype(int)
    return image[y - 1:y + 2, x - 1:x + 2].mean()


@pytest.mark.parametrize("identity", range(8))
def test_landmarks_are_ground_truth(identity):
    """Eye landmarks sit on the dark pupils, the face box holds all landmarks, geometry is sane."""
    for image_index in range(1, 4):
        image, landmarks, box = render(0, identity, image_index)
        left_eye, right_eye, nose, mouth_left, mouth_right = landmarks
        for eye, corner in ((left_eye, mouth_left), (right_eye, mouth_right)):
            cheek = (eye + corner) / 2
            assert gray(image, eye) < 0.6 * gray(image, cheek)
        assert np.all((landmarks >= box[:2]) & (landmarks <= box[2:]))
        assert left_eye[0] < right_eye[0] and mouth_left[0] < mouth_right[0]
        assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])


def test_identities_differ_more_than_images_of_one_identity():
    """Same person under different nuisance is closer (on the face) than two people."""
    def face(identity, image):
        img, lm, _ = render(0, identity, image)
        x0, y0 = np.round(lm[0] - 20).astype(int)
        return img[y0:y0 + 60, x0:x0 + 60].astype(float)
    same = np.mean([np.abs(face(i, 1) - face(i, 2)).mean() for i in range(6)])
    other = np.mean([np.abs(face(i, 1) - face(i + 1, 1)).mean() for i in range(6)])
    assert other > same


def test_generate_dataset_is_deterministic(tmp_path):
    first = generate_dataset(tmp_path / "a", tmp_path / "a.csv", identities=2, images_per_identity=3, seed=5)
    second = generate_dataset(tmp_path / "b", tmp_path / "b.csv", identities=2, images_per_identity=3, seed=5)
    assert len(first) == 6 and first["identity"].nunique() == 2
    pd.testing.assert_frame_equal(first, second)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))
    assert landmarks_from_table(first).shape == (6, 5, 2)
    for rel in first["image"]:
        # JPEG is lossy but deterministic: identical bytes decode to identical pixels.
        np.testing.assert_array_equal(read_rgb(tmp_path / "a" / rel), read_rgb(tmp_path / "b" / rel))
