"""A run's pair verification (LFW ``pairs.txt`` protocol) under occlusion, with and without FDM.

Conditions: ``clean`` (both crops as detected) and, per test occlusion, the second image of
every pair occluded by that occlusion's renderer (the same renderer and per-image seed as the
occlusion sets). Strategies: ``none`` (plain embeddings) and each masking layout, where the
second image's predicted occlusion chooses the regions and both images are masked by their
FDM, as a probe and its gallery are in identification.

Only pairs of people the run never saw (in none of its splits) are scored; pairs whose images
have no crop (not found, unreadable, no face) or that a renderer cannot occlude are dropped,
and every drop is counted per fold.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from occlusion_fr.bundle import NO_REGION, REGIONS
from occlusion_fr.datasets.pairs import identity_disjoint
from occlusion_fr.evaluation.verification import tar_at_far, verification_summary
from occlusion_fr.io import atomic_path, save_figure, write_csv, write_json, write_text
from occlusion_fr.markdown import markdown_table
from occlusion_fr.method.embedding import Embedder, MethodSettings
from occlusion_fr.method.layout import MaskingLayout
from occlusion_fr.method.models import FaceModels, RunFiles
from occlusion_fr.method.selection import NO_FDM
from occlusion_fr.models.data import load_images, render_crops
from occlusion_fr.occlusions.renderers import Renderer
from occlusion_fr.unusable import require_usable

log = logging.getLogger(__name__)
CLEAN = "clean"


@dataclass(frozen=True)
class VerificationSettings:
    """The verification job's settings, built once from the config (rules/common.smk)."""

    occlusions: dict  # test occlusion -> its renderer's spec (the second image of a pair)
    overlap_threshold: float
    fars: tuple  # TAR is reported at each; the lowest sets the open-set thresholds
    seed: int  # the run seed: the renderers' per-image randomness
    precision: str
    dataset: str
    encoder: str  # the segmenter's
    method: dict  # occlusion_fr.method.embedding.MethodSettings' fields: the run's method
    methods: list  # further methods (MethodSettings' fields) scored beside it for the methods table
    # The folds whose pairs calibrate the open-set thresholds (the tool's); the others stay out of
    # them, so a benchmark can measure the thresholds' FAR on pairs they never saw. None: every fold.
    calibration_folds: tuple | None = None


def usable_pairs(pairs: pd.DataFrame, faces: pd.DataFrame, seen_identities) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(pairs to score, per fold: pairs, dropped for a seen identity, dropped for an image
    without a crop, kept)."""
    disjoint, counts = identity_disjoint(pairs, seen_identities)
    cropped = set(faces["image"])
    has_crops = disjoint["image1"].isin(cropped) & disjoint["image2"].isin(cropped)
    no_crop = (~has_crops).groupby(disjoint["fold"]).sum()
    counts = counts.rename(columns={"dropped": "seen_identity"})
    counts["no_crop"] = counts["fold"].map(no_crop).fillna(0).astype(int)
    counts["kept"] = counts["kept"] - counts["no_crop"]
    counts.insert(1, "pairs", counts["kept"] + counts["seen_identity"] + counts["no_crop"])
    return disjoint[has_crops].reset_index(drop=True), counts


def pair_scores(embedder: Embedder, maps1: torch.Tensor, maps2: torch.Tensor, occlusion2: np.ndarray,
                layout: MaskingLayout | None, overlap_threshold: float, rows1=None, rows2=None
                ) -> tuple[np.ndarray, list]:
    """Score of each pair (row i of maps1[rows1] with row i of maps2[rows2], every row without
    them), both masked by the FDM that the second image's occlusion (one per pair) selects; and
    the selections."""
    selections = layout.select(occlusion2, overlap_threshold) if layout else [()] * len(occlusion2)
    return embedder.pair_scores(maps1, maps2, selections, layout, rows1, rows2), selections


def verify_pairs(models: FaceModels, embedders: dict[str, Embedder], pairs: pd.DataFrame, faces: pd.DataFrame,
                 crops_dir, occlusions: dict[str, dict], region_layouts: dict[str, dict],
                 layouts: dict[str, MaskingLayout], overlap_threshold: float, seed: int,
                 fars=(1e-2, 1e-3)) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Score ``pairs`` (already identity-disjoint, every image cropped) in every condition and
    strategy, with each method of ``embedders`` (name -> embedder; the maps and occlusions come
    from ``models``). Returns (summary: one row per method, condition and strategy; scores: one
    row per pair, method, condition and strategy; per fold and condition, the pairs whose second
    image the occlusion's renderer could not use, which that condition leaves out)."""
    faces = faces.set_index("image", drop=False)
    images = pd.unique(pd.concat([pairs["image1"], pairs["image2"]]))
    crops = load_images(crops_dir, faces.loc[images, "crop"], desc="pair crops")
    row_of = {image: i for i, image in enumerate(images)}
    first, second = pairs["image1"].map(row_of).to_numpy(), pairs["image2"].map(row_of).to_numpy()
    maps = models.feature_maps(crops)
    clean_occlusion = models.occlusion(crops)

    seconds = pd.unique(pairs["image2"])
    second_rows = faces.loc[seconds].reset_index(drop=True)
    second_crops = crops[[row_of[image] for image in seconds]]
    summaries, scores, not_occluded = [], [], {}
    for condition in [CLEAN, *occlusions]:
        if condition == CLEAN:
            kept = np.ones(len(pairs), dtype=bool)
            maps2, index, occlusion2 = maps, second, clean_occlusion[second]
        else:
            renderer = Renderer(condition, occlusions[condition], region_layouts, seed, second_rows["image"])
            occluded, _, usable = render_crops(second_rows, second_crops, renderer)
            position = {image: i for i, image in enumerate(seconds[usable])}
            kept = pairs["image2"].isin(position).to_numpy()
            index = pairs.loc[kept, "image2"].map(position).to_numpy()
            maps2 = models.feature_maps(occluded)
            occlusion2 = models.occlusion(occluded)[index]
            if not usable.all():
                log.warning("%s: %d of %d second images could not be occluded; %d pairs dropped", condition,
                            (~usable).sum(), len(usable), (~kept).sum())
        not_occluded[condition] = (~pd.Series(kept)).groupby(pairs["fold"].to_numpy()).sum().astype(int)
        scored = pairs[kept]
        same, folds = scored["same"].to_numpy(bool), scored["fold"].to_numpy()
        for method, embedder in embedders.items():
            for name, layout in [(NO_FDM, None), *layouts.items()]:
                # The maps stay whole and rows pick the pairs' images: the embedders share one cache
                # of raw embeddings by maps, mask and rows, so each is made once per condition.
                values, selections = pair_scores(embedder, maps, maps2, occlusion2, layout, overlap_threshold,
                                                 first[kept], index)
                summary = verification_summary(values, same, folds, fars)
                summaries.append({"method": method, **summary_row(condition, name, summary, selections)})
                scores.append(pd.DataFrame({"method": method, "condition": condition, "strategy": name, "fold": folds,
                                            "image1": scored["image1"].to_numpy(),
                                            "image2": scored["image2"].to_numpy(), "same": same,
                                            "regions": ["+".join(s) for s in selections], "score": values}))
                log.info("%s / %s / %s: accuracy %.4f ± %.4f over %d pairs, TAR %s", method, condition, name,
                         summary["accuracy"], summary["accuracy_std"], summary["pairs"],
                         ", ".join(f"{t['tar']:.4f} at FAR {t['far_target']:g}" for t in summary["tar_at_far"]))
    return pd.DataFrame(summaries), pd.concat(scores, ignore_index=True), pd.DataFrame(not_occluded).rename_axis("fold")


def summary_row(condition: str, strategy: str, summary: dict, selections) -> dict:
    row = {"condition": condition, "strategy": strategy, "pairs": summary["pairs"], "accuracy": summary["accuracy"],
           "accuracy_std": summary["accuracy_std"], "accuracy_standard_error": summary["accuracy_standard_error"],
           "mean_regions": float(np.mean([len(s) for s in selections])) if selections else 0.0}
    for point in summary["tar_at_far"]:
        row[f"tar_at_far_{point['far_target']:g}"] = point["tar"]
        row[f"threshold_at_far_{point['far_target']:g}"] = point["threshold"]
    return row


def open_set_thresholds(scores: pd.DataFrame, far: float, folds=None) -> dict[str, float]:
    """Per strategy, the score threshold at ``far`` over every condition's impostor pairs (of
    ``folds`` only, when given): what ``identify`` and ``verify`` apply to a photo whose occlusion
    is unknown beforehand."""
    if folds is not None:
        scores = scores[scores["fold"].isin(folds)]
        if scores.empty:
            raise ValueError(f"verification.calibration_folds {list(folds)}: no scored pair in these folds (folds are "
                             "numbered from 0, as in verification.json's pairs_per_fold)")
    thresholds = {strategy: tar_at_far(group["score"].to_numpy(), group["same"].to_numpy(bool), far)["threshold"]
                  for strategy, group in scores.groupby("strategy", sort=False)}
    return {strategy: None if np.isnan(value) else value for strategy, value in thresholds.items()}


def tool_thresholds(scores: pd.DataFrame, fars, folds) -> dict:
    """The thresholds a bundle carries for ``identify`` and ``verify``, from the verification's
    pair scores of the calibration ``folds``: {"FAR" (%g): {strategy: {no_region, regions}}}.
    A comparison that discards no region is an unmasked one whatever the layout, so ``no_region``
    is no FDM's threshold over every condition's impostor pairs (the same pair gets the same
    verdict with any layout); ``regions`` is the layout's over its pairs that discard a region
    (masked impostors score higher), no FDM's where it has none."""
    calibration = scores[scores["fold"].isin(folds)]
    if calibration.empty:
        raise ValueError(f"verification.calibration_folds {list(folds)}: no scored pair in these folds (folds are "
                         "numbered from 0, as in verification.json's pairs_per_fold)")
    discarding = calibration["regions"].fillna("").astype(str) != ""
    out = {}
    for far in sorted(fars):
        unmasked = open_set_thresholds(calibration[calibration["strategy"] == NO_FDM], far)[NO_FDM]
        masked = open_set_thresholds(calibration[discarding], far) if discarding.any() else {}
        out[f"{far:g}"] = {strategy: {NO_REGION: unmasked,
                                      REGIONS: unmasked if masked.get(strategy) is None else masked[strategy]}
                           for strategy in dict.fromkeys(calibration["strategy"])}
    return out


def verification_markdown(summary: pd.DataFrame, counts: pd.DataFrame, dataset: str, far: float) -> str:
    """Accuracy (mean ± std over the folds) and TAR at ``far`` per condition (rows) and
    strategy (columns), and the pairs kept per fold."""
    strategies = list(dict.fromkeys(summary["strategy"]))
    conditions = list(dict.fromkeys(summary["condition"]))
    cells = summary.set_index(["condition", "strategy"])
    header = ["condition", *["no FDM" if s == NO_FDM else s for s in strategies]]

    def grid(text):
        return [[c, *[text(cells.loc[(c, s)]) for s in strategies]] for c in conditions]

    lines = [f"# Pair verification ({dataset}, identity-disjoint from the run)", "",
             "10-fold protocol of LFW's pairs.txt: each fold's threshold is the most accurate on the other nine. "
             "Conditions: both images clean, or the second image of every pair occluded. With a layout, the "
             "second image's predicted occlusion chooses the regions and both images are masked by their FDM.", "",
             "## Accuracy (%, mean ± std over folds)", "",
             markdown_table(header, grid(lambda r: f"{100 * r.accuracy:.2f} ± {100 * r.accuracy_std:.2f}")), "",
             f"## TAR (%) at FAR {far:g} (ROC over all folds)", "",
             markdown_table(header, grid(lambda r: f"{100 * r[f'tar_at_far_{far:g}']:.2f}")), "",
             "## Pairs per fold", "",
             markdown_table(list(counts.columns), counts.astype(str).to_numpy().tolist()), ""]
    return "\n".join(lines)


def run_verification(pairs: pd.DataFrame, faces: pd.DataFrame, crops_dir, split: pd.DataFrame, files: RunFiles,
                     settings: VerificationSettings, outputs: dict) -> pd.DataFrame:
    """The verification job: score the usable pairs and write ``outputs`` (table, metrics,
    report, roc, scores)."""
    seen = split["identity"].unique()
    kept, counts = usable_pairs(pairs, faces, seen)
    log.info("%d of %d pairs scored: %d with a person the run trained on, %d with an image without a crop",
             len(kept), len(pairs), counts["seen_identity"].sum(), counts["no_crop"].sum())
    require_usable(len(kept), pd.DataFrame({"file": ["pairs"], "reason": [
        f"no pair left: {counts['seen_identity'].sum()} with a person of the run's split, "
        f"{counts['no_crop'].sum()} with an image without a crop"]}),
        "pair verification", "pairs of people outside the run's split whose images were both cropped")
    method = MethodSettings(**settings.method)
    models, region_layouts, layouts = files.load(settings.encoder, settings.precision, method)
    methods = dict.fromkeys([method, *(MethodSettings(**m) for m in settings.methods)])
    embedders = {method_name(m): models.embedder.with_settings(m) for m in methods}
    every_summary, every_score, not_occluded = verify_pairs(
        models, embedders, kept, faces, crops_dir, settings.occlusions, region_layouts, layouts,
        settings.overlap_threshold, settings.seed, settings.fars)
    dropped = not_occluded.drop(columns=CLEAN).loc[:, lambda t: t.sum() > 0]
    counts = counts.join(dropped.add_prefix("not_occluded_"), on="fold")
    far = min(settings.fars)
    run_method = method_name(method)
    summary = every_summary[every_summary["method"] == run_method].drop(columns="method").reset_index(drop=True)
    scores = every_score[every_score["method"] == run_method].drop(columns="method").reset_index(drop=True)
    metrics = {"pairs": counts.sum(numeric_only=True).drop("fold").astype(int).to_dict(),
               # Pairs whose second image a renderer could not occlude are left out of that condition.
               "pairs_per_fold": counts.to_dict(orient="records"), "method": settings.method,
               "open_set_far": far, "open_set_folds": calibration_folds(settings, scores),
               "open_set_thresholds": open_set_thresholds(scores, far, settings.calibration_folds),
               # Every FAR's, for `--far` (the lowest is the default above).
               "open_set_thresholds_at_far": {f"{f:g}": open_set_thresholds(scores, f, settings.calibration_folds)
                                              for f in sorted(settings.fars)},
               "conditions": {c: {s: metric_values(row) for s, row in group.set_index("strategy").iterrows()}
                              for c, group in summary.groupby("condition", sort=False)}}
    write_csv(outputs["table"], summary)
    write_json(outputs["metrics"], metrics)
    write_text(outputs["report"], verification_markdown(summary, counts, settings.dataset, far))
    save_figure(outputs["roc"], roc_figure(scores, f"Pair verification ROC ({settings.dataset})"))
    with atomic_path(outputs["scores"]) as tmp:
        scores.to_csv(tmp, index=False, float_format="%.5f", compression="gzip")
    methods_table = method_comparison(every_summary, every_score, far, settings.calibration_folds)
    write_csv(outputs["methods_table"], methods_table)
    write_text(outputs["methods_report"], methods_markdown(methods_table, settings.dataset, far, run_method))
    return summary


def calibration_folds(settings: VerificationSettings, scores: pd.DataFrame) -> list[int]:
    """The folds the open-set thresholds are calibrated on."""
    folds = settings.calibration_folds if settings.calibration_folds is not None else scores["fold"].unique()
    return sorted(int(f) for f in folds)


def method_name(method: MethodSettings) -> str:
    return f"{method.position}, {method.normalisation}"


def method_comparison(summary: pd.DataFrame, scores: pd.DataFrame, far: float, folds=None) -> pd.DataFrame:
    """Per method and strategy: TAR at ``far`` per condition, the open-set threshold at ``far``
    over every condition's impostors (of the calibration ``folds``), and the clean TAR against
    the same method's no FDM."""
    rows = []
    for (method, strategy), group in summary.groupby(["method", "strategy"], sort=False):
        tar = group.set_index("condition")[f"tar_at_far_{far:g}"]
        threshold = open_set_thresholds(scores[(scores["method"] == method) & (scores["strategy"] == strategy)], far,
                                        folds)
        clean_none = summary[(summary["method"] == method) & (summary["strategy"] == NO_FDM)
                             & (summary["condition"] == CLEAN)][f"tar_at_far_{far:g}"].iloc[0]
        rows.append({"method": method, "strategy": strategy, "open_set_threshold": threshold[strategy],
                     "clean_tar_share_of_no_fdm": tar[CLEAN] / clean_none if clean_none else np.nan,
                     **{f"tar_{condition}": value for condition, value in tar.items()}})
    return pd.DataFrame(rows)


def methods_markdown(table: pd.DataFrame, dataset: str, far: float, run_method: str) -> str:
    conditions = [c.removeprefix("tar_") for c in table.columns if c.startswith("tar_")]
    cells = [[r["method"] + (" (the run's)" if r["method"] == run_method else ""),
              "no FDM" if r["strategy"] == NO_FDM else r["strategy"], f"{r['open_set_threshold']:.3f}",
              f"{100 * r['clean_tar_share_of_no_fdm']:.0f}%", *(f"{100 * r[f'tar_{c}']:.2f}" for c in conditions)]
             for _, r in table.iterrows()]
    header = ["method (FDM position, normalisation)", "strategy", f"threshold at FAR {far:g}",
              "clean TAR / no FDM's", *conditions]
    return "\n".join([f"# Pair verification by test-time method ({dataset}, identity-disjoint from the run)", "",
                      f"TAR (%) at FAR {far:g} per condition (ROC over all folds), the open-set threshold at FAR "
                      f"{far:g} over every condition's impostor pairs, and the clean TAR as a share of the same "
                      "method's no-FDM TAR. The scores of a masked pair are comparable with unmasked ones when "
                      "that share is near 100% and the thresholds agree.", "",
                      markdown_table(header, cells, left=2), ""])


def metric_values(row: pd.Series) -> dict:
    """A summary row as JSON numbers (NaN, e.g. TAR without impostor pairs, as null)."""
    return {key: int(value) if key == "pairs" else (None if np.isnan(value) else round(float(value), 4))
            for key, value in row.items() if key != "condition"}


def roc_figure(scores: pd.DataFrame, title: str):
    """TAR against FAR (log) per condition, one curve per strategy."""
    import matplotlib.pyplot as plt

    conditions = list(dict.fromkeys(scores["condition"]))
    columns = min(3, len(conditions))
    rows = -(-len(conditions) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3.4 * rows), squeeze=False)
    for ax, condition in zip(axes.ravel(), conditions):
        for strategy, group in scores[scores["condition"] == condition].groupby("strategy", sort=False):
            far, tar = roc_curve(group["score"].to_numpy(), group["same"].to_numpy(bool))
            ax.plot(far, tar, label="no FDM" if strategy == NO_FDM else strategy)
        ax.set_xscale("log")
        ax.set_xlim(1e-3, 1)
        ax.set_ylim(0, 1.01)
        ax.set_title(condition)
        ax.set_xlabel("FAR")
        ax.set_ylabel("TAR")
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(conditions):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def roc_curve(scores: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(FAR, TAR) accepting score > t for t at each distinct score, highest first."""
    order = np.argsort(-scores, kind="stable")
    accepted_same = np.cumsum(same[order])
    accepted_different = np.cumsum(~same[order])
    last = np.r_[np.diff(scores[order]) != 0, True]  # one point per distinct score
    return (accepted_different[last] / max(1, (~same).sum()), accepted_same[last] / max(1, same.sum()))
