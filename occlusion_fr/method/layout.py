"""A masking layout at test time: its region boxes (``regions/{layout}.json``) and its mask
dictionary, with the two steps that turn an occlusion map into a feature discarding mask."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch

from occlusion_fr.io import read_json
from occlusion_fr.masking.dictionary import load_mask_dictionary
from occlusion_fr.method.fdm import feature_discarding_mask, kept_share
from occlusion_fr.method.selection import Selection, region_pixel_masks, select_regions


@dataclass
class MaskingLayout:
    name: str
    layout: dict = field(repr=False)
    dictionary: dict[str, np.ndarray] = field(repr=False)

    @classmethod
    def load(cls, regions_path, mask_paths) -> MaskingLayout:
        """A layout from its regions file and its ``{region}.npy`` mask files."""
        return cls.of(read_json(regions_path), load_mask_dictionary(mask_paths), source=regions_path)

    @classmethod
    def of(cls, layout: dict, dictionary: dict[str, np.ndarray], source=None) -> MaskingLayout:
        missing = [region for region in layout["regions"] if region not in dictionary]
        if missing:
            raise ValueError(f"layout {layout['layout']} ({source or 'regions'}): no mask file for regions {missing}")
        return cls(layout["layout"], layout, dictionary)

    @cached_property
    def region_masks(self) -> dict[str, np.ndarray]:
        return region_pixel_masks(self.layout)

    @property
    def regions(self) -> list[str]:
        return list(self.layout["regions"])

    def select(self, occluded: np.ndarray, overlap_threshold: float) -> list[Selection]:
        """Per (H, W) occlusion mask, the regions more than ``overlap_threshold`` covered."""
        return select_regions(occluded, self.region_masks, overlap_threshold)

    def union(self, *selections: Selection) -> Selection:
        """The regions any of ``selections`` holds, in layout order."""
        chosen = set().union(*selections)
        return tuple(r for r in self.regions if r in chosen)

    def pixels(self, selection: Selection) -> np.ndarray:
        """Boolean (H, W): the crop pixels of the selected regions."""
        covered = np.zeros(next(iter(self.region_masks.values())).shape, dtype=bool)
        for region in selection:
            covered |= self.region_masks[region]
        return covered

    def fdm(self, selection: Selection, shape) -> np.ndarray:
        """The uint8 feature discarding mask of ``selection`` for maps of ``shape`` (C, h, w)."""
        return feature_discarding_mask(self.dictionary, selection, shape)

    def fdm_tensor(self, selection: Selection, shape) -> torch.Tensor | None:
        """The FDM as a tensor, None when nothing is selected (keep everything)."""
        return torch.from_numpy(self.fdm(selection, shape)) if selection else None

    def kept_share(self, selection: Selection, shape) -> float:
        return kept_share(self.dictionary, selection, shape)
