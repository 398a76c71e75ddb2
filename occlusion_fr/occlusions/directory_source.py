"""Real MaskTheFace output as the face-mask source.

MaskTheFace writes ``NAME/NAME_000N_<suffix>.jpg`` next to the source photo's name. Files are
matched to our images by the stem ``NAME_000N``; each matched photo is cut with the same crop
box as its source image. Files that are not images, that are named otherwise, that match no
image of the dataset, that cannot be read, or that duplicate another file's stem are
reported, never silently dropped. The folder's file list with content hashes
(:func:`folder_manifest`) is a parameter of the jobs that read it, so any change to the
folder reruns them.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath

import pandas as pd

_STEM = re.compile(r"^(?P<stem>.+?_\d{4})(?:_.*)?$")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


def image_stem(image: str) -> str:
    return PurePosixPath(image).stem


def folder_manifest(directory) -> str:
    """The folder's files (relative path and content hash) as one digest: it changes when a
    file is added, removed or replaced, whatever its size and time stamp (hashing 4,000 JPEGs
    takes well under a second)."""
    directory = Path(directory)
    if not directory.is_dir():
        return f"no folder {directory}"
    digest, count = hashlib.sha256(), 0
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        content = hashlib.sha256(path.read_bytes()).hexdigest()
        digest.update(f"{path.relative_to(directory).as_posix()}\0{content}\n".encode())
        count += 1
    return f"{count} files, {digest.hexdigest()[:16]}"


def match_directory(directory, dataset_images: pd.Series) -> tuple[dict[str, Path], pd.DataFrame]:
    """Map dataset image stems to MaskTheFace files.

    Returns ({stem: file}, problems) where problems lists files with a reason: "not an image"
    (suffix), "wrong name pattern" (not NAME_000N[_suffix]), "unmatched" (no dataset image with
    that stem) or "duplicate" (another file has that stem).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"face-mask directory {directory} (occlusions.<name>.directory) does not exist")
    known = {image_stem(image) for image in dataset_images}
    matched: dict[str, Path] = {}
    problems = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        match = _STEM.match(path.stem)
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            reason = f"not an image: suffix {path.suffix or '(none)'} is not .jpg, .jpeg or .png"
        elif match is None:
            reason = "wrong name pattern: not NAME_000N[_suffix]"
        elif match["stem"] not in known:
            reason = f"unmatched: no dataset image {match['stem']}"
        elif match["stem"] in matched:
            reason = f"duplicate: same stem as {matched[match['stem']]}"
        else:
            matched[match["stem"]] = path
            continue
        problems.append({"file": str(path), "reason": reason})
    return matched, pd.DataFrame(problems, columns=["file", "reason"])
