"""Identification with feature discarding masks (paper section 4.3).

A probe's feature map and every gallery (training split) feature map are multiplied by the
probe's FDM, embedded, and compared by cosine similarity; the nearest gallery image names the
identity. Probes are grouped by their FDM (which regions were occluded), so the gallery is
embedded once per distinct FDM rather than once per probe, and that embedding is reused by
every probe set evaluated with the same gallery.
"""

from __future__ import annotations

import numpy as np
import torch

from occlusion_fr.masking.fdm import feature_discarding_mask, group_rows
from occlusion_fr.metrics import identity_ranks
from occlusion_fr.models.base_cnn import BaseCNN
from occlusion_fr.models.features import embed_maps
from occlusion_fr.models.training import Device


class MaskedGallery:
    """Gallery embeddings per FDM, computed on first use."""

    def __init__(self, model: BaseCNN, maps: torch.Tensor, labels: np.ndarray, dictionary: dict[str, np.ndarray],
                 device: Device):
        self.model, self.maps, self.labels, self.device = model, maps, np.asarray(labels), device
        self.dictionary = dictionary
        self._embeddings: dict[tuple[str, ...], np.ndarray] = {}

    def mask(self, regions: tuple[str, ...]) -> torch.Tensor | None:
        if not regions:
            return None
        return torch.from_numpy(feature_discarding_mask(self.dictionary, regions, self.maps.shape[1:]))

    def embeddings(self, regions: tuple[str, ...]) -> np.ndarray:
        if regions not in self._embeddings:
            self._embeddings[regions] = embed_maps(self.model, self.maps, self.device, self.mask(regions))
        return self._embeddings[regions]


def masked_ranks(gallery: MaskedGallery, probe_maps: torch.Tensor, probe_labels, selected: list[tuple[str, ...]]
                 ) -> np.ndarray:
    """Rank (0 = correct at rank 1) of each probe's identity, each probe masked by the FDM of
    its ``selected`` regions, the gallery masked alike."""
    probe_labels = np.asarray(probe_labels)
    ranks = np.empty(len(probe_labels), dtype=int)
    for regions, rows in group_rows(selected).items():
        probes = embed_maps(gallery.model, probe_maps[rows], gallery.device, gallery.mask(regions))
        ranks[rows] = identity_ranks(probes, probe_labels[rows], gallery.embeddings(regions), gallery.labels)
    return ranks


def kept_share(dictionary: dict[str, np.ndarray], regions: tuple[str, ...], shape) -> float:
    """Share of feature elements an FDM keeps."""
    return float(feature_discarding_mask(dictionary, regions, shape).mean()) if regions else 1.0
