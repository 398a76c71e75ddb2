"""A small, fully determined test-time setting for comparing the method's outputs across code
versions: a seeded random base CNN (fp32, batch norms with non-trivial statistics), a two-band
layout with a random mask dictionary, gallery and probe crops of four people, probes with white
bands, and a segmenter that marks white pixels. Nothing here depends on the method's own API."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from occlusion_fr.models.base_cnn import BaseCNN

LAYOUT = {"layout": "bands", "crop_height": 128, "crop_width": 96,
          "regions": {"upper": {"box": [0, 0, 96, 64]}, "lower": {"box": [0, 64, 96, 128]}}}
PEOPLE, PER_PERSON = 4, 3


def base_cnn() -> BaseCNN:
    torch.manual_seed(0)
    model = BaseCNN(classes=PEOPLE, embedding_size=32).eval()
    generator = torch.Generator().manual_seed(1)
    norm = model.embed[0]
    norm.running_mean.copy_(torch.rand(512, generator=generator))
    norm.running_var.copy_(torch.rand(512, generator=generator) + 0.5)
    norm.bias.data.copy_(torch.rand(512, generator=generator))
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


class WhiteSegmenter(nn.Module):
    """Logit > 0 where a pixel is near white in every channel (the bands are white)."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images.amin(dim=1, keepdim=True) - 0.95


def dictionary() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2)
    return {region: (rng.random((512, 8, 6)) > 0.4).astype(np.uint8) for region in LAYOUT["regions"]}


def crops() -> tuple[torch.Tensor, np.ndarray, torch.Tensor, np.ndarray]:
    """(gallery crops, their identities, probe crops, their identities): each person a smooth
    random face, each image it with noise; probes 0-3 clean, 4-7 with the lower half white,
    8-11 with the upper half white."""
    rng = np.random.default_rng(3)
    faces = [np.kron(rng.integers(0, 200, (16, 12, 3)), np.ones((8, 8, 1))) for _ in range(PEOPLE)]

    def image(person):
        noisy = faces[person] + rng.normal(0, 25, faces[person].shape)
        return np.clip(noisy, 0, 200).astype(np.uint8)

    gallery = np.stack([image(p) for p in range(PEOPLE) for _ in range(PER_PERSON)])
    probes = np.stack([image(p % PEOPLE) for p in range(3 * PEOPLE)])
    probes[PEOPLE:2 * PEOPLE, 64:] = 255
    probes[2 * PEOPLE:, :64] = 255
    as_tensor = lambda images: torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()  # noqa: E731
    names = np.array([f"p{p}" for p in range(PEOPLE)])
    return as_tensor(gallery), np.repeat(names, PER_PERSON), as_tensor(probes), names[np.arange(3 * PEOPLE) % PEOPLE]
