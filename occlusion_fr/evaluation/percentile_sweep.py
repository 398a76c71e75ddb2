"""The percentile sweep (paper section 4.2 fixes the percentile; we choose it on validation).

For each percentile of a sweep, a layout's mean masks are cut into a mask dictionary and the
validation probes (occluded validation crops, regions chosen by the segmenter, gallery the
training split) are identified with its FDMs; ``occlusion_fr.masking.percentile`` chooses the
percentile with the best mean rank-1 over the validation occlusions. The test probes are scored
at every percentile too, so that the chosen and the paper's percentile can be compared on test;
the choice never reads them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from occlusion_fr.evaluation.strategies import ProbeSet, evaluate_strategy
from occlusion_fr.markdown import bold, markdown_table
from occlusion_fr.masking.dictionary import binarise
from occlusion_fr.masking.percentile import choose_percentile, dictionary_percentile
from occlusion_fr.method.embedding import Embedder, MaskedGallery
from occlusion_fr.method.layout import MaskingLayout

DETECTOR = "segmenter"


def percentile_sweep(embedder: Embedder, gallery_maps, gallery_labels, mean_masks: dict[str, np.ndarray],
                     layout: dict, probe_sets: dict[str, list[ProbeSet]], percentiles,
                     overlap_threshold: float) -> pd.DataFrame:
    """One row per split, percentile and probe set: rank-1 and the mean share of feature elements
    kept, regions chosen by the segmenter. ``probe_sets`` maps a split (val, test) to its sets."""
    rows = []
    for percentile in percentiles:
        dictionary = {region: binarise(mean, percentile) for region, mean in mean_masks.items()}
        gallery = MaskedGallery(embedder, gallery_maps, gallery_labels, MaskingLayout.of(layout, dictionary))
        for split, sets in probe_sets.items():
            segmenter_only = [ProbeSet(s.name, s.images, s.labels, s.maps, {DETECTOR: s.occlusion_masks[DETECTOR]})
                              for s in sets]
            summary, _ = evaluate_strategy(gallery, segmenter_only, overlap_threshold)
            for row in summary.itertuples(index=False):
                rows.append({"strategy": layout["layout"], "split": split, "percentile": float(percentile),
                             "occlusion": row.occlusion, "probes": row.probes, "rank1": row.rank1,
                             "kept_share": row.mean_kept_share})
    return pd.DataFrame(rows)


def sweep_summary(sweep: pd.DataFrame, layouts: dict[str, dict]) -> pd.DataFrame:
    """Per layout (``layouts``: its `percentile` and `paper_percentile`): the paper's, the chosen
    and the used (Table 1's) percentile, and the mean rank-1 over the occlusions of each split at
    the paper's and the chosen one."""
    rows = []
    for strategy, table in sweep.groupby("strategy", sort=False):
        chosen = choose_percentile(table)
        paper = layouts[strategy].get("paper_percentile")
        paper = np.nan if paper is None else float(paper)
        means = table.groupby(["split", "percentile"])["rank1"].mean()
        row = {"strategy": strategy, "paper": paper, "chosen": chosen,
               "used": dictionary_percentile(layouts[strategy]["percentile"], table)}
        for split in dict.fromkeys(table["split"]):
            for name, percentile in (("paper", paper), ("chosen", chosen)):
                row[f"{split}_rank1_{name}"] = float(means.get((split, percentile), np.nan))
        rows.append(row)
    return pd.DataFrame(rows)


def sweep_markdown(summary: pd.DataFrame, sweep: pd.DataFrame, dataset: str) -> str:
    header = ["layout", "paper's", "chosen on validation", "used", "validation at paper's", "validation at chosen",
              "test at paper's", "test at chosen"]
    cells = [[r.strategy, f"{r.paper:g}", f"{r.chosen:g}", f"{r.used:g}", f"{100 * r.val_rank1_paper:.1f}",
              f"{100 * r.val_rank1_chosen:.1f}", f"{100 * getattr(r, 'test_rank1_paper', np.nan):.1f}",
              f"{100 * getattr(r, 'test_rank1_chosen', np.nan):.1f}"] for r in summary.itertuples(index=False)]
    lines = [f"# The mask dictionary's percentile chosen on validation ({dataset})", "",
             "Mean rank-1 (%) over the occlusions of each split (regions chosen by the segmenter) at the paper's "
             "percentile and at the one with the best validation mean; test never takes part in the choice. "
             "Table 1 cuts each mask dictionary at the used percentile (the chosen one where the layout's "
             "`percentile` is `validation`).", "", markdown_table(header, cells),
             "", "## Validation rank-1 (%) per occlusion and percentile", ""]
    val = sweep[sweep["split"] == "val"]
    for strategy, table in val.groupby("strategy", sort=False):
        chosen = choose_percentile(table)
        percentiles = sorted(table["percentile"].unique())  # each layout's sweep has its fixed ones
        values = table.set_index(["occlusion", "percentile"])["rank1"]
        grid = [[occlusion, *(bold(f"{100 * values[(occlusion, p)]:.1f}", p == chosen) for p in percentiles)]
                for occlusion in dict.fromkeys(table["occlusion"])]
        lines += [f"### {strategy}", "", markdown_table(["occlusion", *(f"{p:g}" for p in percentiles)], grid), ""]
    return "\n".join(lines)
