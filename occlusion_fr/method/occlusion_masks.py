"""Per-probe occlusion masks for the FDM: the segmenter's prediction and the renderer's exact
mask (the oracle), stored bit-packed per probe set."""

from __future__ import annotations

import numpy as np

from occlusion_fr.io import atomic_path

DETECTORS = ("segmenter", "oracle")


def save_occlusion_masks(path, names, masks: dict[str, np.ndarray | None]) -> None:
    """``masks``: detector -> boolean (N, H, W), or None where the detector has no answer
    (no exact masks for real MaskTheFace images)."""
    arrays = {"names": np.asarray(list(names), dtype=str)}
    for detector, mask in masks.items():
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            arrays[detector] = np.packbits(mask.reshape(len(mask), -1), axis=1)
            arrays["shape"] = np.asarray(mask.shape[1:])
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)


def load_occlusion_masks(path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(names, detector -> boolean (N, H, W)) for the detectors stored."""
    with np.load(path, allow_pickle=False) as data:
        names = data["names"]
        masks = {}
        for detector in DETECTORS:
            if detector in data:
                height, width = data["shape"]
                bits = np.unpackbits(data[detector], axis=1, count=height * width)
                masks[detector] = bits.reshape(len(names), height, width).astype(bool)
    return names, masks
