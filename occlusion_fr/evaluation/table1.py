"""Table 1 (paper section 5.3): rank-1 per occlusion (rows) and masking strategy (columns).

``none`` is identification without FDM; each layout column uses that layout's mask
dictionary, with the regions chosen by the segmenter or, as an upper bound, by the exact
occlusion masks (oracle). For LFW, the paper's numbers (resources/paper_table1.csv, rank-1 in
percent, the clean row being the base CNN's rank-1) go beside ours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from occlusion_fr.markdown import bold, strategy_grid
from occlusion_fr.method.occlusion_masks import DETECTORS
from occlusion_fr.method.selection import NO_FDM


def table1(summaries: list[pd.DataFrame], rows: list[str], strategies: list[str]) -> pd.DataFrame:
    """Long table (occlusion, strategy, detector, rank1, rank5, ...) in row and column order;
    the no-FDM cells are repeated for each detector, so each detector reads as a full table."""
    long = pd.concat(summaries, ignore_index=True)
    detectors = [d for d in DETECTORS if d in set(long["detector"])]
    none = long[long["strategy"] == NO_FDM]
    long = pd.concat([long[long["strategy"] != NO_FDM], *[none.assign(detector=d) for d in detectors]],
                     ignore_index=True)
    long["occlusion"] = pd.Categorical(long["occlusion"], rows, ordered=True)
    long["strategy"] = pd.Categorical(long["strategy"], strategies, ordered=True)
    long["detector"] = pd.Categorical(long["detector"], detectors, ordered=True)
    long = long.sort_values(["detector", "occlusion", "strategy"]).reset_index(drop=True)
    long["detector"] = long["detector"].astype(str)
    long["occlusion"] = long["occlusion"].astype(str)
    long["strategy"] = long["strategy"].astype(str)
    return long


def with_paper(long: pd.DataFrame, paper: pd.DataFrame | None) -> pd.DataFrame:
    """Adds the paper's rank-1 (percent) and our difference to it, where the paper has the cell."""
    long = long.copy()
    if paper is None:
        long["paper_rank1"] = np.nan
    else:
        lookup = paper.set_index(["occlusion", "strategy"])["rank1"]
        long["paper_rank1"] = [lookup.get((o, s), np.nan) for o, s in zip(long["occlusion"], long["strategy"])]
    long["difference"] = 100 * long["rank1"] - long["paper_rank1"]
    return long


def _cells(long: pd.DataFrame, detector: str, value: str):
    cells = long[long["detector"] == detector].set_index(["occlusion", "strategy"])[value]
    return lambda row, strategy: cells.get((row, strategy), np.nan)


def table1_markdown(long: pd.DataFrame, dataset: str, rows: list[str], strategies: list[str],
                    pretrained: dict | None = None) -> str:
    """The table as Markdown; ``pretrained`` (occlusion_fr.pretrained's record) says which bundle's
    models a run evaluated instead of training its own."""
    lines = [f"# Table 1: rank-1 identification under occlusion ({dataset}, test split)", "",
             "Rank-1 (%) by cosine nearest neighbour against the training split, probe and gallery features "
             "masked by the probe's feature discarding mask. Best strategy per row in bold."]
    if pretrained:
        lines += ["", f"Models (base CNN, segmenter, regions and mask dictionaries) from the bundle "
                      f"{pretrained['bundle']}, trained on {pretrained['dataset']} seed {pretrained['seed']} "
                      f"(manifest sha256 {pretrained['manifest_sha256'][:12]}), not trained in this run."]
    detectors = [d for d in DETECTORS if d in set(long["detector"])]
    titles = {"segmenter": "Regions chosen by the segmenter (the paper's method)",
              "oracle": "Regions chosen from the exact occlusion masks (oracle)"}
    for detector in detectors:
        lines += ["", f"## {titles.get(detector, detector)}", "",
                  strategy_grid(rows, strategies, _cells(long, detector, "rank1"),
                                lambda r, s, v, best: bold(f"{100 * v:.2f}", best))]
    if long["paper_rank1"].notna().any():
        ours, paper = _cells(long, "segmenter", "rank1"), _cells(long, "segmenter", "paper_rank1")
        lines += ["", "## Beside the paper (segmenter; ours / paper / difference in points)", "",
                  strategy_grid(rows, strategies, paper, lambda r, s, p, best: (
                      f"{100 * ours(r, s):.2f} / {p:.2f} / {100 * ours(r, s) - p:+.2f}"), unbolded_rows=rows)]
    masked = [s for s in strategies if s != NO_FDM]
    fdms, kept = _cells(long, "segmenter", "distinct_fdms"), _cells(long, "segmenter", "mean_kept_share")
    grid = strategy_grid(rows, masked, kept, lambda r, s, k, best: f"{int(fdms(r, s))} FDMs, {100 * k:.0f}% kept",
                         unbolded_rows=rows)
    lines += ["", "## Distinct FDMs and share of features kept (segmenter)", "", grid]
    return "\n".join(lines) + "\n"


def table1_metrics(long: pd.DataFrame) -> dict:
    """Rank-1 as nested {detector: {occlusion: {strategy: rank1}}}: the metrics file DVC reads
    (`dvc metrics show` / `diff` print it as detector.occlusion.strategy)."""
    metrics: dict = {}
    for row in long.itertuples(index=False):
        metrics.setdefault(row.detector, {}).setdefault(row.occlusion, {})[row.strategy] = round(float(row.rank1), 4)
    return metrics
