"""Masked embedding and scoring: stored feature maps through the frozen base CNN's embedding,
each map multiplied by a mask; a gallery embedded once per mask and kept (the one cache); probes
grouped by their FDM and scored against the gallery masked alike (paper section 4.3).

Where the mask multiplies (``MethodSettings.position``): ``before_bn`` (the paper's method)
multiplies the map itself, so a discarded element reaches the embedding's first layer as its
batch norm's per-channel constant, the same for every face; ``after_bn`` multiplies the
batch-normed map, so a discarded element is zero where the fully connected layer sees it.

How scores are made comparable across FDMs (``MethodSettings.normalisation``), against a
cohort (the training split's clean feature maps, never test) masked by the same mask:
``none``: plain cosine; ``centre``: the cohort's mean embedding is subtracted from every
embedding before the cosine (it removes what all faces masked alike share); ``snorm``: each
cosine score is S-normalised, the mean of its z-scores against the cohort's scores of either side.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import torch

from occlusion_fr.metrics import best_per_identity, ranks_from_scores, unit
from occlusion_fr.method.layout import MaskingLayout
from occlusion_fr.method.selection import Selection, group_rows
from occlusion_fr.models.base_cnn import BaseCNN
from occlusion_fr.models.features import load_base_cnn
from occlusion_fr.models.training import Device, choose_device

BEFORE_BN, AFTER_BN = "before_bn", "after_bn"
MASK_POSITIONS = (BEFORE_BN, AFTER_BN)
NORMALISATIONS = ("none", "centre", "snorm")


@dataclass(frozen=True)
class MethodSettings:
    """The test-time method's choices (config ``feature_discarding``)."""

    position: str = BEFORE_BN
    normalisation: str = "none"

    def __post_init__(self):
        if self.position not in MASK_POSITIONS:
            raise ValueError(f"mask position must be one of {MASK_POSITIONS}, got {self.position!r}")
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got {self.normalisation!r}")

    @classmethod
    def from_config(cls, feature_discarding: dict) -> MethodSettings:
        return cls(feature_discarding["position"], feature_discarding["normalisation"])

    @property
    def needs_cohort(self) -> bool:
        return self.normalisation != "none"


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


def as_tensor(mask) -> torch.Tensor | None:
    if mask is None or isinstance(mask, torch.Tensor):
        return mask
    return torch.from_numpy(np.asarray(mask))


def s_norm(scores: np.ndarray, first_cohort: np.ndarray, second_cohort: np.ndarray) -> np.ndarray:
    """S-norm of ``scores`` (first x second, or one per pair): the mean of the score's z-scores
    against each side's scores with the cohort (rows of ``*_cohort``: one side's scores)."""
    def z(cohort_scores):
        return cohort_scores.mean(1), cohort_scores.std(1).clip(1e-6)
    (mean1, std1), (mean2, std2) = z(first_cohort), z(second_cohort)
    if scores.ndim == 1:
        return ((scores - mean1) / std1 + (scores - mean2) / std2) / 2
    return ((scores - mean1[:, None]) / std1[:, None] + (scores - mean2[None]) / std2[None]) / 2


def _digest(array) -> bytes:
    return hashlib.sha1(np.ascontiguousarray(array).tobytes()).digest()


class EmbeddingCache:
    """Raw embeddings already made, by (feature maps, mask, position, rows), shared by the
    embedders of one model: the methods, strategies and controls of a job that embed the same
    maps under the same mask compute them once. Unmasked embeddings do not depend on the mask
    position, and are made for every row of the maps at the first request. Entries are
    dropped when their maps tensor is freed, so a job may embed many short-lived maps; an entry
    not to be kept (a mask used once) is held only until the next such entry, as gallery, cohort
    and probes read it in turn."""

    def __init__(self):
        self._entries: dict[int, dict[Hashable, np.ndarray]] = {}
        self._recent: tuple[Hashable, np.ndarray] | None = None

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._entries.values())

    def _of(self, maps: torch.Tensor) -> dict[Hashable, np.ndarray]:
        key = id(maps)
        if key not in self._entries:
            self._entries[key] = {}
            weakref.finalize(maps, self._forget, key)
        return self._entries[key]

    def _forget(self, maps_id: int) -> None:
        self._entries.pop(maps_id, None)
        if self._recent is not None and self._recent[0][0] == maps_id:
            self._recent = None

    def get(self, maps: torch.Tensor, rows, mask: torch.Tensor | None, position: str, compute, keep: bool = True
            ) -> np.ndarray:
        """The raw embeddings of ``maps[rows]`` (``rows`` None: every map) under ``mask``;
        ``compute(maps, mask, position)`` makes them when they are not kept yet (``keep`` false:
        made and held only until the next entry not to be kept)."""
        entries = self._of(maps)
        if rows is not None and np.array_equal(rows, np.arange(len(maps))):
            rows = None  # every map, in order: the same embeddings as the whole tensor's
        if mask is None:  # every row at once, position-free
            if None not in entries:
                entries[None] = compute(maps, None, position)
            return entries[None] if rows is None else entries[None][rows]
        key = (position, _digest(mask.cpu().numpy()), None if rows is None else _digest(np.asarray(rows, np.int64)))
        if key in entries:
            return entries[key]
        if self._recent is not None and self._recent[0] == (id(maps), key):
            return self._recent[1]
        embedded = compute(maps if rows is None else maps[torch.as_tensor(np.asarray(rows))], mask, position)
        if keep:
            entries[key] = embedded
        else:
            self._recent = ((id(maps), key), embedded)
        return embedded


class Embedder:
    """The frozen base CNN's embedding on one device under the method's settings; with a cohort
    (the training split's feature maps), its embeddings under each mask are kept by the mask.
    Raw embeddings go through ``cache``, which embedders of other methods may share
    (``with_settings``)."""

    def __init__(self, model: BaseCNN, device: Device, settings: MethodSettings = MethodSettings(),
                 cohort: torch.Tensor | None = None, cache: EmbeddingCache | None = None):
        self.model, self.device, self.settings = model, device, settings
        self.cohort_maps = cohort
        self.cache = cache if cache is not None else EmbeddingCache()

    @classmethod
    def load(cls, weights, metrics, precision: str = "auto", settings: MethodSettings = MethodSettings(),
             cohort: torch.Tensor | None = None) -> Embedder:
        """The embedder of a run's trained base CNN (``weights`` and its ``metrics`` file)."""
        device = choose_device(precision)
        return cls(load_base_cnn(weights, metrics, device)[0], device, settings, cohort)

    def with_settings(self, settings: MethodSettings) -> Embedder:
        """An embedder of another method on the same model, cohort and cache."""
        return Embedder(self.model, self.device, settings, self.cohort_maps, self.cache)

    def _compute(self, maps: torch.Tensor, mask: torch.Tensor | None, position: str) -> np.ndarray:
        return embed_maps(self.model, maps, self.device, mask, position=position)

    def raw(self, maps: torch.Tensor, mask=None, position: str | None = None, rows=None, keep: bool = True
            ) -> np.ndarray:
        """Embeddings (float32) of ``maps[rows]`` (every map without ``rows``) under ``mask``
        (array, tensor or None), not normalised."""
        return self.cache.get(maps, rows, as_tensor(mask), position or self.settings.position, self._compute, keep)

    def cohort(self, mask=None, position: str | None = None, keep: bool = True) -> np.ndarray:
        """The cohort's raw embeddings under ``mask``, kept by the mask's content unless ``keep``
        is false (a mask used once, e.g. a random control's)."""
        if self.cohort_maps is None:
            raise ValueError(f"normalisation {self.settings.normalisation!r} needs a cohort (the training split's "
                             "feature maps), and this embedder has none")
        return self.raw(self.cohort_maps, mask, position, keep=keep)

    def __call__(self, maps: torch.Tensor, mask=None, position: str | None = None, keep: bool = True,
                 rows=None) -> np.ndarray:
        """Embeddings of ``maps[rows]`` (every map without ``rows``) under ``mask`` as the method
        compares them: raw, or centred on the cohort's mean under the same mask (``keep``: see
        ``cohort``)."""
        embedded = self.raw(maps, mask, position, rows, keep)
        if self.settings.normalisation == "centre":
            embedded = embedded - self.cohort(mask, position, keep).mean(0)
        return embedded

    def similarity(self, first: np.ndarray, second: np.ndarray, mask=None, position: str | None = None,
                   pairs: bool = False, keep: bool = True) -> np.ndarray:
        """Scores of embeddings made by this embedder under ``mask``: first x second, or with
        ``pairs`` row i of first with row i of second."""
        first, second = unit(first), unit(second)
        scores = np.sum(first * second, axis=1) if pairs else first @ second.T
        if self.settings.normalisation != "snorm":
            return scores
        cohort = unit(self.cohort(mask, position, keep))
        return s_norm(scores, first @ cohort.T, second @ cohort.T)

    def pair_scores(self, maps1: torch.Tensor, maps2: torch.Tensor, selections: list[Selection],
                    layout: MaskingLayout | None, rows1=None, rows2=None) -> np.ndarray:
        """Score of each pair (row i of maps1[rows1] with row i of maps2[rows2], every row without
        them), both masked by the FDM of the pair's selection (none without a layout); pairs
        sharing a selection are scored together."""
        rows1 = np.arange(len(maps1)) if rows1 is None else np.asarray(rows1)
        rows2 = np.arange(len(maps2)) if rows2 is None else np.asarray(rows2)
        scores = np.zeros(len(rows1), dtype=np.float64)
        for selection, rows in group_rows(selections if layout else [()] * len(rows1)).items():
            mask = layout.fdm(selection, maps1.shape[1:]) if selection else None
            scores[rows] = self.similarity(self(maps1, mask, rows=rows1[rows]), self(maps2, mask, rows=rows2[rows]),
                                           mask, pairs=True)
        return scores


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

    def embeddings(self, key: Hashable = (), mask=None, position: str | None = None, keep: bool = True) -> np.ndarray:
        """The gallery embedded under ``mask``, kept under ``key`` (``()``: no mask) unless ``keep``
        is false (a mask used once)."""
        cache_key = (position, key)
        if cache_key in self._embeddings:
            return self._embeddings[cache_key]
        embedded = self.embedder(self.maps, mask, position, keep)
        if keep:
            self._embeddings[cache_key] = embedded
        return embedded

    def fdm_embeddings(self, selection: Selection) -> np.ndarray:
        """The gallery under the FDM of ``selection`` (a selection is its own key)."""
        return self.embeddings(tuple(selection), self.fdm(selection))

    def scores(self, probes: np.ndarray, gallery: np.ndarray, mask=None, position: str | None = None,
               keep: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(identities, per probe its best score to each identity) for probe and gallery
        embeddings made under the same mask."""
        return best_per_identity(self.embedder.similarity(probes, gallery, mask, position, keep=keep), self.labels)

    def ranks(self, probes: np.ndarray, labels, gallery: np.ndarray, mask=None, position: str | None = None,
              keep: bool = True) -> np.ndarray:
        """Rank (0 = right at rank 1) of each probe embedding's identity among ``gallery``'s."""
        return ranks_from_scores(*self.scores(probes, gallery, mask, position, keep), labels)

    def selection_scores(self, maps: torch.Tensor, selection: Selection, rows=None) -> tuple[np.ndarray, np.ndarray]:
        """(identities, scores) of probes ``maps[rows]`` (every map without ``rows``) that share one
        selection, probe and gallery masked by its FDM."""
        mask = self.fdm(selection)
        return self.scores(self.embedder(maps, mask, rows=rows), self.fdm_embeddings(selection), mask)

    def identity_scores(self, maps: torch.Tensor, selections: list[Selection]) -> tuple[np.ndarray, np.ndarray]:
        """(the gallery's identities, (N, identities) scores): each probe masked by the FDM of its
        selection and the gallery masked alike; probes sharing a selection are scored together."""
        identities = np.unique(self.labels)
        scores = np.empty((len(selections), len(identities)))
        for selection, rows in group_rows(selections).items():
            scores[rows] = self.selection_scores(maps, selection, rows)[1]
        return identities, scores

    def selection_ranks(self, maps: torch.Tensor, labels, selections: list[Selection]) -> np.ndarray:
        """Rank of each probe's identity, each probe masked by the FDM of its selection and the
        gallery masked alike."""
        return ranks_from_scores(*self.identity_scores(maps, selections), labels)
