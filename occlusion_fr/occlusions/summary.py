"""Counts and label quality over all occlusion sets."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from occlusion_fr.markdown import markdown_table



def set_name(index_csv) -> tuple[str, str]:
    """(split, occlusion) from ``.../occlusions/{split}/{occlusion}.csv``."""
    path = Path(index_csv)
    return path.parent.name, path.stem.removesuffix("_skipped")


def summarise(index_csvs, skipped_csvs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per set: counts, label and exact fractions, mean IoU; all skipped images)."""
    rows, skipped = [], []
    for index_csv, skipped_csv in zip(index_csvs, skipped_csvs):
        split, occlusion = set_name(index_csv)
        index = pd.read_csv(index_csv)
        gone = pd.read_csv(skipped_csv, keep_default_na=False)
        skipped.append(gone.assign(split=split, occlusion=occlusion))
        rows.append({"split": split, "occlusion": occlusion, "images": len(index), "skipped": len(gone),
                     "label_fraction": index["label_fraction"].mean(), "exact_fraction": index["exact_fraction"].mean(),
                     "raw_iou": index["raw_iou"].mean(), "iou": index["iou"].mean()})
    columns = ["split", "occlusion", "image", "identity", "reason"]
    skipped_df = pd.concat(skipped, ignore_index=True)[columns] if skipped else pd.DataFrame(columns=columns)
    return pd.DataFrame(rows), skipped_df


def summary_markdown(table: pd.DataFrame, skipped: pd.DataFrame, dataset: str) -> str:
    lines = [f"# Occlusion sets ({dataset})", "",
             "Label IoU: derived label (|original - occluded| > threshold) against the renderer's exact mask, "
             "mean over images, before (raw) and after morphology.", "",
             markdown_table(["split", "occlusion", "images", "skipped", "occluded share (exact)", "label IoU raw",
                             "label IoU"],
                            [[r.split, r.occlusion, r.images, r.skipped, _fmt(r.exact_fraction, True), _fmt(r.raw_iou),
                              _fmt(r.iou)] for r in table.itertuples(index=False)], left=2)]
    lines += ["", "## Skipped images by reason", ""]
    if skipped.empty:
        lines.append("None.")
    else:
        counts = skipped.groupby(["split", "occlusion", "reason"]).size().reset_index(name="images")
        lines += ["| split | occlusion | reason | images |", "|---|---|---|---:|"]
        lines += [f"| {r.split} | {r.occlusion} | {r.reason} | {r.images} |" for r in counts.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def _fmt(value, percent: bool = False) -> str:
    if pd.isna(value):
        return "n/a"
    return f"{100 * value:.1f}%" if percent else f"{value:.3f}"
