"""Real MaskTheFace output as the face-mask source.

MaskTheFace writes ``NAME/NAME_000N_<suffix>.jpg`` next to the source photo's name. Files are
matched to our images by the stem ``NAME_000N``; each matched photo is cut with the same crop
box as its source image. Files that match no image of the dataset, that cannot be read, or
that duplicate another file's stem are reported, never silently dropped.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pandas as pd

_STEM = re.compile(r"^(?P<stem>.+?_\d{4})(?:_.*)?$")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


def image_stem(image: str) -> str:
    return PurePosixPath(image).stem


def match_directory(directory, dataset_images: pd.Series) -> tuple[dict[str, Path], pd.DataFrame]:
    """Map dataset image stems to MaskTheFace files.

    Returns ({stem: file}, problems) where problems lists files with reason "unmatched"
    (no dataset image with that stem, or not named NAME_000N[_suffix]) or "duplicate of FILE".
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"face-mask directory {directory} (occlusions.face_mask.directory) does not exist")
    known = {image_stem(image) for image in dataset_images}
    matched: dict[str, Path] = {}
    problems = []
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    for path in files:
        match = _STEM.match(path.stem)
        stem = match["stem"] if match else None
        if stem not in known:
            problems.append({"file": str(path), "reason": "unmatched: no dataset image with this stem"})
        elif stem in matched:
            problems.append({"file": str(path), "reason": f"duplicate of {matched[stem]}"})
        else:
            matched[stem] = path
    return matched, pd.DataFrame(problems, columns=["file", "reason"])
