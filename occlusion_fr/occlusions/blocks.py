"""Region blocks for the mask generators' image pairs (paper section 4.2).

For every region of a layout, the clean crop and the crop with that region filled by a
block of uniform intensity form a pair. The grey level is drawn per (image, layout, region)
from the run seed. Blocks are cheap to draw, so this stage stores only the table of grey
levels and boxes; ``render_block`` makes the occluded crop when the pair is used.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from occlusion_fr.occlusions.overlay import fill_boxes


def grey_level(seed: int, layout: str, region: str, image: str, low: int, high: int) -> int:
    rng = np.random.default_rng([seed, zlib.crc32(f"{layout}/{region}".encode()), zlib.crc32(image.encode())])
    return int(rng.integers(low, high + 1))


def block_table(split_table: pd.DataFrame, layout: dict, splits, seed: int, grey_range) -> pd.DataFrame:
    """One row per (image of the given splits, region of the layout): grey level and box."""
    rows = []
    chosen = split_table[split_table["split"].isin(list(splits))]
    for image, crop, identity, split in chosen[["image", "crop", "identity", "split"]].itertuples(index=False):
        for region, info in layout["regions"].items():
            grey = grey_level(seed, layout["layout"], region, image, *grey_range)
            rows.append({"image": image, "crop": crop, "identity": identity, "split": split, "region": region,
                         "grey": grey, **dict(zip(("x0", "y0", "x1", "y1"), info["box"]))})
    return pd.DataFrame(rows)


def render_block(crop: np.ndarray, box, grey: int) -> tuple[np.ndarray, np.ndarray]:
    """(occluded crop, exact mask) for one block."""
    overlay = fill_boxes(crop.shape, [box], (grey, grey, grey))
    return overlay.apply(crop), overlay.exact_mask
