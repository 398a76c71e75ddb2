"""The occlusion segmenter's network and its prediction (training: ``train_segmenter``)."""

from __future__ import annotations

import torch

from occlusion_fr.models.data import normalise
from occlusion_fr.models.training import Device


def build_segmenter(encoder: str) -> torch.nn.Module:
    import segmentation_models_pytorch as smp

    return smp.Unet(encoder, encoder_weights=None, in_channels=3, classes=1)


@torch.no_grad()
def predict(model, images: torch.Tensor, device: Device, batch_size: int = 128) -> torch.Tensor:
    """Boolean (N, 1, H, W) occlusion masks for uint8 images."""
    model.eval()
    out = []
    for start in range(0, len(images), batch_size):
        with device.autocast():
            logits = model(device.images(normalise(images[start:start + batch_size])))
        out.append(logits.float().cpu() > 0)
    return torch.cat(out)
