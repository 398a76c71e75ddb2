"""Segmentation labels from |original - occluded| (paper section 4.1, Fig. 5) and their IoU."""

from __future__ import annotations

import cv2
import numpy as np


def difference_mask(original: np.ndarray, occluded: np.ndarray, threshold: float) -> np.ndarray:
    """Pixels whose largest per-channel absolute difference exceeds ``threshold``."""
    diff = np.abs(original.astype(np.int16) - occluded.astype(np.int16))
    return diff.max(axis=-1) > threshold if diff.ndim == 3 else diff > threshold


def clean_mask(mask: np.ndarray, opening: int, closing: int) -> np.ndarray:
    """Morphological opening (drops isolated pixels) then closing (fills small holes),
    with elliptical kernels of the given diameters (0 = skip)."""
    out = mask.astype(np.uint8)
    if opening > 0:
        out = cv2.morphologyEx(out, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (opening, opening)))
    if closing > 0:
        out = cv2.morphologyEx(out, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (closing, closing)))
    return out.astype(bool)


def derive_label(original, occluded, threshold: float, opening: int, closing: int):
    """(raw difference mask, cleaned label)."""
    raw = difference_mask(original, occluded, threshold)
    return raw, clean_mask(raw, opening, closing)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boolean masks; 1.0 when both are empty."""
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0
