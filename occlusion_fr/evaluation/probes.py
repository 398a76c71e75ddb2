"""Image sets the evaluation reads: clean crops of a split, or an occlusion set of a split."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from occlusion_fr.models.data import load_images, load_masks

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
