"""The mask dictionary's percentile chosen on validation (paper section 4.2 fixes 25/20/30).

For each percentile of a sweep, a layout's mean masks are cut into a mask dictionary and the
validation probes (occluded validation crops, regions chosen by the segmenter, gallery the
training split) are identified with its FDMs; the percentile with the best mean rank-1 over the
validation occlusions is chosen. A layout whose `percentile` is `validation` cuts its mask
dictionary there. The test probes are scored at every percentile too, so that the chosen and the
paper's percentile can be compared on test; the choice never reads them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from occlusion_fr.evaluation.identification import MaskedGallery
from occlusion_fr.evaluation.strategies import ProbeSet, evaluate_strategy
from occlusion_fr.markdown import bold
from occlusion_fr.masking.dictionary import binarise

DETECTOR = "segmenter"
VALIDATION = "validation"  # a layout's `percentile` setting: chosen on this sweep
DICTIONARY_KEYS = ("percentile", "paper_percentile")  # a layout's keys that only the dictionary and sweep read


def fixed_percentiles(layout: dict) -> list:
    """A layout's fixed percentiles (its paper's, a numeric `percentile`) as configured: always
    swept, so that each can be compared with the chosen one."""
    values = (layout.get("paper_percentile"), layout.get("percentile"))
    return sorted({v for v in values if v is not None and v != VALIDATION})


def dictionary_percentile(setting, sweep: pd.DataFrame | None) -> float:
    """The percentile a layout's mask dictionary is cut at: ``setting`` itself, or for
    `validation` the one its sweep chooses."""
    if setting != VALIDATION:
        return float(setting)
    if sweep is None:
        raise ValueError("percentile 'validation' needs the layout's percentile sweep")
    return choose_percentile(sweep)


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
    lines = [f"# The mask dictionary's percentile chosen on validation ({dataset})", "",
             "Mean rank-1 (%) over the occlusions of each split (regions chosen by the segmenter) at the paper's "
             "percentile and at the one with the best validation mean; test never takes part in the choice. "
             "Table 1 cuts each mask dictionary at the used percentile (the chosen one where the layout's "
             "`percentile` is `validation`).", "",
             "| layout | paper's | chosen on validation | used | validation at paper's | validation at chosen | "
             "test at paper's | test at chosen |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in summary.itertuples(index=False):
        lines.append(f"| {r.strategy} | {r.paper:g} | {r.chosen:g} | {r.used:g} | {100 * r.val_rank1_paper:.1f} | "
                     f"{100 * r.val_rank1_chosen:.1f} | {100 * getattr(r, 'test_rank1_paper', np.nan):.1f} | "
                     f"{100 * getattr(r, 'test_rank1_chosen', np.nan):.1f} |")
    lines += ["", "## Validation rank-1 (%) per occlusion and percentile", ""]
    val = sweep[sweep["split"] == "val"]
    for strategy, table in val.groupby("strategy", sort=False):
        chosen = choose_percentile(table)
        percentiles = sorted(table["percentile"].unique())  # each layout's sweep has its fixed ones
        cells = table.set_index(["occlusion", "percentile"])["rank1"]
        lines += [f"### {strategy}", "", "| occlusion | " + " | ".join(f"{p:g}" for p in percentiles) + " |",
                  "|---|" + "---:|" * len(percentiles)]
        for occlusion in dict.fromkeys(table["occlusion"]):
            lines.append(f"| {occlusion} | " + " | ".join(bold(f"{100 * cells[(occlusion, p)]:.1f}", p == chosen)
                                                          for p in percentiles) + " |")
        lines.append("")
    return "\n".join(lines)
