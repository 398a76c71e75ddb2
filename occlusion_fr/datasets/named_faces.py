"""Faces of named images outside the recognition dataset, detected and cropped exactly as its
own: the images a pairs file names, and the people outside the dataset (the open-set protocol).
Every named image without a crop is listed with its reason (not provided by the source,
unreadable, no face)."""

from __future__ import annotations

import logging

import pandas as pd

from occlusion_fr.crop import CropGeometry
from occlusion_fr.datasets.outsiders import outsider_images
from occlusion_fr.datasets.pairs import read_pairs
from occlusion_fr.datasets.sources import named_images
from occlusion_fr.detect import detect_and_crop
from occlusion_fr.io import write_csv
from occlusion_fr.unusable import reason_counts

log = logging.getLogger(__name__)


def detect_named_faces(names, source: str, settings: dict, detector, raw_dir, crops_dir, faces_csv, failures_csv,
                       geometry: CropGeometry, batch_size: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write the crops of the images ``names``, the faces table and the failures table."""
    index, missing = named_images(source, settings, names, raw_dir)
    faces, failures = detect_and_crop(index, raw_dir, detector, crops_dir, faces_csv, failures_csv, geometry, batch_size)
    missing = pd.DataFrame({"image": list(missing["file"]), "identity": [str(f).split("/")[0] for f in missing["file"]],
                            "reason": list(missing["reason"])}, columns=["image", "identity", "reason"])
    failures = pd.concat([missing, failures], ignore_index=True)
    write_csv(failures_csv, failures)
    log.info("%d named images: %d cropped, %d without a crop (%s)", len(pd.unique(pd.Series(names))), len(faces),
             len(failures), reason_counts(failures["reason"]) if len(failures) else "none")
    return faces, failures


def prepare_pair_faces(pairs_path, pairs_csv, source: str, settings: dict, detector, raw_dir, crops_dir, faces_csv,
                       failures_csv, geometry: CropGeometry, batch_size: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The parsed pairs and the faces of every image they name."""
    pairs = read_pairs(pairs_path)
    write_csv(pairs_csv, pairs)
    log.info("%d pairs", len(pairs))
    return detect_named_faces(pd.unique(pd.concat([pairs["image1"], pairs["image2"]])), source, settings, detector,
                              raw_dir, crops_dir, faces_csv, failures_csv, geometry, batch_size)


def prepare_outsider_faces(people_csv, source: str, settings: dict, outsider_settings: dict, detector, raw_dir,
                           crops_dir, faces_csv, failures_csv, geometry: CropGeometry,
                           batch_size: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every image of the people outside the dataset (``people_csv``: image, identity) and their faces."""
    people = outsider_images(source, outsider_settings)
    write_csv(people_csv, people)
    log.info("%d people outside the dataset, %d images", people["identity"].nunique(), len(people))
    return detect_named_faces(people["image"], source, settings, detector, raw_dir, crops_dir, faces_csv, failures_csv,
                              geometry, batch_size)
