"""Feature maps of the frozen base CNN, computed once per image set and shared by later jobs.

Every mask generator, the identification of every layout and the gallery reuse the same
maps; the base CNN's convolutional part is the expensive step, so it runs once per set.
Maps are stored as bfloat16 (float32's range: an undertrained network's activations can overflow
float16) in ``.npz`` files (names + the raw 16-bit words), read without pickle.
"""

from __future__ import annotations

import numpy as np
import torch

from occlusion_fr.io import atomic_path, read_json
from occlusion_fr.models.base_cnn import BaseCNN
from occlusion_fr.models.data import normalise
from occlusion_fr.models.training import Device, load_into


def load_base_cnn(weights_path, metrics_path, device: Device) -> tuple[BaseCNN, list[str]]:
    """The trained base CNN (frozen, eval mode) and its identity names in label order."""
    metrics = read_json(metrics_path)
    model = load_into(BaseCNN(len(metrics["identities"]), **metrics["architecture"]), weights_path)
    model = device.model(model).eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model, list(metrics["identities"])


@torch.no_grad()
def feature_maps(model: BaseCNN, images: torch.Tensor, device: Device, batch_size: int = 128) -> torch.Tensor:
    """(N, C, H, W) bfloat16 feature maps of uint8 images (CPU tensor)."""
    model.eval()
    out = []
    for start in range(0, len(images), batch_size):
        with device.autocast():
            maps = model.features(device.images(normalise(images[start:start + batch_size])))
        out.append(maps.float().cpu().to(torch.bfloat16).contiguous())
    if not out:
        return torch.zeros(0, *model.map_shape, dtype=torch.bfloat16)
    return torch.cat(out)


def save_feature_maps(path, names, maps: torch.Tensor, **arrays) -> None:
    """The one writer of feature-map files (image sets, the bundle's and enrolled galleries):
    names, maps as raw bfloat16 words, and any further ``arrays`` (e.g. identities)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, names=np.asarray(list(names), dtype=str),
                     maps=maps.to(torch.bfloat16).contiguous().view(torch.int16).numpy(),
                     **{key: np.asarray(value) for key, value in arrays.items()})


def load_feature_maps(path) -> tuple[np.ndarray, torch.Tensor]:
    """(names, bfloat16 maps) as written by ``save_feature_maps``."""
    with np.load(path, allow_pickle=False) as data:
        return data["names"], torch.from_numpy(data["maps"]).view(torch.bfloat16)
