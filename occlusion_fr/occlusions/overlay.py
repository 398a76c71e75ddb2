"""The overlay a renderer produces, and compositing it onto a crop."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SUPERSAMPLE = 4  # renderers draw at 4x and average down, so edges get fractional coverage


@dataclass
class Overlay:
    rgb: np.ndarray  # (H, W, 3) float in 0..255
    alpha: np.ndarray  # (H, W) float in 0..1

    def apply(self, crop: np.ndarray) -> np.ndarray:
        a = self.alpha[..., None]
        return np.clip(crop.astype(np.float32) * (1 - a) + self.rgb * a + 0.5, 0, 255).astype(np.uint8)

    @property
    def exact_mask(self) -> np.ndarray:
        """Pixels the occluder covers at least half of."""
        return self.alpha >= 0.5


def downsample(canvas: np.ndarray, factor: int = SUPERSAMPLE) -> np.ndarray:
    h, w = canvas.shape[:2]
    return cv2.resize(canvas, (w // factor, h // factor), interpolation=cv2.INTER_AREA)


def fill_boxes(shape, boxes, colour) -> Overlay:
    """Solid boxes (bands and blocks): cover exactly the pixels whose centres lie inside them."""
    h, w = shape[:2]
    alpha = np.zeros((h, w), np.float32)
    for box in boxes:
        x0, y0, x1, y1 = box_pixels(box, h, w)
        alpha[y0:y1, x0:x1] = 1.0
    rgb = np.empty((h, w, 3), np.float32)
    rgb[...] = np.asarray(colour, np.float32)
    return Overlay(rgb, alpha)


def box_pixels(box, height: int, width: int) -> tuple[int, int, int, int]:
    """Pixel index ranges [x0, x1) x [y0, y1) whose centres (i + 0.5) lie inside a box."""
    x0, y0, x1, y1 = box

    def first(v, n):  # smallest i with i + 0.5 >= v
        return int(np.clip(np.ceil(v - 0.5), 0, n))

    return first(x0, width), first(y0, height), first(x1, width), first(y1, height)


def jpeg_round_trip(rgb: np.ndarray, quality: int) -> np.ndarray:
    """An RGB uint8 image encoded as JPEG at ``quality`` and decoded again (compression noise
    as in a tool's JPEG output)."""
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
