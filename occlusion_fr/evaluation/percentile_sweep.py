"""The mask dictionary's percentile chosen on validation (paper section 4.2 fixes 25/20/30).

For each percentile of a sweep, a layout's mean masks are cut into a mask dictionary and the
validation probes (occluded validation crops, regions chosen by the segmenter, gallery the
training split) are identified with its FDMs; the percentile with the best mean rank-1 over the
validation occlusions is chosen. The test probes are scored at every percentile too, so that the
chosen and the configured percentile can be compared on test; the choice never reads them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from occlusion_fr.evaluation.identification import MaskedGallery
from occlusion_fr.evaluation.strategies import ProbeSet, evaluate_strategy
from occlusion_fr.markdown import bold
from occlusion_fr.masking.dictionary import binarise

DETECTOR = "segmenter"


def percentile_sweep(model, gallery_maps, gallery_labels, mean_masks: dict[str, np.ndarray], layout: dict,
                     probe_sets: dict[str, list[ProbeSet]], percentiles, overlap_threshold: float,
                     device) -> pd.DataFrame:
    """One row per split, percentile and probe set: rank-1 and the mean share of feature elements
    kept, regions chosen by the segmenter. ``probe_sets`` maps a split (val, test) to its sets."""
    rows = []
    for percentile in percentiles:
        dictionary = {region: binarise(mean, percentile) for region, mean in mean_masks.items()}
        gallery = MaskedGallery(model, gallery_maps, gallery_labels, dictionary, device)
        for split, sets in probe_sets.items():
            segmenter_only = [ProbeSet(s.name, s.images, s.labels, s.maps, {DETECTOR: s.occlusion_masks[DETECTOR]})
                              for s in sets]
            summary, _ = evaluate_strategy(gallery, segmenter_only, layout, overlap_threshold)
            for row in summary.itertuples(index=False):
                rows.append({"strategy": layout["layout"], "split": split, "percentile": float(percentile),
                             "occlusion": row.occlusion, "probes": row.probes, "rank1": row.rank1,
                             "kept_share": row.mean_kept_share})
    return pd.DataFrame(rows)


def choose_percentile(sweep: pd.DataFrame) -> float:
    """The percentile with the best mean validation rank-1 over the occlusions (the lowest on ties)."""
    val = sweep[sweep["split"] == "val"]
    if val.empty:
        raise ValueError("the sweep has no validation rows to choose from")
    mean = val.groupby("percentile")["rank1"].mean()
    return float(mean[mean == mean.max()].index.min())


def sweep_summary(sweep: pd.DataFrame, configured: dict[str, float]) -> pd.DataFrame:
    """Per layout: the configured and the chosen percentile, and the mean rank-1 over the
    occlusions of each split at both."""
    rows = []
    for strategy, table in sweep.groupby("strategy", sort=False):
        chosen = choose_percentile(table)
        means = table.groupby(["split", "percentile"])["rank1"].mean()
        row = {"strategy": strategy, "configured": float(configured[strategy]), "chosen": chosen}
        for split in dict.fromkeys(table["split"]):
            for name, percentile in (("configured", configured[strategy]), ("chosen", chosen)):
                row[f"{split}_rank1_{name}"] = float(means.get((split, float(percentile)), np.nan))
        rows.append(row)
    return pd.DataFrame(rows)


def sweep_markdown(summary: pd.DataFrame, sweep: pd.DataFrame, dataset: str) -> str:
    lines = [f"# The mask dictionary's percentile chosen on validation ({dataset})", "",
             "Mean rank-1 (%) over the occlusions of each split (regions chosen by the segmenter) at the configured "
             "percentile (the paper's) and at the one with the best validation mean; test never takes part in "
             "the choice.", "",
             "| layout | configured | chosen on validation | validation at configured | validation at chosen | "
             "test at configured | test at chosen |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in summary.itertuples(index=False):
        lines.append(f"| {r.strategy} | {r.configured:g} | {r.chosen:g} | {100 * r.val_rank1_configured:.1f} | "
                     f"{100 * r.val_rank1_chosen:.1f} | {100 * getattr(r, 'test_rank1_configured', np.nan):.1f} | "
                     f"{100 * getattr(r, 'test_rank1_chosen', np.nan):.1f} |")
    lines += ["", "## Validation rank-1 (%) per occlusion and percentile", ""]
    val = sweep[sweep["split"] == "val"]
    for strategy, table in val.groupby("strategy", sort=False):
        chosen = choose_percentile(table)
        percentiles = sorted(table["percentile"].unique())  # each layout's sweep has its configured one
        cells = table.set_index(["occlusion", "percentile"])["rank1"]
        lines += [f"### {strategy}", "", "| occlusion | " + " | ".join(f"{p:g}" for p in percentiles) + " |",
                  "|---|" + "---:|" * len(percentiles)]
        for occlusion in dict.fromkeys(table["occlusion"]):
            lines.append(f"| {occlusion} | " + " | ".join(bold(f"{100 * cells[(occlusion, p)]:.1f}", p == chosen)
                                                          for p in percentiles) + " |")
        lines.append("")
    return "\n".join(lines)
