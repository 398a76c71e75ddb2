"""Occlusion renderers by ``occlusions.<name>.type``: a registry, so that a new occlusion type is
one factory here and its schema block, with no change to the rules or the set-making code.

A factory takes the occlusion's name, its config entry, the region layouts and the images it
may be asked for, and returns a function (row of the faces table, crop, generator) ->
(occluded crop, exact mask or None, details); it raises ``UnusableFace`` for a crop it cannot
occlude. Factories may carry ``problems`` (files found but unusable) for the skipped report.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from occlusion_fr.crop import box_to_crop, crop_image
from occlusion_fr.io import read_rgb
from occlusion_fr.landmarks import landmarks_from_table
from occlusion_fr.occlusions.directory_source import image_stem, match_directory
from occlusion_fr.occlusions.face_mask import render_face_mask
from occlusion_fr.occlusions.geometry import UnusableFace, face_frame
from occlusion_fr.occlusions.overlay import fill_boxes, jpeg_round_trip
from occlusion_fr.occlusions.sunglasses import render_sunglasses


NO_PROBLEMS = pd.DataFrame(columns=["file", "reason"])


def image_rng(seed: int, occlusion: str, image: str) -> np.random.Generator:
    """Per-image generator: an image's occlusion does not depend on which others are rendered."""
    return np.random.default_rng([seed, zlib.crc32(occlusion.encode()), zlib.crc32(image.encode())])


def face_box_in_crop(row) -> np.ndarray:
    return box_to_crop([row.box_x0, row.box_y0, row.box_x1, row.box_y1],
                       [row.crop_x0, row.crop_y0, row.crop_x1, row.crop_y1])


def face_frame_of(row):
    return face_frame(landmarks_from_table(pd.DataFrame([row._asdict()]))[0], face_box_in_crop(row))


def band(name: str, spec: dict, layouts: dict, all_images: pd.Series):
    """A uniform fill of regions of a layout."""
    layout = layouts.get(spec["layout"])
    if layout is None:
        raise ValueError(f"occlusions.{name}.layout: layout {spec['layout']!r} was not given")
    unknown = [r for r in spec["regions"] if r not in layout["regions"]]
    if unknown or not spec["regions"]:
        raise ValueError(f"occlusions.{name}.regions: {unknown or 'none'} not regions of {spec['layout']}")
    boxes = [layout["regions"][r]["box"] for r in spec["regions"]]
    value = spec["intensity"]

    def render(row, crop, rng):
        overlay = fill_boxes(crop.shape, boxes, (value, value, value))
        return overlay.apply(crop), overlay.exact_mask, {}

    return render


def face_mask(name: str, spec: dict, layouts: dict, all_images: pd.Series):
    """MaskTheFace-style masks drawn on the landmarks, or real MaskTheFace output from a folder."""
    if spec["source"] == "directory":
        files, problems = match_directory(spec["directory"], all_images)

        def from_directory(row, crop, rng):
            path = files.get(image_stem(row.image))
            if path is None:
                raise UnusableFace("no file: no MaskTheFace file for this image")
            try:
                photo = read_rgb(path)
            except (OSError, ValueError) as error:
                raise UnusableFace(f"unreadable: MaskTheFace file {path}: {error}") from error
            return crop_image(photo, [row.crop_x0, row.crop_y0, row.crop_x1, row.crop_y1]), None, {"file": str(path)}

        from_directory.problems = problems
        return from_directory

    def procedural(row, crop, rng):
        overlay, details = render_face_mask(crop, face_frame_of(row), rng, spec["styles"], spec["turn_threshold_deg"])
        masked = overlay.apply(crop)
        if spec.get("jpeg_quality") is not None:
            masked = jpeg_round_trip(masked, spec["jpeg_quality"])
        return masked, overlay.exact_mask, details

    return procedural


def sunglasses(name: str, spec: dict, layouts: dict, all_images: pd.Series):
    def render(row, crop, rng):
        overlay, details = render_sunglasses(crop, face_frame_of(row), rng)
        return overlay.apply(crop), overlay.exact_mask, details

    return render


def random_block(name: str, spec: dict, layouts: dict, all_images: pd.Series):
    """A box of uniform grey at a random place, its height, width and grey drawn per image from
    the configured ranges (fractions of the crop; a full width is a band): an occluder of no
    fixed geometry, for training the base CNN and the segmenter on blocks the tests never place."""
    ranges = {key: spec[key] for key in ("height", "width", "grey")}  # [low, high] (config.py checks the order)

    def render(row, crop, rng):
        h, w = crop.shape[:2]
        box_h, box_w = rng.uniform(*ranges["height"]) * h, rng.uniform(*ranges["width"]) * w
        x0, y0 = rng.uniform(0, w - box_w), rng.uniform(0, h - box_h)
        grey = int(rng.integers(ranges["grey"][0], ranges["grey"][1] + 1))
        overlay = fill_boxes(crop.shape, [(x0, y0, x0 + box_w, y0 + box_h)], (grey, grey, grey))
        return overlay.apply(crop), overlay.exact_mask, {"box": [round(v, 2) for v in (x0, y0, x0 + box_w,
                                                                                     y0 + box_h)], "grey": grey}

    return render


@dataclass(frozen=True)
class RendererType:
    make: Callable
    keys: tuple[str, ...]  # the config keys it reads: a default meant for another type never reruns it


RENDERERS = {"band": RendererType(band, ("type", "layout", "regions", "intensity")),
             "face_mask": RendererType(face_mask, ("type", "source", "directory", "styles", "turn_threshold_deg",
                                                   "jpeg_quality")),
             "sunglasses": RendererType(sunglasses, ("type",)),
             "random_block": RendererType(random_block, ("type", "height", "width", "grey"))}


def renderer_type(name: str, spec: dict) -> RendererType:
    if spec["type"] not in RENDERERS:
        raise ValueError(f"occlusions.{name}.type: unknown renderer {spec['type']!r} (known: {', '.join(RENDERERS)})")
    return RENDERERS[spec["type"]]


def renderer_spec(spec: dict) -> dict:
    """The part of an occlusion's config entry that its renderer uses (so that a default
    meant for another renderer never changes this one's outputs)."""
    return {key: spec[key] for key in renderer_type("?", spec).keys if key in spec}


class Renderer:
    """Renders one configured occlusion onto crops: (occluded, exact mask or None, details),
    with the per-image generator of ``image_rng``."""

    def __init__(self, name: str, spec: dict, layouts: dict, seed: int, all_images: pd.Series):
        self.name, self.spec, self.seed = name, spec, seed
        self.render = renderer_type(name, spec).make(name, spec, layouts, all_images)
        self.problems = getattr(self.render, "problems", NO_PROBLEMS)

    def __call__(self, row, crop: np.ndarray, draw: int = 0):
        """``draw`` > 0 gives further independent renders of the same image (training variety)."""
        stream = self.name if draw == 0 else f"{self.name}#{draw}"
        return self.render(row, crop, image_rng(self.seed, stream, row.image))
