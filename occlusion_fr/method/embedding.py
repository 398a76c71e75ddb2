"""Masked embedding: stored feature maps through the frozen base CNN's embedding, each map
multiplied by a mask; a gallery embedded once per mask and kept (the one cache); probes grouped
by their FDM and scored against the gallery masked alike (paper section 4.3).

Where the mask multiplies: ``before_bn`` (the method) multiplies the map itself, so a
discarded element reaches the embedding's first layer as its batch norm's per-channel constant;
``after_bn`` multiplies the batch-normed map, so a discarded element is zero where the fully
connected layer sees it.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import torch

from occlusion_fr.metrics import identity_ranks, identity_scores
from occlusion_fr.method.layout import MaskingLayout
from occlusion_fr.method.selection import Selection, group_rows
from occlusion_fr.models.base_cnn import BaseCNN
from occlusion_fr.models.features import load_base_cnn
from occlusion_fr.models.training import Device, choose_device

BEFORE_BN, AFTER_BN = "before_bn", "after_bn"
MASK_POSITIONS = (BEFORE_BN, AFTER_BN)


def masked_embedding(model: BaseCNN, maps: torch.Tensor, mask: torch.Tensor | None = None,
                     position: str = BEFORE_BN) -> torch.Tensor:
    """The embedding of feature maps multiplied by ``mask`` at ``position`` (differentiable)."""
    if position not in MASK_POSITIONS:
        raise ValueError(f"mask position must be one of {MASK_POSITIONS}, got {position!r}")
    if mask is None:
        return model.embed(maps)
    if position == BEFORE_BN:
        return model.embed(maps * mask)
    return model.embed[1:](model.embed[0](maps) * mask)  # embed = batch norm, then the rest


@torch.no_grad()
def embed_maps(model: BaseCNN, maps: torch.Tensor, device: Device, mask: torch.Tensor | None = None,
               batch_size: int = 512, position: str = BEFORE_BN) -> np.ndarray:
    """Embeddings (float32) of stored feature maps, each multiplied by ``mask`` at ``position``."""
    if position not in MASK_POSITIONS:
        raise ValueError(f"mask position must be one of {MASK_POSITIONS}, got {position!r}")
    model.eval()
    out = []
    if mask is not None:
        mask = mask.to(device.device, torch.float32)
    for start in range(0, len(maps), batch_size):
        batch = maps[start:start + batch_size].to(device.device, torch.float32)
        with device.autocast():
            out.append(masked_embedding(model, batch, mask, position).float().cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, model.head.weight.shape[1]), np.float32)


def normalised(embeddings: np.ndarray) -> np.ndarray:
    return embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True).clip(1e-12)


def as_tensor(mask) -> torch.Tensor | None:
    if mask is None or isinstance(mask, torch.Tensor):
        return mask
    return torch.from_numpy(np.asarray(mask))


@dataclass
class Embedder:
    """The frozen base CNN's embedding on one device."""

    model: BaseCNN
    device: Device

    @classmethod
    def load(cls, weights, metrics, precision: str = "auto") -> Embedder:
        """The embedder of a run's trained base CNN (``weights`` and its ``metrics`` file)."""
        device = choose_device(precision)
        return cls(load_base_cnn(weights, metrics, device)[0], device)

    def __call__(self, maps: torch.Tensor, mask=None, position: str = BEFORE_BN) -> np.ndarray:
        """Embeddings (float32, not normalised) of ``maps`` under ``mask`` (array, tensor or None)."""
        return embed_maps(self.model, maps, self.device, as_tensor(mask), position=position)

    def selections(self, maps: torch.Tensor, selections: list[Selection] | None,
                   layout: MaskingLayout | None) -> np.ndarray:
        """Unit-length embeddings of ``maps``, each masked by the FDM of its selection (none
        without a layout); rows sharing a selection are embedded together."""
        if layout is None or selections is None:
            return normalised(self(maps))
        out = np.zeros((len(maps), self.model.head.weight.shape[1]), dtype=np.float32)
        for selection, rows in group_rows(selections).items():
            out[rows] = self(maps[rows], layout.fdm_tensor(selection, maps.shape[1:]))
        return normalised(out)


class MaskedGallery:
    """A gallery's feature maps and identities, embedded once per mask on first use.

    ``layout`` (None: no FDM) gives the FDM of a selection; other masks (controls, ablations)
    are cached under the key their caller names."""

    def __init__(self, embedder: Embedder, maps: torch.Tensor, labels, layout: MaskingLayout | None = None):
        self.embedder, self.maps, self.labels, self.layout = embedder, maps, np.asarray(labels), layout
        self._embeddings: dict[Hashable, np.ndarray] = {}

    @property
    def map_shape(self) -> tuple:
        return tuple(self.maps.shape[1:])

    def fdm(self, selection: Selection) -> np.ndarray | None:
        """The layout's FDM of ``selection`` (None: keep everything)."""
        if not selection:
            return None
        if self.layout is None:
            raise ValueError(f"regions {selection} selected for a gallery without a masking layout")
        return self.layout.fdm(selection, self.map_shape)

    def embeddings(self, key: Hashable = (), mask=None, position: str = BEFORE_BN) -> np.ndarray:
        """The gallery embedded under ``mask``, kept under ``key`` (``()``: no mask)."""
        if key not in self._embeddings:
            self._embeddings[key] = self.embedder(self.maps, mask, position)
        return self._embeddings[key]

    def fdm_embeddings(self, selection: Selection) -> np.ndarray:
        """The gallery under the FDM of ``selection`` (a selection is its own key)."""
        return self.embeddings(tuple(selection), self.fdm(selection))

    def ranks(self, probes: np.ndarray, labels, gallery: np.ndarray) -> np.ndarray:
        """Rank (0 = right at rank 1) of each probe embedding's identity among ``gallery``'s."""
        return identity_ranks(probes, labels, gallery, self.labels)

    def scores(self, probes: np.ndarray, gallery: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(identities, per probe the best cosine score to each identity)."""
        return identity_scores(probes, gallery, self.labels)

    def selection_ranks(self, maps: torch.Tensor, labels, selections: list[Selection]) -> np.ndarray:
        """Rank of each probe's identity, each probe masked by the FDM of its selection and the
        gallery masked alike."""
        labels = np.asarray(labels)
        ranks = np.empty(len(labels), dtype=int)
        for selection, rows in group_rows(selections).items():
            probes = self.embedder(maps[rows], self.fdm(selection))
            ranks[rows] = self.ranks(probes, labels[rows], self.fdm_embeddings(selection))
        return ranks
