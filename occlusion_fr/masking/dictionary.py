"""The mask dictionary (paper section 3.3): one binary feature mask per region.

A region's mean mask m (averaged generator outputs) becomes M = 1 where m > delta, delta the
p-th percentile of m: the lowest p% of elements (the ones the region's occlusion corrupts
most) are discarded, the rest kept. Ties at delta are broken by element order, so exactly
round(p% of the elements) are discarded whatever the values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def binarise(mean_mask: np.ndarray, percentile: float) -> np.ndarray:
    """uint8 mask of ``mean_mask``'s shape: 0 for the lowest ``percentile``% of elements, else 1."""
    if not 0 <= percentile <= 100:
        raise ValueError(f"percentile must be within 0..100, got {percentile}")
    values = np.asarray(mean_mask, dtype=np.float64).ravel()
    discard = int(round(percentile / 100 * values.size))
    binary = np.ones(values.size, dtype=np.uint8)
    binary[np.argsort(values, kind="stable")[:discard]] = 0
    return binary.reshape(np.shape(mean_mask))


def kept_by_position(binary: np.ndarray) -> np.ndarray:
    """Share of channels kept at each spatial position of a (C, H, W) mask (for figures)."""
    return binary.reshape(binary.shape[0], -1).mean(0).reshape(binary.shape[1:])


def channel_tiles(binary: np.ndarray, per_row: int = 32) -> np.ndarray:
    """A (C, H, W) 0/1 mask as one uint8 image: a tile per channel (255 = kept), ``per_row``
    tiles per row, one-pixel gaps."""
    channels, height, width = binary.shape
    tiles = np.zeros((-(-channels // per_row) * (height + 1), per_row * (width + 1)), np.uint8)
    for c in range(channels):
        r, k = divmod(c, per_row)
        tiles[r * (height + 1):r * (height + 1) + height, k * (width + 1):k * (width + 1) + width] = 255 * binary[c]
    return tiles


def load_mask_dictionary(paths) -> dict[str, np.ndarray]:
    """A layout's mask dictionary from its ``{region}.npy`` files."""
    return {Path(path).stem: np.load(path, allow_pickle=False) for path in paths}


def mean_mask_file(folder, region: str) -> Path:
    """A region's mean mask (averaged generator outputs) in its layout's generator folder."""
    return Path(folder) / f"{region}_mean_mask.npy"


def load_mean_masks(folder, regions) -> dict[str, np.ndarray]:
    """A layout's mean masks by region, from its generator folder."""
    return {region: np.load(mean_mask_file(folder, region), allow_pickle=False) for region in regions}
