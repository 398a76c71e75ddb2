"""Base CNN (paper section 4.2): ResNet34 on 128x96 crops, an embedding layer, and LMCL.

The feature discarding masks of the later stages multiply the last convolutional feature
map, so the network is split into ``features`` (the map) and ``embed`` (map -> embedding).
The embedding flattens the map rather than pooling it (``head`` flatten), so that which elements
a mask keeps matters; ``head`` pooled averages the map first, as a plain ResNet34 does.
``output_stride`` 32 is plain ResNet34 (a 4x3 map at 128x96); 16 runs the last stage at stride
1 (8x6), finer for masks over five horizontal bands. ``visible_rows`` restricts the network to a
band of crop rows (an upper-face model for face masks, a lower-face one for sunglasses).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from occlusion_fr.models.resnet import ResNet34

from occlusion_fr import CROP_HEIGHT, CROP_WIDTH


HEADS = ("flatten", "pooled")


class LMCL(nn.Module):
    """Large margin cosine loss head (CosFace): logits s * (cos(theta_j) - m [j = y])."""

    def __init__(self, embedding_size: int, classes: int, scale: float, margin: float):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(classes, embedding_size))
        nn.init.xavier_uniform_(self.weight)
        self.scale, self.margin = scale, margin

    def cosine(self, embedding: torch.Tensor) -> torch.Tensor:
        return F.linear(F.normalize(embedding.float()), F.normalize(self.weight.float()))

    def forward(self, embedding: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        cosine = self.cosine(embedding)
        if labels is not None:
            cosine = cosine - self.margin * F.one_hot(labels, cosine.shape[1]).to(cosine.dtype)
        return self.scale * cosine


class Features(nn.Sequential):
    """The convolutional stages, reading only the crop rows in ``visible_rows`` (fractions of the
    crop height): the rows outside are set to mid-grey (0 after normalisation) first, so an
    upper- or lower-face model is the same network with a setting, not another code path."""

    def __init__(self, *stages: nn.Module, visible_rows=(0.0, 1.0)):
        super().__init__(*stages)
        self.visible_rows = tuple(float(v) for v in visible_rows)
        if not 0 <= self.visible_rows[0] < self.visible_rows[1] <= 1:
            raise ValueError(f"visible_rows must be [top, bottom] with 0 <= top < bottom <= 1, got {visible_rows}")

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.visible_rows != (0.0, 1.0):
            height = images.shape[-2]
            top, bottom = (round(v * height) for v in self.visible_rows)
            keep = torch.zeros(height, 1, dtype=images.dtype, device=images.device)
            keep[top:bottom] = 1
            images = images * keep
        return super().forward(images)


class BaseCNN(nn.Module):
    def __init__(self, classes: int, output_stride: int = 16, embedding_size: int = 512, dropout: float = 0.4,
                 scale: float = 30.0, margin: float = 0.35, head: str = "flatten", visible_rows=(0.0, 1.0)):
        super().__init__()
        if output_stride not in (16, 32):
            raise ValueError(f"output_stride must be 16 or 32, got {output_stride}")
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        net = ResNet34()
        if output_stride == 16:  # last stage at stride 1: 8x6 instead of 4x3 at 128x96
            net.layer4[0].conv1.stride = (1, 1)
            net.layer4[0].downsample[0].stride = (1, 1)
        self.features = Features(net.conv1, net.bn1, net.relu, net.maxpool,
                                 net.layer1, net.layer2, net.layer3, net.layer4, visible_rows=visible_rows)
        self.map_shape = (512, CROP_HEIGHT // output_stride, CROP_WIDTH // output_stride)
        # The batch norm stays first in both heads (an FDM can multiply before or after it).
        if head == "flatten":
            reduce, inputs = [nn.Flatten()], 512 * self.map_shape[1] * self.map_shape[2]
        else:
            reduce, inputs = [nn.AdaptiveAvgPool2d(1), nn.Flatten()], 512
        self.embed = nn.Sequential(nn.BatchNorm2d(512), nn.Dropout(dropout), *reduce,
                                   nn.Linear(inputs, embedding_size), nn.BatchNorm1d(embedding_size))
        self.head = LMCL(embedding_size, classes, scale, margin)

    def forward(self, images: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Embeddings of ``images``; ``mask`` (broadcastable to the feature map) multiplies the map."""
        feature_map = self.features(images)
        if mask is not None:
            feature_map = feature_map * mask
        return self.embed(feature_map)
