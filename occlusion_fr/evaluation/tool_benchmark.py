"""Whether the tool's numbers hold: a run's bundle, through ``occlusion_fr.api.Recognizer`` (the
path of ``occlusion-fr identify|verify``), on data that never set its thresholds.

- verify: the pairs file's identity-disjoint pairs of the folds outside the bundle's calibration
  folds (``open_set_folds``), clean and with the second face under each occlusion (the
  verification's renderers and per-image seeds): the measured FAR (impostor pairs verified) and
  TAR (genuine pairs verified) against the FAR the bundle declares, per layout and calibrated FAR.
- identify, closed set: the run's test probes (clean and every test occlusion set, as the run
  rendered them) against the bundle's gallery (the training split): the tool's rank-1 beside
  Table 1's for the segmenter's regions; the two are the same method and must agree.
- identify, open set: people outside the dataset with one face (never in the gallery) as probes:
  the share the tool names instead of answering ``unknown``; its best score is the maximum over
  the N gallery faces, so up to about N x FAR (the bundle's default FAR).
- photos: a few held-out pairs from their original photos through ``verify`` (detection and
  cropping included): how far their scores are from the same pairs' crop scores.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from occlusion_fr.api import UNKNOWN, PhotoError, Recognizer
from occlusion_fr.evaluation.open_set import protocol
from occlusion_fr.evaluation.pair_verification import CLEAN, usable_pairs
from occlusion_fr.markdown import markdown_table
from occlusion_fr.method.selection import NO_FDM
from occlusion_fr.models.data import load_images, render_crops
from occlusion_fr.occlusions.renderers import Renderer

log = logging.getLogger(__name__)
BATCH = 256  # faces per call of the batched API: bounds memory, not results


@dataclass(frozen=True)
class ToolBenchmarkSettings:
    """Built once from the config (rules/common.smk)."""

    occlusions: dict  # test occlusion -> its renderer's spec: verify's second face, identify's probe sets
    seed: int  # the run seed: the renderers' per-image randomness, the outsiders' draw
    photo_pairs: int  # held-out pairs also verified from their photos
    max_impostors: int | None  # outsider impostor probes for identify (None: all)


def crops_of(images: np.ndarray) -> list[np.ndarray]:
    """(N, 3, H, W) uint8 tensor -> list of (H, W, 3) arrays, as the API takes them."""
    return list(images.permute(0, 2, 3, 1).numpy())


def batched(function, *columns, **keywords) -> list:
    answers = []
    for start in range(0, len(columns[0]), BATCH):
        answers += function(*(c[start:start + BATCH] for c in columns), **keywords)
    return answers


def held_out_pairs(recognizer: Recognizer, pairs: pd.DataFrame, faces: pd.DataFrame) -> pd.DataFrame:
    """The identity-disjoint, cropped pairs of the folds that did not calibrate the thresholds."""
    folds = recognizer.bundle.open_set_folds
    if folds is None:
        raise ValueError(f"{recognizer.bundle.folder}: the bundle has no open-set thresholds (its run had no pairs "
                         "file), so there is nothing to measure")
    kept, _ = usable_pairs(pairs, faces, np.unique(recognizer.gallery.identities))
    held_out = kept[~kept["fold"].isin(folds)].reset_index(drop=True)
    if held_out.empty:
        raise ValueError(f"no pair outside the calibration folds {folds} (verification.calibration_folds): every "
                         "fold calibrated the thresholds, so none can measure them")
    return held_out


def verify_benchmark(recognizer: Recognizer, pairs: pd.DataFrame, faces: pd.DataFrame, crops_dir,
                     region_layouts: dict, settings: ToolBenchmarkSettings) -> pd.DataFrame:
    """One row per condition, layout and calibrated FAR: measured FAR and TAR, pair counts."""
    faces = faces.set_index("image", drop=False)
    first = crops_of(load_images(crops_dir, faces.loc[pairs["image1"], "crop"], desc="first faces"))
    second_rows = faces.loc[pairs["image2"]].reset_index(drop=True)
    second = load_images(crops_dir, second_rows["crop"], desc="second faces")
    rows = []
    for condition in [CLEAN, *settings.occlusions]:
        if condition == CLEAN:
            kept, occluded = np.ones(len(pairs), bool), second
        else:
            renderer = Renderer(condition, settings.occlusions[condition], region_layouts, settings.seed,
                                second_rows["image"])
            occluded, _, kept = render_crops(second_rows, second, renderer)
        same = pairs["same"].to_numpy(bool)[kept]
        first_kept = [crop for crop, keep in zip(first, kept) if keep]
        for layout in [NO_FDM, *recognizer.layouts]:
            start = time.perf_counter()
            answers = batched(recognizer.verify_crops, first_kept, crops_of(occluded), layout=layout)
            seconds = time.perf_counter() - start
            scores = np.array([a["score"] for a in answers])
            discarding = np.array([bool(a["discarded_regions"]) for a in answers])
            for far in sorted(map(float, recognizer.bundle.open_set_thresholds_at_far)):
                # The API's verdict at each calibrated FAR: each pair's threshold (its group's),
                # strictly above accepts.
                chosen = recognizer.masking_layout(layout)
                thresholds = np.array([recognizer.threshold(chosen, far, d)[0] for d in discarding])
                verified = scores > thresholds
                rows.append({"condition": condition, "layout": layout,
                             "default_layout": layout == recognizer.settings.default_layout,
                             "declared_far": far, "discarding_share": float(discarding.mean()),
                             "threshold": float(np.mean(thresholds)), "impostor_pairs": int((~same).sum()),
                             "genuine_pairs": int(same.sum()), "false_accepts": int((verified & ~same).sum()),
                             "measured_far": float(verified[~same].mean()), "tar": float(verified[same].mean()),
                             "ms_per_pair": 1000 * seconds / len(answers)})
                log.info("verify %s / %s: FAR %.4f (declared %g), TAR %.4f over %d impostor and %d genuine pairs",
                         condition, layout, rows[-1]["measured_far"], far, rows[-1]["tar"],
                         rows[-1]["impostor_pairs"], rows[-1]["genuine_pairs"])
            default = np.array([a["verified"] for a in answers], bool)
            if not np.array_equal(default, scores > np.array([a["threshold"] for a in answers])):
                raise AssertionError(f"verify {condition} / {layout}: the API's verdicts disagree with its threshold")
    table = pd.DataFrame(rows)
    table["far_ratio"] = table["measured_far"] / table["declared_far"]
    return table


def identify_benchmark(recognizer: Recognizer, probe_sets: dict[str, tuple[list, np.ndarray]],
                       table1: pd.DataFrame) -> pd.DataFrame:
    """One row per probe set and layout: the tool's rank-1 (its best identity, whatever the
    threshold) beside Table 1's (segmenter) and the share it answers ``unknown``."""
    pipeline = table1[table1["detector"] == "segmenter"].set_index(["occlusion", "strategy"])["rank1"]
    rows = []
    for name, (crops, identities) in probe_sets.items():
        for layout in [NO_FDM, *recognizer.layouts]:
            answers = batched(recognizer.identify_crops, crops, layout=layout, top_k=1)
            best = np.array([a["top"][0]["identity"] for a in answers])
            rank1 = float(np.mean(best == identities))
            rows.append({"probe_set": name, "layout": layout, "probes": len(answers), "tool_rank1": rank1,
                         "table1_rank1": float(pipeline.get((name, layout), np.nan)),
                         "unknown": float(np.mean([a["identity"] == UNKNOWN for a in answers]))})
            log.info("identify %s / %s: rank-1 %.4f (Table 1 %.4f)", name, layout, rank1, rows[-1]["table1_rank1"])
    table = pd.DataFrame(rows)
    table["difference_points"] = 100 * (table["tool_rank1"] - table["table1_rank1"])
    return table


def outsider_benchmark(recognizer: Recognizer, outsiders: pd.DataFrame, crops_dir,
                       settings: ToolBenchmarkSettings) -> pd.DataFrame:
    """Per layout: the share of outsider impostor probes (people with one face, none in the
    gallery) that ``identify`` names, and the N x FAR bound."""
    _, _, impostors = protocol(outsiders, np.unique(recognizer.gallery.identities), settings.max_impostors,
                               settings.seed)
    crops = crops_of(load_images(crops_dir, impostors["crop"], desc="outsider impostors"))
    faces = len(recognizer.gallery.identities)
    rows = []
    for layout in [NO_FDM, *recognizer.layouts]:
        answers = batched(recognizer.identify_crops, crops, layout=layout, top_k=1)
        named = float(np.mean([a["identity"] != UNKNOWN for a in answers]))
        rows.append({"layout": layout, "probes": len(answers), "named": named, "declared_far": answers[0]["far"],
                     "gallery_faces": faces, "bound": min(1.0, faces * answers[0]["far"])})
    return pd.DataFrame(rows)


def photo_benchmark(recognizer: Recognizer, pairs: pd.DataFrame, faces: pd.DataFrame, photos_dir, crops_dir,
                    settings: ToolBenchmarkSettings) -> pd.DataFrame:
    """The first ``photo_pairs`` held-out pairs verified from their photos (the console script's
    path) and from their crops: scores side by side, with the photo call's time; a photo the
    tool refuses (no face found: its detector may differ from the dataset's) is a row with its
    error."""
    chosen = pairs.head(settings.photo_pairs)
    faces = faces.set_index("image", drop=False)
    rows = []
    for pair in chosen.itertuples(index=False):
        crops = crops_of(load_images(crops_dir, faces.loc[[pair.image1, pair.image2], "crop"], desc="pair"))
        crop = recognizer.verify_crops(crops[:1], crops[1:])[0]
        row = {"image1": pair.image1, "image2": pair.image2, "same": bool(pair.same), "crop_score": crop["score"]}
        try:
            photo = recognizer.verify(f"{photos_dir}/{pair.image1}", f"{photos_dir}/{pair.image2}")
        except PhotoError as error:
            rows.append({**row, "photo_score": np.nan, "same_answer": False, "seconds": np.nan, "error": str(error)})
            continue
        rows.append({**row, "photo_score": photo["score"], "same_answer": photo["verified"] == crop["verified"],
                     "seconds": photo["time"], "error": ""})
    return pd.DataFrame(rows)


def tool_benchmark_markdown(verify: pd.DataFrame, identify: pd.DataFrame, outsiders: pd.DataFrame,
                            photos: pd.DataFrame, bundle: str, folds: list) -> str:
    verify_rows = [[r.condition, "no FDM" if r.layout == NO_FDM else r.layout, f"{r.declared_far:g}",
                    f"{100 * r.discarding_share:.0f}", f"{r.threshold:.3f}", f"{r.measured_far:.4f} ({r.false_accepts}/{r.impostor_pairs})",
                    f"{r.far_ratio:.2f}", f"{100 * r.tar:.1f}", f"{r.ms_per_pair:.1f}"]
                   for r in verify.itertuples(index=False)]
    identify_rows = [[r.probe_set, "no FDM" if r.layout == NO_FDM else r.layout, str(r.probes),
                      f"{100 * r.tool_rank1:.2f}", f"{100 * r.table1_rank1:.2f}", f"{r.difference_points:+.2f}",
                      f"{100 * r.unknown:.1f}"] for r in identify.itertuples(index=False)]
    outsider_rows = [["no FDM" if r.layout == NO_FDM else r.layout, str(r.probes), f"{r.declared_far:g}",
                      f"{100 * r.named:.2f}", f"{100 * r.bound:.1f}"] for r in outsiders.itertuples(index=False)]
    scored = photos[photos["error"] == ""]
    gap = (scored["photo_score"] - scored["crop_score"]).abs()
    return "\n".join([
        f"# Does the tool's answer hold? (`{bundle}`)", "",
        "Through `occlusion_fr.api.Recognizer`, the path of `occlusion-fr identify|verify`, on data that never set "
        f"the bundle's thresholds (they were calibrated on folds {folds} of the pairs file).", "",
        "## verify: held-out identity-disjoint pairs", "",
        "Second face clean or occluded; FAR = impostor pairs verified, TAR = genuine pairs verified, each pair "
        "against the bundle's threshold for the layout and its group (a region discarded or none).", "",
        markdown_table(["condition", "layout", "declared FAR", "pairs discarding a region (%)", "mean threshold",
                        "measured FAR", "measured / declared", "TAR (%)", "ms per pair"], verify_rows, left=2), "",
        "## identify: the run's test probes against its training split", "",
        "The tool's rank-1 (its best identity) beside Table 1's for the segmenter's regions, and the share it "
        "answers unknown at the bundle's threshold.", "",
        markdown_table(["probe set", "layout", "probes", "tool rank-1 (%)", "Table 1 rank-1 (%)", "difference (points)",
                        "unknown (%)"], identify_rows, left=2), "",
        "## identify: people outside the dataset (one face each, never enrolled)", "",
        "At the bundle's default FAR; the best score is the maximum over every gallery face, so an unknown "
        "person passes a one-to-one threshold up to about (gallery faces x FAR) of the time.", "",
        markdown_table(["layout", "probes", "FAR", "named instead of unknown (%)", "bound: gallery faces x FAR (%)"],
                       outsider_rows), "",
        "## verify from photos (detection and cropping included)", "",
        f"{len(photos)} held-out pairs, {len(scored)} with a face found in both photos: largest |photo score - crop "
        f"score| {gap.max():.4f}, same answer for {int(scored['same_answer'].sum())} of {len(scored)}, "
        f"{scored['seconds'].median():.2f} s per call (median).", ""])
