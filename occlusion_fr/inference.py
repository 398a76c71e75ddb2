"""A trained run's models applied to crops: feature maps, predicted occlusion, and embeddings
masked by the feature discarding mask of the regions the occlusion covers.

This is the method's test-time path (paper section 3.5) in one place, shared by the LFW pair
verification and by the ``identify`` / ``verify`` / ``enroll`` commands: a crop's occlusion
is segmented, a layout's regions more than ``overlap_threshold`` covered are selected, and
both faces being compared are masked by the product of those regions' masks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch

from occlusion_fr.io import read_json
from occlusion_fr.masking.dictionary import load_mask_dictionary
from occlusion_fr.masking.fdm import (feature_discarding_mask, group_rows, occluded_regions, region_overlap,
                                      region_pixel_masks)
from occlusion_fr.models.features import embed_maps, feature_maps, load_base_cnn
from occlusion_fr.models.segmenter import build_segmenter, predict
from occlusion_fr.models.training import Device, choose_device, load_into

Selection = tuple[str, ...]


@dataclass
class MaskingLayout:
    """A masking layout: its region boxes (``regions/{layout}.json``) and mask dictionary."""

    name: str
    layout: dict
    dictionary: dict[str, np.ndarray] = field(repr=False)

    @classmethod
    def load(cls, regions_path, mask_paths) -> MaskingLayout:
        layout = read_json(regions_path)
        dictionary = load_mask_dictionary(mask_paths)
        missing = [region for region in layout["regions"] if region not in dictionary]
        if missing:
            raise ValueError(f"layout {layout['layout']} ({regions_path}): no mask file for regions {missing}")
        return cls(layout["layout"], layout, dictionary)

    @cached_property
    def region_masks(self) -> dict[str, np.ndarray]:
        return region_pixel_masks(self.layout)

    def select(self, occluded: np.ndarray, overlap_threshold: float) -> list[Selection]:
        """Per (H, W) occlusion mask, the regions more than ``overlap_threshold`` covered."""
        if len(occluded) == 0:
            return []
        overlap = region_overlap(occluded, self.region_masks)
        return occluded_regions(overlap, list(self.region_masks), overlap_threshold)

    def mask(self, selection: Selection, shape) -> torch.Tensor | None:
        """The feature discarding mask of ``selection`` (None: keep everything)."""
        if not selection:
            return None
        return torch.from_numpy(feature_discarding_mask(self.dictionary, selection, shape))


def normalised(embeddings: np.ndarray) -> np.ndarray:
    return embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True).clip(1e-12)


@dataclass
class FaceModels:
    """A run's base CNN (frozen) and occlusion segmenter on one device."""

    base_cnn: torch.nn.Module
    segmenter: torch.nn.Module
    device: Device

    @classmethod
    def load(cls, base_cnn_weights, base_cnn_metrics, segmenter_encoder: str, segmenter_weights,
             precision: str = "auto") -> FaceModels:
        device = choose_device(precision)
        base_cnn, _ = load_base_cnn(base_cnn_weights, base_cnn_metrics, device)
        segmenter = device.model(load_into(build_segmenter(segmenter_encoder), segmenter_weights)).eval()
        return cls(base_cnn, segmenter, device)

    def feature_maps(self, crops: torch.Tensor) -> torch.Tensor:
        """(N, C, h, w) bfloat16 feature maps of (N, 3, H, W) uint8 crops."""
        return feature_maps(self.base_cnn, crops, self.device)

    def occlusion(self, crops: torch.Tensor) -> np.ndarray:
        """(N, H, W) boolean: the pixels the segmenter finds occluded."""
        if len(crops) == 0:
            return np.zeros((0, *crops.shape[2:]), dtype=bool)
        return predict(self.segmenter, crops, self.device)[:, 0].numpy()

    def embed(self, maps: torch.Tensor, selections: list[Selection] | None = None,
              layout: MaskingLayout | None = None) -> np.ndarray:
        """Unit-length embeddings of ``maps``, each masked by the FDM of its selection (none
        without a layout). Rows sharing a selection are embedded together."""
        if layout is None or selections is None:
            return normalised(embed_maps(self.base_cnn, maps, self.device))
        out = np.zeros((len(maps), self.base_cnn.head.weight.shape[1]), dtype=np.float32)
        for selection, rows in group_rows(selections).items():
            out[rows] = embed_maps(self.base_cnn, maps[rows], self.device, layout.mask(selection, maps.shape[1:]))
        return normalised(out)

