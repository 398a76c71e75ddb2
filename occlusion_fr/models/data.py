"""Crops in memory as uint8 tensors, occluded copies of them, and batch augmentation on tensors."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from occlusion_fr import CROP_HEIGHT, CROP_WIDTH
from occlusion_fr.io import read_rgb
from occlusion_fr.occlusions.geometry import UnusableFace
from occlusion_fr.occlusions.renderers import Renderer

log = logging.getLogger(__name__)


def load_images(folder, names, desc: str = "load") -> torch.Tensor:
    """(N, 3, H, W) uint8 tensor of the images ``folder / name``."""
    folder = Path(folder)
    images = [read_rgb(folder / name) for name in tqdm(list(names), desc=desc, unit="img")]
    if not images:
        return torch.zeros(0, 3, CROP_HEIGHT, CROP_WIDTH, dtype=torch.uint8)
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()


def load_masks(folder, names, desc: str = "load masks") -> torch.Tensor:
    """(N, 1, H, W) float tensor of 0/1 masks stored as 0/255 PNGs."""
    folder = Path(folder)
    masks = [read_rgb(folder / name)[..., 0] > 127 for name in tqdm(list(names), desc=desc, unit="img")]
    return torch.from_numpy(np.stack(masks)[:, None].astype(np.float32))


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8 0..255 -> float -1..1."""
    return images.float().div_(127.5).sub_(1.0)


def augment(images: torch.Tensor, generator: torch.Generator, max_shift: int = 6,
            jitter: float = 0.2) -> torch.Tensor:
    """Random horizontal flip, shift (replicated border) and brightness/contrast/saturation
    jitter of a float batch in -1..1."""
    n, _, h, w = images.shape
    on = images.device  # the draws come from the CPU generator, so every device sees the same ones
    flip = (torch.rand(n, generator=generator) < 0.5).to(on)
    images = torch.where(flip[:, None, None, None], images.flip(3), images)
    padded = torch.nn.functional.pad(images, (max_shift,) * 4, mode="replicate")
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    images = torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
    factors = (1 + (torch.rand(n, 3, generator=generator) * 2 - 1) * jitter).to(on)
    brightness, contrast, saturation = (factors[:, i, None, None, None] for i in range(3))
    images = (images + 1) * brightness - 1
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    images = (images - mean) * contrast + mean
    grey = images.mean(dim=1, keepdim=True)
    images = (images - grey) * saturation + grey
    return images.clamp_(-1, 1)


def render_crops(rows: pd.DataFrame, crops: torch.Tensor, renderer: Renderer, draw: int = 0
                 ) -> tuple[torch.Tensor, np.ndarray | None, np.ndarray]:
    """(occluded crops of the rows the renderer could use, their exact masks as boolean (N, H, W)
    or None where the renderer knows none, which rows those are); ``crops`` (N, 3, H, W) uint8;
    ``draw`` as in ``Renderer.__call__``."""
    occluded, exact, usable = [], [], np.zeros(len(rows), dtype=bool)
    for position, row in enumerate(rows.itertuples(index=False)):
        try:
            image, mask, _ = renderer(row, np.ascontiguousarray(crops[position].permute(1, 2, 0).numpy()), draw)
        except UnusableFace as reason:
            log.debug("%s: %s not occluded: %s", renderer.name, row.image, reason)
            continue
        occluded.append(torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1))
        exact.append(None if mask is None else np.asarray(mask) > 0)
        usable[position] = True
    stacked = torch.stack(occluded) if occluded else torch.zeros(0, *crops.shape[1:], dtype=torch.uint8)
    known = exact and all(m is not None for m in exact)
    return stacked, np.stack(exact) if known else None, usable
