"""A trained run's models applied to crops: feature maps, the predicted occlusion, and the
embedder the masked embeddings go through."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from occlusion_fr.io import read_json
from occlusion_fr.masking.dictionary import load_mask_dictionary
from occlusion_fr.method.embedding import Embedder, MethodSettings
from occlusion_fr.method.layout import MaskingLayout
from occlusion_fr.models.features import feature_maps, load_base_cnn, load_feature_maps
from occlusion_fr.models.segmenter import build_segmenter, predict
from occlusion_fr.models.training import Device, choose_device, load_into


@dataclass
class FaceModels:
    """A run's base CNN (frozen) and occlusion segmenter on one device, and the embedder its
    masked embeddings go through (the method's settings, the cohort they normalise against)."""

    base_cnn: torch.nn.Module
    segmenter: torch.nn.Module
    device: Device
    embedder: Embedder

    @classmethod
    def load(cls, base_cnn_weights, base_cnn_metrics, segmenter_encoder: str, segmenter_weights,
             precision: str = "auto", method: MethodSettings = MethodSettings(),
             cohort: torch.Tensor | None = None) -> FaceModels:
        device = choose_device(precision)
        base_cnn, _ = load_base_cnn(base_cnn_weights, base_cnn_metrics, device)
        segmenter = device.model(load_into(build_segmenter(segmenter_encoder), segmenter_weights)).eval()
        return cls(base_cnn, segmenter, device, Embedder(base_cnn, device, method, cohort))

    def feature_maps(self, crops: torch.Tensor) -> torch.Tensor:
        """(N, C, h, w) bfloat16 feature maps of (N, 3, H, W) uint8 crops."""
        return feature_maps(self.base_cnn, crops, self.device)

    def occlusion(self, crops: torch.Tensor) -> np.ndarray:
        """(N, H, W) boolean: the pixels the segmenter finds occluded."""
        if len(crops) == 0:
            return np.zeros((0, *crops.shape[2:]), dtype=bool)
        return predict(self.segmenter, crops, self.device)[:, 0].numpy()


@dataclass(frozen=True)
class RunFiles:
    """The trained run's files a test-time job reads."""

    base_cnn: tuple  # (weights, metrics)
    segmenter: str  # weights
    regions: list  # every region layout's regions file (bands are drawn over occlusion layouts)
    masks: dict  # masking layout -> its mask files
    cohort: str  # the training split's feature maps: the cohort of the method's normalisation

    def load(self, encoder: str, precision: str, method: MethodSettings
             ) -> tuple[FaceModels, dict[str, dict], dict[str, MaskingLayout]]:
        """(the models, every region layout by name, the masking layouts with their dictionaries)."""
        models = FaceModels.load(*self.base_cnn, encoder, self.segmenter, precision, method,
                                 load_feature_maps(self.cohort)[1])
        region_layouts = {layout["layout"]: layout for layout in map(read_json, self.regions)}
        layouts = {name: MaskingLayout.of(region_layouts[name], load_mask_dictionary(paths))
                   for name, paths in self.masks.items()}
        return models, region_layouts, layouts
