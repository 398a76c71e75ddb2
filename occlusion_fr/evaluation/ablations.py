"""Ablations of where and how features are discarded, on the same trained models as Table 1.

For the probes of each test occlusion, with the regions the segmenter selected, rank-1 under:

- ``no_fdm``: nothing discarded (Table 1's first column);
- ``fdm_before_bn``: the learned FDM multiplies the feature map before the embedding's batch
  norm (the method, Table 1's cell): a discarded element enters the fully connected layer as
  its channel's batch-norm constant, not as zero;
- ``fdm_after_bn``: the same FDM multiplies the batch-normed map: a discarded element is zero
  where the fully connected layer sees it;
- ``cell_drop_before_bn`` / ``cell_drop_after_bn``: no learned mask; every channel of the map
  cells that the selected regions cover (more than half of a cell's pixels) is discarded.

If cell drop matches the learned FDM, the gain comes from emptying the occluded cells, not from
which channels PDSN chose.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from occlusion_fr.evaluation.strategies import ProbeSet
from occlusion_fr.masking.fdm import (feature_discarding_mask, group_rows, occluded_regions, region_overlap,
                                      region_pixel_masks)
from occlusion_fr.metrics import identity_ranks
from occlusion_fr.models.features import embed_maps

# variant -> (which mask, where it multiplies)
VARIANTS = {"no_fdm": (None, "before_bn"), "fdm_before_bn": ("fdm", "before_bn"), "fdm_after_bn": ("fdm", "after_bn"),
            "cell_drop_before_bn": ("cell_drop", "before_bn"), "cell_drop_after_bn": ("cell_drop", "after_bn")}


def cell_drop_mask(region_masks: dict[str, np.ndarray], regions: tuple[str, ...], map_shape) -> np.ndarray:
    """uint8 (C, H, W) mask discarding every channel of the map cells whose pixels lie more than
    half inside the union of ``regions`` (pixel masks at crop resolution, a multiple of the map)."""
    channels, height, width = map_shape
    covered = np.zeros(next(iter(region_masks.values())).shape, dtype=bool)
    for region in regions:
        covered |= region_masks[region]
    crop_height, crop_width = covered.shape
    if crop_height % height or crop_width % width:
        raise ValueError(f"a {crop_height}x{crop_width} crop does not tile a {height}x{width} feature map")
    share = covered.reshape(height, crop_height // height, width, crop_width // width).mean(axis=(1, 3))
    return np.broadcast_to((share <= 0.5).astype(np.uint8), (channels, height, width)).copy()


def variant_mask(variant: str, dictionary: dict[str, np.ndarray], region_masks: dict[str, np.ndarray],
                 regions: tuple[str, ...], map_shape) -> tuple[np.ndarray | None, str]:
    """(mask or None, position) a variant applies for a probe whose ``regions`` were selected."""
    kind, position = VARIANTS[variant]
    if kind is None or not regions:
        return None, "before_bn"
    if kind == "fdm":
        return feature_discarding_mask(dictionary, regions, map_shape), position
    return cell_drop_mask(region_masks, regions, map_shape), position


def fdm_ablations(model, gallery_maps: torch.Tensor, gallery_labels: np.ndarray, dictionary: dict[str, np.ndarray],
                  probe_sets: list[ProbeSet], layout: dict, overlap_threshold: float, variants, device,
                  detector: str = "segmenter") -> pd.DataFrame:
    """One row per probe set and variant: rank-1, the mean share of feature elements kept and
    the share of probes with a region selected. Probe and gallery are masked alike."""
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown ablation variant(s) {', '.join(map(repr, unknown))} (one of {', '.join(VARIANTS)})")
    region_masks = region_pixel_masks(layout)
    shape = tuple(gallery_maps.shape[1:])
    gallery_cache: dict[tuple, np.ndarray] = {}
    rows = []
    for probes in probe_sets:
        if detector not in probes.occlusion_masks:
            raise ValueError(f"{probes.name}: no occlusion masks from the {detector}")
        selected = occluded_regions(region_overlap(probes.occlusion_masks[detector], region_masks),
                                    list(region_masks), overlap_threshold)
        for variant in variants:
            ranks = np.empty(len(selected), dtype=int)
            kept = np.ones(len(selected))
            for regions, members in group_rows(selected).items():
                mask, position = variant_mask(variant, dictionary, region_masks, regions, shape)
                key = (variant if mask is not None else "no_fdm", regions if mask is not None else ())
                if key not in gallery_cache:
                    gallery_cache[key] = embed_maps(model, gallery_maps, device,
                                                    None if mask is None else torch.from_numpy(mask), position=position)
                embedded = embed_maps(model, probes.maps[members], device,
                                      None if mask is None else torch.from_numpy(mask), position=position)
                ranks[members] = identity_ranks(embedded, probes.labels[members], gallery_cache[key], gallery_labels)
                kept[members] = 1.0 if mask is None else float(mask.mean())
            rows.append({"strategy": layout["layout"], "detector": detector, "occlusion": probes.name,
                         "variant": variant, "probes": len(selected), "rank1": float(np.mean(ranks == 0)),
                         "kept_share": float(kept.mean()), "masked_probes_share": float(np.mean([bool(s) for s in selected]))})
    return pd.DataFrame(rows)


def fdm_ablations_markdown(table: pd.DataFrame, dataset: str) -> str:
    variants = list(dict.fromkeys(table["variant"]))
    lines = [f"# Where and how features are discarded ({dataset}, test split, regions chosen by the segmenter)", "",
             "Rank-1 (%) of the same probes; in brackets the mean share of feature elements kept. fdm: the learned "
             "FDM; cell_drop: every channel of the covered map cells; before_bn / after_bn: the mask multiplies the "
             "feature map before or after the embedding's batch norm (Table 1: fdm_before_bn).", "",
             "| occlusion | strategy | " + " | ".join(variants) + " |", "|---|---|" + "---:|" * len(variants)]
    for (occlusion, strategy), rows in table.groupby(["occlusion", "strategy"], sort=False):
        by = rows.set_index("variant")
        lines.append(f"| {occlusion} | {strategy} | " + " | ".join(
            f"{100 * by.loc[v, 'rank1']:.1f} ({100 * by.loc[v, 'kept_share']:.0f}%)" for v in variants) + " |")
    return "\n".join(lines) + "\n"
