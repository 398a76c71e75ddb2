"""Region selection (paper section 3.5): a region counts as occluded when more than
``overlap_threshold`` of its pixels are marked occluded (by the segmenter, or by the renderer's
exact mask for the oracle)."""

from __future__ import annotations

import numpy as np

NO_FDM = "none"  # the strategy that discards nothing: no layout, no region selected
Selection = tuple[str, ...]  # the selected regions of one image, in layout order


def region_pixel_masks(layout: dict) -> dict[str, np.ndarray]:
    """Boolean (H, W) mask per region: the pixels whose centres lie inside its box."""
    height, width = layout["crop_height"], layout["crop_width"]
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    masks = {}
    for region, info in layout["regions"].items():
        x0, y0, x1, y1 = info["box"]
        masks[region] = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
        if not masks[region].any():
            raise ValueError(f"layout {layout['layout']}: region {region} holds no pixel centre")
    return masks


def region_overlap(occluded: np.ndarray, region_masks: dict[str, np.ndarray]) -> np.ndarray:
    """(N, R) share of each region's pixels marked occluded in each (H, W) mask of ``occluded``."""
    occluded = np.asarray(occluded, dtype=bool).reshape(len(occluded), -1)
    stacked = np.stack([m.ravel() for m in region_masks.values()], axis=1).astype(np.float32)
    return (occluded.astype(np.float32) @ stacked) / stacked.sum(0)


def occluded_regions(overlap: np.ndarray, regions: list[str], threshold: float) -> list[Selection]:
    """Per image, the regions whose overlap exceeds ``threshold`` (strictly), in layout order."""
    return [tuple(r for r, share in zip(regions, row) if share > threshold) for row in overlap]


def select_regions(occluded: np.ndarray, region_masks: dict[str, np.ndarray], threshold: float) -> list[Selection]:
    """Per (H, W) occlusion mask of ``occluded``, the regions more than ``threshold`` covered."""
    if len(occluded) == 0:
        return []
    return occluded_regions(region_overlap(occluded, region_masks), list(region_masks), threshold)


def group_rows(selected: list[Selection]) -> dict[Selection, np.ndarray]:
    """Rows by their selected regions (one FDM each), in order of first appearance, so that
    every distinct FDM is applied once to all its rows."""
    groups: dict[Selection, list[int]] = {}
    for row, regions in enumerate(selected):
        groups.setdefault(tuple(regions), []).append(row)
    return {regions: np.asarray(rows) for regions, rows in groups.items()}
