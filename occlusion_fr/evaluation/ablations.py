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

from occlusion_fr.evaluation.strategies import ProbeSet
from occlusion_fr.markdown import markdown_table
from occlusion_fr.method.embedding import AFTER_BN, BEFORE_BN, MaskedGallery
from occlusion_fr.method.layout import MaskingLayout
from occlusion_fr.method.selection import Selection, group_rows

# variant -> (which mask, where it multiplies)
VARIANTS = {"no_fdm": (None, BEFORE_BN), "fdm_before_bn": ("fdm", BEFORE_BN), "fdm_after_bn": ("fdm", AFTER_BN),
            "cell_drop_before_bn": ("cell_drop", BEFORE_BN), "cell_drop_after_bn": ("cell_drop", AFTER_BN)}


def cell_drop_mask(layout: MaskingLayout, regions: Selection, map_shape) -> np.ndarray:
    """uint8 (C, H, W) mask discarding every channel of the map cells whose pixels lie more than
    half inside the union of ``regions`` (pixel masks at crop resolution, a multiple of the map)."""
    channels, height, width = map_shape
    covered = layout.pixels(regions)
    crop_height, crop_width = covered.shape
    if crop_height % height or crop_width % width:
        raise ValueError(f"a {crop_height}x{crop_width} crop does not tile a {height}x{width} feature map")
    share = covered.reshape(height, crop_height // height, width, crop_width // width).mean(axis=(1, 3))
    return np.broadcast_to((share <= 0.5).astype(np.uint8), (channels, height, width)).copy()


def variant_mask(variant: str, layout: MaskingLayout, regions: Selection, map_shape) -> tuple[np.ndarray | None, str]:
    """(mask or None, position) a variant applies for a probe whose ``regions`` were selected."""
    kind, position = VARIANTS[variant]
    if kind is None or not regions:
        return None, BEFORE_BN
    if kind == "fdm":
        return layout.fdm(regions, map_shape), position
    return cell_drop_mask(layout, regions, map_shape), position


def fdm_ablations(gallery: MaskedGallery, probe_sets: list[ProbeSet], overlap_threshold: float, variants,
                  detector: str = "segmenter") -> pd.DataFrame:
    """One row per probe set and variant: rank-1, the mean share of feature elements kept and
    the share of probes with a region selected (by the gallery's layout). Probe and gallery are
    masked alike."""
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown ablation variant(s) {', '.join(map(repr, unknown))} (one of {', '.join(VARIANTS)})")
    layout = gallery.layout
    rows = []
    for probes in probe_sets:
        selected = probes.selections(layout, detector, overlap_threshold)
        for variant in variants:
            ranks = np.empty(len(selected), dtype=int)
            kept = np.ones(len(selected))
            for regions, members in group_rows(selected).items():
                mask, position = variant_mask(variant, layout, regions, gallery.map_shape)
                key = () if mask is None else (variant, regions)
                embedded = gallery.embedder(probes.maps, mask, position, rows=members)
                ranks[members] = gallery.ranks(embedded, probes.labels[members], gallery.embeddings(key, mask, position),
                                               mask, position)
                kept[members] = 1.0 if mask is None else float(mask.mean())
            rows.append({"strategy": layout.name, "detector": detector, "occlusion": probes.name,
                         "variant": variant, "probes": len(selected), "rank1": float(np.mean(ranks == 0)),
                         "kept_share": float(kept.mean()), "masked_probes_share": float(np.mean([bool(s) for s in selected]))})
    return pd.DataFrame(rows)


def fdm_ablations_markdown(table: pd.DataFrame, dataset: str) -> str:
    variants = list(dict.fromkeys(table["variant"]))
    cells = []
    for (occlusion, strategy), rows in table.groupby(["occlusion", "strategy"], sort=False):
        by = rows.set_index("variant")
        cells.append([occlusion, strategy, *(f"{100 * by.loc[v, 'rank1']:.1f} ({100 * by.loc[v, 'kept_share']:.0f}%)"
                                             for v in variants)])
    lines = [f"# Where and how features are discarded ({dataset}, test split, regions chosen by the segmenter)", "",
             "Rank-1 (%) of the same probes; in brackets the mean share of feature elements kept. fdm: the learned "
             "FDM; cell_drop: every channel of the covered map cells; before_bn / after_bn: the mask multiplies the "
             "feature map before or after the embedding's batch norm (Table 1: fdm_before_bn).", "",
             markdown_table(["occlusion", "strategy", *variants], cells, left=2)]
    return "\n".join(lines) + "\n"
