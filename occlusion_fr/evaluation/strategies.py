"""Table 1's cells for one masking strategy: every probe set, every occlusion detector.

A strategy is a masking layout (the gallery's) or no FDM. For a layout, each detector
(segmenter, oracle) decides per probe which regions are occluded; the probe and the gallery are
masked by that FDM and identified (``occlusion_fr.method``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from occlusion_fr.method.embedding import Embedder, MaskedGallery, MethodSettings
from occlusion_fr.method.layout import MaskingLayout
from occlusion_fr.method.occlusion_masks import load_occlusion_masks
from occlusion_fr.method.selection import NO_FDM, Selection
from occlusion_fr.models.features import load_feature_maps
from occlusion_fr.split import identities_by_image


@dataclass
class ProbeSet:
    name: str  # "clean" or an occlusion
    images: np.ndarray  # image names
    labels: np.ndarray  # identity names
    maps: torch.Tensor  # (N, C, H, W) bfloat16
    occlusion_masks: dict[str, np.ndarray]  # detector -> boolean (N, H, W)

    def selections(self, layout: MaskingLayout, detector: str, overlap_threshold: float) -> list[Selection]:
        """Per probe, the regions of ``layout`` that ``detector``'s occlusion map covers."""
        if detector not in self.occlusion_masks:
            raise ValueError(f"{self.name}: no occlusion masks from the {detector}")
        return layout.select(self.occlusion_masks[detector], overlap_threshold)


def load_gallery_maps(gallery_path, identity_of: dict[str, str]) -> tuple[torch.Tensor, np.ndarray]:
    """The gallery's cached feature maps and each map's identity."""
    names, maps = load_feature_maps(gallery_path)
    return maps, np.array([identity_of[n] for n in names])


def load_gallery(files, identity_of: dict[str, str], precision: str, method: MethodSettings,
                 layout: MaskingLayout | None) -> MaskedGallery:
    """The gallery (``files.gallery``: the training split's feature maps) under ``layout``'s FDMs
    (None: no FDM), embedded by the base CNN of ``files.weights`` / ``files.metrics``; the
    gallery is also the cohort the method's normalisation reads."""
    maps, labels = load_gallery_maps(files.gallery, identity_of)
    return MaskedGallery(Embedder.load(files.weights, files.metrics, precision, method, cohort=maps), maps, labels,
                         layout)


def load_probe_set(name: str, maps_path, identity_of: dict[str, str], occlusion_masks_path=None) -> ProbeSet:
    """A probe set from its cached feature maps and, for a masking strategy, its occlusion masks
    (which must list the same images)."""
    names, maps = load_feature_maps(maps_path)
    occlusion_masks = {}
    if occlusion_masks_path is not None:
        mask_names, occlusion_masks = load_occlusion_masks(occlusion_masks_path)
        if not np.array_equal(mask_names, names):
            raise ValueError(f"{occlusion_masks_path} and {maps_path} list different images")
    return ProbeSet(name, names, np.array([identity_of[n] for n in names]), maps, occlusion_masks)


def load_layout_evaluation(files, precision: str, method: MethodSettings, probe_names: list[str]
                           ) -> tuple[MaskedGallery, list[ProbeSet]]:
    """A layout's evaluation job's gallery (under the layout's FDMs) and probe sets, from its
    files: ``weights``, ``metrics``, ``split``, ``gallery``, ``regions``, ``masks`` and, per
    name of ``probe_names``, ``probes`` and ``occlusion_masks``."""
    identity_of = identities_by_image(files.split)
    gallery = load_gallery(files, identity_of, precision, method, MaskingLayout.load(files.regions, files.masks))
    probe_sets = [load_probe_set(name, files.probes[i], identity_of, files.occlusion_masks[i])
                  for i, name in enumerate(probe_names)]
    return gallery, probe_sets


def evaluate_strategy(gallery: MaskedGallery, probe_sets: list[ProbeSet], overlap_threshold: float,
                      ks=(1, 5)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary: one row per probe set and detector; per probe: regions selected, rank)."""
    layout = gallery.layout
    strategy = layout.name if layout else NO_FDM
    summary, per_probe = [], []
    for probes in probe_sets:
        detectors = probes.occlusion_masks if layout else {NO_FDM: None}
        for detector, masks in detectors.items():
            selected = layout.select(masks, overlap_threshold) if layout else [()] * len(probes.labels)
            ranks = gallery.selection_ranks(probes.maps, probes.labels, selected)
            distinct = set(selected)
            kept = {key: layout.kept_share(key, gallery.map_shape) if layout else 1.0 for key in distinct}
            summary.append({"strategy": strategy, "detector": detector, "occlusion": probes.name,
                            "probes": len(ranks), **{f"rank{k}": float(np.mean(ranks < k)) for k in ks},
                            "distinct_fdms": len(distinct),
                            "mean_regions": float(np.mean([len(s) for s in selected])) if selected else 0.0,
                            "mean_kept_share": float(np.mean([kept[s] for s in selected])) if selected else 1.0})
            per_probe.append(pd.DataFrame({"strategy": strategy, "detector": detector, "occlusion": probes.name,
                                           "image": probes.images, "identity": probes.labels,
                                           "regions": ["+".join(s) for s in selected], "rank": ranks}))
    return pd.DataFrame(summary), pd.concat(per_probe, ignore_index=True)
