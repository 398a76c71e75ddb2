"""One occlusion set: every crop of one split under one occlusion, with labels.

For each image it writes, under the set's folder and at the crop's relative path (PNG):
``images/`` the occluded crop, ``labels/`` the segmentation label derived from
|original - occluded| with morphology, ``exact/`` the pixels the renderer covered (not for
real MaskTheFace files, whose exact masks are unknown). The index lists every written image
with the IoU of its raw and cleaned labels against the exact mask; images a renderer cannot
use are listed in the skipped report with the reason.
"""

from __future__ import annotations

import json
import logging
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from occlusion_fr.crop import crop_image, points_to_crop
from occlusion_fr.detect import read_rgb
from occlusion_fr.io import write_csv, write_image
from occlusion_fr.landmarks import landmarks_from_table
from occlusion_fr.occlusions.directory_source import image_stem, match_directory
from occlusion_fr.occlusions.face_mask import render_face_mask
from occlusion_fr.occlusions.geometry import UnusableFace, face_frame
from occlusion_fr.occlusions.labels import derive_label, iou
from occlusion_fr.occlusions.overlay import fill_boxes
from occlusion_fr.occlusions.sunglasses import render_sunglasses
from occlusion_fr.unusable import require_usable

log = logging.getLogger(__name__)
# The config keys each renderer reads; the rest of an occlusion's entry does not concern it.
RENDERER_KEYS = {"band": ("type", "layout", "regions", "intensity"),
                 "face_mask": ("type", "source", "directory", "styles", "turn_threshold_deg"),
                 "sunglasses": ("type",)}
INDEX_COLUMNS = ["image", "identity", "split", "occluded", "label", "exact", "label_fraction", "exact_fraction",
                 "raw_iou", "iou", "details"]


def renderer_spec(spec: dict) -> dict:
    """The part of an occlusion's config entry that its renderer uses (so that a default
    meant for another renderer never changes this one's outputs)."""
    return {key: spec[key] for key in RENDERER_KEYS[spec["type"]] if key in spec}


def image_rng(seed: int, occlusion: str, image: str) -> np.random.Generator:
    """Per-image generator: an image's occlusion does not depend on which others are rendered."""
    return np.random.default_rng([seed, zlib.crc32(occlusion.encode()), zlib.crc32(image.encode())])


def face_box_in_crop(row) -> np.ndarray:
    corners = points_to_crop([[row.box_x0, row.box_y0], [row.box_x1, row.box_y1]],
                             [row.crop_x0, row.crop_y0, row.crop_x1, row.crop_y1])
    return corners.ravel()


class Renderer:
    """Renders one configured occlusion onto crops: (occluded, exact mask or None, details)."""

    def __init__(self, name: str, spec: dict, layouts: dict, seed: int, all_images: pd.Series):
        self.name, self.spec, self.seed = name, spec, seed
        kind = spec["type"]
        if kind == "band":
            layout = layouts.get(spec["layout"])
            if layout is None:
                raise ValueError(f"occlusions.{name}.layout: layout {spec['layout']!r} was not given")
            unknown = [r for r in spec["regions"] if r not in layout["regions"]]
            if unknown or not spec["regions"]:
                raise ValueError(f"occlusions.{name}.regions: {unknown or 'none'} not regions of {spec['layout']}")
            self.boxes = [layout["regions"][r]["box"] for r in spec["regions"]]
        self.files, self.problems = {}, pd.DataFrame(columns=["file", "reason"])
        if kind == "face_mask" and spec["source"] == "directory":
            self.files, self.problems = match_directory(spec["directory"], all_images)

    def __call__(self, row, crop: np.ndarray):
        kind, rng = self.spec["type"], image_rng(self.seed, self.name, row.image)
        if kind == "band":
            value = self.spec["intensity"]
            overlay = fill_boxes(crop.shape, self.boxes, (value, value, value))
            return overlay.apply(crop), overlay.exact_mask, {}
        if kind == "face_mask" and self.spec["source"] == "directory":
            path = self.files.get(image_stem(row.image))
            if path is None:
                raise UnusableFace("no file: no MaskTheFace file for this image")
            try:
                photo = read_rgb(path)
            except (OSError, ValueError) as error:
                raise UnusableFace(f"unreadable: MaskTheFace file {path}: {error}") from error
            occluded = crop_image(photo, [row.crop_x0, row.crop_y0, row.crop_x1, row.crop_y1])
            return occluded, None, {"file": str(path)}
        frame = face_frame(landmarks_from_table(pd.DataFrame([row._asdict()]))[0], face_box_in_crop(row))
        if kind == "face_mask":
            overlay, details = render_face_mask(crop, frame, rng, self.spec["styles"], self.spec["turn_threshold_deg"])
        elif kind == "sunglasses":
            overlay, details = render_sunglasses(crop, frame, rng)
        else:
            raise ValueError(f"occlusions.{self.name}.type: unknown renderer {kind!r}")
        return overlay.apply(crop), overlay.exact_mask, details


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
