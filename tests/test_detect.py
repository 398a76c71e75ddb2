import tarfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from skimage import data

from occlusion_fr import LANDMARK_NAMES
from occlusion_fr.crop import CropGeometry, points_to_crop
from occlusion_fr.datasets.synthetic import generate_dataset
from occlusion_fr.detect import GroundTruthDetector, MTCNNDetector, detect_and_crop, nearest_to_centre
from occlusion_fr.landmarks import landmarks_from_table
from occlusion_fr.unusable import NoUsableImagesError

from conftest import SHARED_LFW, needs_lfw


@pytest.fixture(scope="module")
def mtcnn():
    return MTCNNDetector()


def test_nearest_to_centre():
    boxes = np.array([[0, 0, 20, 20], [40, 40, 60, 60], [90, 90, 100, 100]], float)
    assert nearest_to_centre(boxes, (100, 100, 3)) == 1
    assert nearest_to_centre(boxes, (200, 200, 3)) == 2


def check_face(detection, image_shape):
    assert detection is not None and detection.score > 0.9
    x0, y0, x1, y1 = detection.box
    lm = detection.landmarks
    assert np.all((lm[:, 0] > x0) & (lm[:, 0] < x1) & (lm[:, 1] > y0) & (lm[:, 1] < y1))
    left_eye, right_eye, nose, mouth_left, mouth_right = lm
    assert left_eye[0] < nose[0] < right_eye[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])


def test_mtcnn_finds_the_astronauts_face(mtcnn):
    image = data.astronaut()
    (detection,) = mtcnn([image])
    check_face(detection, image.shape)
    # Eileen Collins' face is in the upper middle-right of the 512x512 photo.
    cx, cy = (detection.box[0] + detection.box[2]) / 2, (detection.box[1] + detection.box[3]) / 2
    assert 180 < cx < 280 and 60 < cy < 180


def test_mtcnn_finds_nothing_in_noise(mtcnn):
    noise = np.random.default_rng(0).integers(0, 255, (250, 250, 3), dtype=np.uint8)
    assert mtcnn([noise]) == [None]


@needs_lfw
def test_mtcnn_on_real_lfw_images(mtcnn, tmp_path):
    with tarfile.open(SHARED_LFW, "r:gz") as tar:
        images = []
        for member in tar:
            if member.isfile() and member.name.endswith(".jpg"):
                images.append(np.asarray(Image.open(tar.extractfile(member)).convert("RGB")))
            if len(images) == 6:
                break
    detections = mtcnn(images)  # one batch: all LFW images are 250x250
    for image, detection in zip(images, detections):
        check_face(detection, image.shape)
        centre = (detection.box[:2] + detection.box[2:]) / 2
        assert np.linalg.norm(centre - 125) < 30  # LFW's subject is centred


def test_bad_files_are_reported_not_fatal(tmp_path):
    raw = tmp_path / "raw"
    index = generate_dataset(raw, tmp_path / "index.csv", identities=2, images_per_identity=3, seed=0)
    truncated = raw / index.loc[1, "image"]
    truncated.write_bytes(truncated.read_bytes()[:400])  # a corrupt JPEG
    (raw / index.loc[4, "image"]).write_text("this is not an image")
    faces, failures = detect_and_crop(index, raw, GroundTruthDetector(), tmp_path / "crops",
                                      tmp_path / "faces.csv", tmp_path / "failures.csv", CropGeometry(), batch_size=4)
    assert len(faces) == 4 and len(failures) == 2
    assert set(failures["image"]) == {index.loc[1, "image"], index.loc[4, "image"]}
    assert failures["reason"].str.startswith("unreadable").all()
    assert pd.read_csv(tmp_path / "failures.csv")["image"].tolist() == failures["image"].tolist()
    for crop in faces["crop"]:
        assert np.asarray(Image.open(tmp_path / "crops" / crop)).shape == (128, 96, 3)
    # Landmarks in crop coordinates stay inside the crop for these centred faces.
    points = landmarks_from_table(faces)
    assert np.all((points[..., 0] >= 0) & (points[..., 0] < 96) & (points[..., 1] >= 0) & (points[..., 1] < 128))


def test_mtcnn_reports_images_without_a_face(mtcnn, tmp_path):
    raw = tmp_path / "raw"
    (raw / "x").mkdir(parents=True)
    Image.fromarray(data.astronaut()[:250, 130:380]).save(raw / "x" / "x_0001.jpg")
    Image.fromarray(np.full((250, 250, 3), 128, np.uint8)).save(raw / "x" / "x_0002.jpg")
    index = pd.DataFrame({"image": ["x/x_0001.jpg", "x/x_0002.jpg"], "identity": ["x", "x"]})
    faces, failures = detect_and_crop(index, raw, mtcnn, tmp_path / "crops", tmp_path / "f.csv",
                                      tmp_path / "fail.csv", CropGeometry())
    assert faces["image"].tolist() == ["x/x_0001.jpg"]
    assert failures.to_dict("records") == [{"image": "x/x_0002.jpg", "identity": "x", "reason": "no face detected"}]


def test_no_usable_image_fails_counting_the_reasons(mtcnn, tmp_path, caplog):
    raw = tmp_path / "raw"
    (raw / "x").mkdir(parents=True)
    Image.fromarray(np.full((250, 250, 3), 128, np.uint8)).save(raw / "x" / "x_0001.jpg")
    Image.fromarray(np.full((250, 250, 3), 30, np.uint8)).save(raw / "x" / "x_0002.jpg")
    (raw / "x" / "x_0003.jpg").write_bytes(b"")
    index = pd.DataFrame({"image": [f"x/x_000{i}.jpg" for i in (1, 2, 3)], "identity": ["x"] * 3})
    with pytest.raises(NoUsableImagesError, match=r"face detection in .*raw: no usable image \(3 skipped: "
                                                  r"no face detected 2, unreadable 1\)\. Expected readable"):
        detect_and_crop(index, raw, mtcnn, tmp_path / "crops", tmp_path / "f.csv", tmp_path / "fail.csv", CropGeometry())
    assert "skipped x/x_0003.jpg: unreadable" in caplog.text  # each file's reason reaches the job's log


def test_similarity_alignment_levels_the_eyes_and_brings_landmarks_to_the_template(tmp_path):
    template = ((27.0, 50.0), (69.0, 50.0), (48.0, 75.0), (30.0, 97.0), (66.0, 97.0))
    index = generate_dataset(tmp_path / "raw", tmp_path / "index.csv", identities=3, images_per_identity=4, seed=0)
    tables = {}
    for geometry in (CropGeometry(), CropGeometry(align="similarity", template=template)):
        tables[geometry.align], _ = detect_and_crop(index, tmp_path / "raw", GroundTruthDetector(),
                                                    tmp_path / geometry.align, tmp_path / f"{geometry.align}.csv",
                                                    tmp_path / "failures.csv", geometry)
    tilt, distance = {}, {}
    for align, faces in tables.items():
        points = landmarks_from_table(faces)
        eye_line = points[:, 1] - points[:, 0]
        tilt[align] = np.abs(np.degrees(np.arctan2(eye_line[:, 1], eye_line[:, 0]))).max()
        distance[align] = np.linalg.norm(points - np.array(template), axis=2).mean()
    assert tilt["box"] > 3 and tilt["similarity"] < 0.5  # the synthetic faces are tilted up to 8 degrees
    assert distance["similarity"] < 0.6 * distance["box"]
    # The faces table's corners reproduce the crop: the landmarks map onto the stored ones.
    faces = pd.read_csv(tmp_path / "similarity.csv")
    for row in faces.head(3).itertuples(index=False):
        source = index.set_index("image").loc[row.image]
        image_points = source[[f"{n}_{a}" for n in LANDMARK_NAMES for a in "xy"]].to_numpy(float).reshape(5, 2)
        stored = landmarks_from_table(pd.DataFrame([row._asdict()]))[0]
        np.testing.assert_allclose(points_to_crop(image_points, [row.crop_x0, row.crop_y0, row.crop_x1, row.crop_y1]),
                                   stored, atol=0.01)
