"""One occlusion set: every crop of one split under one occlusion, with labels.

For each image it writes, under the set's folder and at the crop's relative path (PNG):
``images/`` the occluded crop, ``labels/`` the segmentation label derived from
|original - occluded| with morphology, ``exact/`` the pixels the renderer covered (not for
real MaskTheFace files, whose exact masks are unknown). The index lists every written image
with the IoU of its raw and cleaned labels against the exact mask; images a renderer cannot
use are listed in the skipped report with the reason. ``load_image_set`` reads a set back, or
a split's clean crops, for the jobs that embed or segment them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from occlusion_fr.io import read_rgb, write_csv, write_image
from occlusion_fr.models.data import load_images, load_masks
from occlusion_fr.occlusions.geometry import UnusableFace
from occlusion_fr.occlusions.labels import derive_label, iou
from occlusion_fr.occlusions.renderers import Renderer
from occlusion_fr.unusable import require_usable

log = logging.getLogger(__name__)
INDEX_COLUMNS = ["image", "identity", "split", "occluded", "label", "exact", "label_fraction", "exact_fraction",
                 "raw_iou", "iou", "details"]


def expected_images(name: str, spec: dict, split: str) -> str:
    """What an occlusion set needs, for the error when none of its images could be made."""
    if spec["type"] == "face_mask" and spec.get("source") == "directory":
        return (f"MaskTheFace output in {spec['directory']} (occlusions.{name}.directory): files "
                f"NAME/NAME_000N_<suffix>.jpg or .png whose stem NAME_000N is an image of the {split} split. "
                f"A folder made for some splits only (e.g. test) serves an occlusion listed under those splits "
                f"of occlusion_sets alone: use another occlusion (source: procedural) for occlusion_sets.{split}")
    return "crops whose five landmarks lie inside the crop, with the nose below the eyes"


def make_occlusion_set(split_table: pd.DataFrame, split: str, name: str, spec: dict, layouts: dict, seed: int,
                       crops_dir, out_dir, index_csv, skipped_csv, threshold: float, opening: int, closing: int):
    """Render occlusion ``name`` on every crop of ``split``; returns (index, skipped)."""
    crops_dir, out_dir = Path(crops_dir), Path(out_dir)
    renderer = Renderer(name, spec, layouts, seed, split_table["image"])
    rows, skipped = [], [{"image": p.file, "identity": "", "reason": p.reason} for p in renderer.problems.itertuples()]
    chosen = split_table[split_table["split"] == split]
    for row in tqdm(list(chosen.itertuples(index=False)), desc=f"{split}/{name}", unit="img"):
        crop = read_rgb(crops_dir / row.crop)
        try:
            occluded, exact, details = renderer(row, crop)
        except UnusableFace as reason:
            skipped.append({"image": row.image, "identity": row.identity, "reason": str(reason)})
            continue
        raw, label = derive_label(crop, occluded, threshold, opening, closing)
        write_image(out_dir / "images" / row.crop, occluded)
        write_image(out_dir / "labels" / row.crop, label.astype(np.uint8) * 255)
        if exact is not None:
            write_image(out_dir / "exact" / row.crop, exact.astype(np.uint8) * 255)
        rows.append({"image": row.image, "identity": row.identity, "split": split, "occluded": row.crop,
                     "label": row.crop, "exact": row.crop if exact is not None else "",
                     "label_fraction": float(label.mean()),
                     "exact_fraction": float(exact.mean()) if exact is not None else np.nan,
                     "raw_iou": iou(raw, exact) if exact is not None else np.nan,
                     "iou": iou(label, exact) if exact is not None else np.nan,
                     "details": json.dumps(details, sort_keys=True)})
    index = pd.DataFrame(rows, columns=INDEX_COLUMNS)
    skipped_df = pd.DataFrame(skipped, columns=["image", "identity", "reason"])
    require_usable(len(index), skipped_df, f"occlusion set {split}/{name}", expected_images(name, spec, split))
    write_csv(index_csv, index)
    write_csv(skipped_csv, skipped_df)
    log.info("%s/%s: %d of %d images occluded, %d skipped; label IoU %.3f (raw %.3f)", split, name, len(index),
             len(chosen), len(skipped_df), index["iou"].mean(), index["raw_iou"].mean())
    return index, skipped_df


CLEAN = "clean"


@dataclass
class ImageSet:
    images: np.ndarray  # source image names (the join key across files)
    identities: np.ndarray
    pixels: torch.Tensor  # (N, 3, H, W) uint8
    exact: torch.Tensor | None  # (N, 1, H, W) 0/1 renderer masks; zeros for clean; None if unknown


def load_image_set(split_table: pd.DataFrame, split: str, name: str, sets_dir, crops_dir) -> ImageSet:
    """Clean crops of ``split`` (``name`` = "clean") or the occlusion set ``name`` of ``split``."""
    if name == CLEAN:
        rows = split_table[split_table["split"] == split]
        pixels = load_images(crops_dir, rows["crop"], desc=f"{split}/clean")
        exact = torch.zeros(len(rows), 1, *pixels.shape[2:])
        return ImageSet(rows["image"].to_numpy(), rows["identity"].to_numpy(), pixels, exact)
    folder = Path(sets_dir) / split / name
    index = pd.read_csv(Path(sets_dir) / split / f"{name}.csv", keep_default_na=False)
    pixels = load_images(folder / "images", index["occluded"], desc=f"{split}/{name}")
    if len(index) == 0:
        exact = torch.zeros(0, 1, *pixels.shape[2:])
    else:
        exact = load_masks(folder / "exact", index["exact"]) if index["exact"].astype(bool).all() else None
    return ImageSet(index["image"].to_numpy(), index["identity"].to_numpy(), pixels, exact)
