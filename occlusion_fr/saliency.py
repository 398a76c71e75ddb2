"""Saliency maps (paper Figs. 2, 8, 9): |d top class score / d input pixel|, without and with
a feature discarding mask (applied as the method applies it), to show where the base CNN looks."""

from __future__ import annotations

import numpy as np
import torch

from occlusion_fr.method.embedding import BEFORE_BN, masked_embedding
from occlusion_fr.models.base_cnn import BaseCNN
from occlusion_fr.models.data import normalise


def saliency_maps(model: BaseCNN, images: torch.Tensor, mask: torch.Tensor | None = None,
                  position: str = BEFORE_BN) -> np.ndarray:
    """(N, H, W) saliency of uint8 images, each scaled to 0..1 (float32, no autocast: gradients
    of small magnitude survive)."""
    model.eval()
    device = next(model.parameters()).device
    inputs = normalise(images).to(device).requires_grad_(True)
    mask = None if mask is None else mask.to(device, torch.float32)
    scores = model.head.cosine(masked_embedding(model, model.features(inputs), mask, position))
    scores.max(dim=1).values.sum().backward()
    saliency = inputs.grad.abs().amax(dim=1).cpu().numpy()
    top = saliency.reshape(len(saliency), -1).max(1).clip(1e-12)
    return (saliency / top[:, None, None]).astype(np.float32)
