"""Face detection and alignment into 128x96 crops with landmarks in crop coordinates.

Two detectors share one interface (a batch of RGB images in, one ``Detection`` or ``None``
per image out): ``MTCNNDetector`` (facenet-pytorch; its weights ship in the package) for
real photos, and ``GroundTruthDetector`` for datasets that carry their own boxes and
landmarks (the synthetic faces). Everything after detection is the same code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import UnidentifiedImageError
from tqdm import tqdm

from occlusion_fr import CROP_HEIGHT, CROP_WIDTH
from occlusion_fr.crop import CropGeometry, crop_image, points_to_crop
from occlusion_fr.io import read_rgb, write_csv, write_image
from occlusion_fr.landmarks import BOX_COLUMNS, landmarks_from_table, landmarks_to_columns
from occlusion_fr.unusable import reason_counts, require_usable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Detection:
    box: np.ndarray  # x0, y0, x1, y1 in image pixels
    landmarks: np.ndarray  # (5, 2) in image pixels, MTCNN order
    score: float


def nearest_to_centre(boxes: np.ndarray, image_shape) -> int:
    """Index of the box whose centre is nearest the image centre (LFW's subject is centred)."""
    centre = np.array([image_shape[1] / 2, image_shape[0] / 2])
    box_centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1)
    return int(np.argmin(np.linalg.norm(box_centres - centre, axis=1)))


class MTCNNDetector:
    """facenet-pytorch MTCNN, batched over images of equal size."""

    def __init__(self, min_face_size: int = 20, thresholds=(0.6, 0.7, 0.7), device: str | None = None):
        import torch
        from facenet_pytorch import MTCNN

        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.mtcnn = MTCNN(keep_all=True, min_face_size=min_face_size, thresholds=list(thresholds), device=device)

    def __call__(self, images: list[np.ndarray], rows: pd.DataFrame | None = None) -> list[Detection | None]:
        results: list[Detection | None] = [None] * len(images)
        by_shape: dict[tuple, list[int]] = {}
        for i, image in enumerate(images):
            by_shape.setdefault(image.shape, []).append(i)
        for indices in by_shape.values():
            batch = np.stack([images[i] for i in indices])
            boxes, probs, points = self.mtcnn.detect(batch, landmarks=True)
            for i, b, p, pts in zip(indices, boxes, probs, points):
                if b is None or len(b) == 0:
                    continue
                b = np.asarray(b, dtype=float)
                k = nearest_to_centre(b, images[i].shape)
                results[i] = Detection(b[k], np.asarray(pts[k], dtype=float), float(p[k]))
        return results


class GroundTruthDetector:
    """Reads the box and landmarks that a dataset's index already carries."""

    def __call__(self, images: list[np.ndarray], rows: pd.DataFrame) -> list[Detection | None]:
        boxes = rows[list(BOX_COLUMNS)].to_numpy(dtype=float)
        points = landmarks_from_table(rows)
        return [Detection(boxes[i], points[i], 1.0) for i in range(len(rows))]


def make_detector(name: str, **options):
    if name == "mtcnn":
        return MTCNNDetector(**options)
    if name == "groundtruth":
        return GroundTruthDetector()
    raise ValueError(f"unknown detector {name!r} (datasets.<name>.detector must be 'mtcnn' or 'groundtruth')")


def detect_and_crop(index: pd.DataFrame, image_dir, detector, out_dir, faces_csv, failures_csv,
                    geometry: CropGeometry, batch_size: int = 32, min_images: int | None = None
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Detect, crop and write every indexed image; list every image that could not be used.

    Returns (faces, failures). ``faces`` has image, identity, the detection score, the face
    box and the crop's corners (placed by ``geometry``) in source pixels, and the five
    landmarks in crop pixels. ``failures`` has image, identity and reason (unreadable file, no
    face). Crops are PNG (lossless) at ``out_dir / image`` with the suffix changed. With ``min_images``, people left with fewer
    faces than that are moved to the failures (see ``usable_people``).
    """
    image_dir, out_dir = Path(image_dir), Path(out_dir)
    faces, failures = [], []
    for start in tqdm(range(0, len(index), batch_size), desc="detect+crop", unit="batch"):
        rows = index.iloc[start:start + batch_size]
        readable, images = [], []
        for pos, row in enumerate(rows.itertuples(index=False)):
            try:
                images.append(read_rgb(image_dir / row.image))
                readable.append(pos)
            except (OSError, UnidentifiedImageError, ValueError) as error:
                failures.append({"image": row.image, "identity": row.identity,
                                 "reason": f"unreadable: {type(error).__name__}: {error}"})
        detections = detector(images, rows.iloc[readable]) if images else []
        for pos, image, detection in zip(readable, images, detections):
            row = rows.iloc[pos]
            if detection is None:
                failures.append({"image": row["image"], "identity": row["identity"], "reason": "no face detected"})
                continue
            source = geometry.corners(detection.box, detection.landmarks)
            crop_rel = str(Path(row["image"]).with_suffix(".png"))
            write_image(out_dir / crop_rel, crop_image(image, source))
            faces.append({
                "image": row["image"], "crop": crop_rel, "identity": row["identity"], "score": detection.score,
                **dict(zip(BOX_COLUMNS, detection.box.tolist())),
                **{f"crop_{c}": v for c, v in zip(("x0", "y0", "x1", "y1"), source.tolist())},
                **landmarks_to_columns(points_to_crop(detection.landmarks, source)),
            })
    faces_df = pd.DataFrame(faces)
    failures_df = pd.DataFrame(failures, columns=["image", "identity", "reason"])
    if min_images is not None and len(faces_df):
        faces_df, failures_df = usable_people(faces_df, failures_df, min_images)
    require_usable(len(faces_df), failures_df, f"face detection in {image_dir}",
                   "readable images (JPEG or PNG) each showing a face the detector finds")
    write_csv(faces_csv, faces_df)
    write_csv(failures_csv, failures_df)
    log.info("%d of %d images cropped to %dx%d; %d failed (%s)", len(faces_df), len(index), CROP_HEIGHT,
             CROP_WIDTH, len(failures_df), reason_counts(failures_df["reason"]))
    return faces_df, failures_df


def usable_people(faces: pd.DataFrame, failures: pd.DataFrame, min_images: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """After detection: people whose cropped faces still reach ``min_images``, and the faces of
    the others added to the failures ("too few images")."""
    counts = faces["identity"].value_counts()
    short = faces["identity"].map(counts) < min_images
    dropped = faces.loc[short, ["image", "identity"]].assign(reason=[
        f"too few images: {identity} has {counts[identity]} with a face (min_images {min_images})"
        for identity in faces.loc[short, "identity"]])
    return faces[~short].reset_index(drop=True), pd.concat([failures, dropped], ignore_index=True)
