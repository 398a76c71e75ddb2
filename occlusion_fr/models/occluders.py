"""Occlusion-augmented training: occluded renders of the training crops, swapped into batches.

The renders are drawn once, before training (``renders`` per crop and occlusion, each from its
own per-image generator, so they do not depend on which other images exist); each batch then
swaps every sample, with probability ``rate``, for one of its renders chosen at random. The
draws come from a generator seeded per epoch, so a resumed training sees the same batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from occlusion_fr.models.data import render_crops
from occlusion_fr.occlusions.renderers import Renderer


@dataclass
class TrainingOccluders:
    rate: float
    names: list[str]  # the occlusion of each render slot
    renders: torch.Tensor  # (N, K, 3, H, W) uint8: K = occlusions x renders per crop
    available: torch.Tensor  # (N, K) bool: False where the renderer could not use the crop

    @classmethod
    def render(cls, rows: pd.DataFrame, crops: torch.Tensor, settings: dict, seed: int) -> TrainingOccluders:
        """``settings``: base_cnn.occluders with ``specs`` (each named occlusion's renderer spec)."""
        slots = [(name, draw) for name in settings["occlusions"] for draw in range(settings["renders"])]
        renders = crops[:, None].repeat(1, len(slots), 1, 1, 1)  # unusable crops stay clean, never chosen
        available = torch.zeros(len(crops), len(slots), dtype=torch.bool)
        renderers = {name: Renderer(name, settings["specs"][name], {}, seed, rows["image"])
                     for name in settings["occlusions"]}
        for slot, (name, draw) in enumerate(slots):
            occluded, _, usable = render_crops(rows, crops, renderers[name], draw=draw)
            usable = torch.from_numpy(usable)
            renders[usable, slot] = occluded
            available[:, slot] = usable
        return cls(settings["rate"], [name for name, _ in slots], renders, available)

    def summary(self) -> dict:
        """Per occlusion: the crops it could occlude (in every render)."""
        counts = {}
        for slot, name in enumerate(self.names):
            counts[name] = min(counts.get(name, len(self.available)), int(self.available[:, slot].sum()))
        return {"rate": self.rate, "renders_per_crop": len(self.names), "crops": len(self.available),
                "occludable": counts}

    def apply(self, index: torch.Tensor, batch: torch.Tensor, generator: torch.Generator
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """(the uint8 ``batch`` of training crops ``index`` with some samples swapped for an
        occluded render, which samples were swapped)."""
        n, k = len(index), len(self.names)
        swap = torch.rand(n, generator=generator) < self.rate
        choice = torch.rand(n, k, generator=generator)
        available = self.available[index]
        choice[~available] = -1.0
        slot = choice.argmax(1)
        swap &= available.any(1)
        out = batch.clone()
        chosen = torch.nonzero(swap).flatten()
        if len(chosen):
            on = self.renders.device
            out[chosen.to(out.device)] = self.renders[index[chosen].to(on), slot[chosen].to(on)].to(out.device)
        return out, swap


def occluded_share(swapped: list[torch.Tensor]) -> float:
    """The share of an epoch's training samples that were occluded."""
    return float(np.mean(torch.cat(swapped).numpy())) if swapped else 0.0
