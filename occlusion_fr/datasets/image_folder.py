"""A user's own photos: ``root/<identity>/<image>.jpg|png``, or a manifest CSV ``image,identity``
(image paths relative to ``root``).

Every file is looked at and either kept or listed with its reason; nothing is dropped silently
and one bad file never stops the run: not an image (suffix), empty file, unreadable (does not
decode), duplicate (the same content as an earlier file, by sha256), wrong layout (not inside
an ``<identity>/`` folder), no file (a manifest row whose file is missing), too few images (a
person with fewer than ``min_images`` usable ones). Kept images are copied to
``out_dir/<identity>/<name>`` so that a run never depends on the folder changing under it.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
from PIL import Image, UnidentifiedImageError

from occlusion_fr.io import atomic_path, write_csv
from occlusion_fr.unusable import reason_counts, require_usable

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
SKIPPED_COLUMNS = ["file", "identity", "reason"]


def folder_candidates(root, manifest=None) -> tuple[pd.DataFrame, list[dict]]:
    """(file, identity) of every candidate, from the manifest or the folder tree; files outside
    the layout as skipped rows."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"datasets.*.root: no folder {root}")
    skipped = []
    if manifest:
        table = pd.read_csv(manifest, dtype=str, keep_default_na=False)
        missing_columns = {"image", "identity"} - set(table.columns)
        if missing_columns:
            raise ValueError(f"{manifest}: a manifest needs columns image,identity (missing {sorted(missing_columns)})")
        rows = []
        for line, row in enumerate(table.itertuples(index=False), start=2):
            if not row.identity.strip() or not row.image.strip():
                skipped.append({"file": f"{manifest}:{line}", "identity": row.identity,
                                "reason": "wrong layout: empty image or identity in the manifest"})
            elif not (root / row.image).is_file():
                skipped.append({"file": row.image, "identity": row.identity, "reason": f"no file: not in {root}"})
            else:
                rows.append({"file": row.image, "identity": row.identity.strip()})
        return pd.DataFrame(rows, columns=["file", "identity"]), skipped
    rows = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue  # hidden files and folders (.DS_Store, .git) are not photos
        if len(relative.parts) != 2:
            skipped.append({"file": str(relative), "identity": "",
                            "reason": "wrong layout: not <identity>/<image> under the root"})
            continue
        rows.append({"file": str(relative), "identity": relative.parts[0]})
    return pd.DataFrame(rows, columns=["file", "identity"]), skipped


def check_image(path: Path) -> str | None:
    """Why ``path`` cannot be used, or None."""
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return f"not an image: suffix {path.suffix or '(none)'} (expected {', '.join(IMAGE_SUFFIXES)})"
    if path.stat().st_size == 0:
        return "empty file: 0 bytes"
    try:
        with Image.open(path) as image:
            image.load()
    except (UnidentifiedImageError, OSError, ValueError) as error:
        return f"unreadable: {type(error).__name__}: {error}"
    return None


def prepare_image_folder(root, manifest, out_dir, index_csv, skipped_csv, min_images: int) -> pd.DataFrame:
    """Copy the usable images into ``out_dir`` and write the raw index (image, identity) and
    the skipped files with their reasons."""
    root, out_dir = Path(root), Path(out_dir)
    candidates, skipped = folder_candidates(root, manifest)
    usable, seen, stems = [], {}, {}
    for row in candidates.itertuples(index=False):
        path = root / row.file
        reason = check_image(path)
        # Crops are PNG files named after the image without its suffix: a.jpg and a.png of one
        # person would share one crop.
        stem = f"{row.identity}/{Path(row.file).stem}".lower()
        if reason is None:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest in seen:
                reason = f"duplicate: same content as {seen[digest]}"
            elif stem in stems:
                reason = f"duplicate name: same name without suffix as {stems[stem]} (rename one)"
            else:
                seen[digest], stems[stem] = row.file, row.file
        if reason:
            skipped.append({"file": row.file, "identity": row.identity, "reason": reason})
        else:
            usable.append(row)
    counts = Counter(row.identity for row in usable)
    rows = []
    for row in usable:
        if counts[row.identity] < min_images:
            skipped.append({"file": row.file, "identity": row.identity, "reason":
                            f"too few images: {row.identity} has {counts[row.identity]} usable (min_images {min_images})"})
            continue
        image = f"{row.identity}/{Path(row.file).name}"
        with atomic_path(out_dir / image) as tmp:
            shutil.copyfile(root / row.file, tmp)
        rows.append({"image": image, "identity": row.identity, "source": row.file})
    skipped_df = pd.DataFrame(skipped, columns=SKIPPED_COLUMNS)
    index = pd.DataFrame(rows, columns=["image", "identity", "source"])
    collisions = index["image"].duplicated(keep=False)
    if collisions.any():  # two source files of one person with the same name (only with a manifest)
        raise ValueError(f"{manifest}: several images of one identity share a file name: "
                         f"{index.loc[collisions, 'source'].tolist()[:5]}")
    require_usable(len(index), skipped_df, f"image folder {root}",
                   f"<identity>/<image> files ({', '.join(IMAGE_SUFFIXES)}), at least min_images per person")
    write_csv(index_csv, index.sort_values("image", ignore_index=True))
    write_csv(skipped_csv, skipped_df)
    log.info("%d images of %d people kept from %s; %d files skipped (%s)", len(index), index["identity"].nunique(),
             root, len(skipped_df), reason_counts(skipped_df["reason"]) if len(skipped_df) else "none")
    return index

