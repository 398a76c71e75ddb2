"""Crops in memory as uint8 tensors, and batch augmentation on tensors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from occlusion_fr import CROP_HEIGHT, CROP_WIDTH
from occlusion_fr.io import read_rgb


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
