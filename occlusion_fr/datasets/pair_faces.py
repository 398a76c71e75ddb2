"""The faces a pairs file needs: named images from the dataset's source, detected and cropped
exactly as the recognition dataset's."""

from __future__ import annotations

import logging

import pandas as pd

from occlusion_fr.datasets.sources import named_images
from occlusion_fr.detect import detect_and_crop
from occlusion_fr.datasets.pairs import read_pairs
from occlusion_fr.io import write_csv
from occlusion_fr.unusable import reason_counts

log = logging.getLogger(__name__)


def prepare_pair_faces(pairs_path, source: str, settings: dict, detector, raw_dir, crops_dir, pairs_csv, faces_csv,
                       failures_csv, margin: float, batch_size: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write the parsed pairs, the crops of every image they name, the faces table and every
    image without a crop with its reason (not provided by the source, unreadable, no face)."""
    pairs = read_pairs(pairs_path)
    names = pd.unique(pd.concat([pairs["image1"], pairs["image2"]]))
    index, missing = named_images(source, settings, names, raw_dir)
    faces, failures = detect_and_crop(index, raw_dir, detector, crops_dir, faces_csv, failures_csv, margin, batch_size)
    missing = pd.DataFrame({"image": list(missing["file"]), "identity": [str(f).split("/")[0] for f in missing["file"]],
                            "reason": list(missing["reason"])}, columns=["image", "identity", "reason"])
    failures = pd.concat([missing, failures], ignore_index=True)
    write_csv(failures_csv, failures)
    write_csv(pairs_csv, pairs)
    log.info("%d pairs name %d images: %d cropped, %d without a crop (%s)", len(pairs), len(names), len(faces),
             len(failures), reason_counts(failures["reason"]) if len(failures) else "none")
    return faces, failures
