"""Open-set identification of people the models never saw: the decisive test of the method.

The people outside the dataset (``occlusion_fr.datasets.outsiders``) whose faces were found,
minus anyone in the run's splits: each person with two or more faces is enrolled with the first
(clean), the rest are genuine probes; people with one face are impostor probes. Probes are
scored clean and under every test occlusion (genuine and impostor probes alike occluded by the
occlusion's renderer), against the enrolled gallery, per strategy:

- ``none``: no FDM;
- per layout, the regions chosen by the ``segmenter`` (the method), by the renderer's exact mask
  (``oracle``), and ``random``: the segmenter's selection, but a random mask keeping as many
  feature elements as its FDM, on probe and gallery (one seeded draw per selection).

Per cell: rank-1 of the genuine probes; DIR at each FAR (detection and identification rate: the
share of genuine probes ranked first with a score above the threshold that lets FAR of the
impostor probes' best scores through); and a paired exact McNemar test of each cell's rank-1
against no FDM's on the same probes.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from occlusion_fr.evaluation.claims import mcnemar_exact
from occlusion_fr.evaluation.fdm_controls import random_like
from occlusion_fr.evaluation.verification import tar_at_far
from occlusion_fr.markdown import markdown_table
from occlusion_fr.method.embedding import MaskedGallery
from occlusion_fr.method.layout import MaskingLayout
from occlusion_fr.method.models import FaceModels
from occlusion_fr.method.selection import NO_FDM, Selection, group_rows
from occlusion_fr.models.data import load_images, render_crops
from occlusion_fr.occlusions.renderers import Renderer

log = logging.getLogger(__name__)
CLEAN = "clean"
SEGMENTER, ORACLE, RANDOM = "segmenter", "oracle", "random"


@dataclass(frozen=True)
class OpenSetSettings:
    """The open-set job's settings, built once from the config (rules/common.smk)."""

    occlusions: dict  # test occlusion -> its renderer's spec
    overlap_threshold: float
    fars: tuple
    seed: int  # the run seed: the renderers' per-image randomness and the random control's draws
    precision: str
    dataset: str
    encoder: str  # the segmenter's
    method: dict  # occlusion_fr.method.embedding.MethodSettings' fields
    max_impostors: int | None  # impostor probes drawn from the single-face people (None: all)


def protocol(faces: pd.DataFrame, seen, max_impostors: int | None, seed: int
             ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(enrolled, genuine probes, impostor probes): rows of ``faces`` of people not in ``seen``;
    each person's first face (by image name) is enrolled when they have two or more."""
    faces = faces[~faces["identity"].isin(set(seen))].sort_values("image", ignore_index=True)
    count = faces["identity"].map(faces["identity"].value_counts())
    several = faces[count >= 2]
    enrolled = several.groupby("identity", sort=False).head(1)
    impostors = faces[count == 1]
    if max_impostors is not None and len(impostors) > max_impostors:
        pick = np.random.default_rng([seed, 0x0BE5]).choice(len(impostors), max_impostors, replace=False)
        impostors = impostors.iloc[np.sort(pick)]
    return (enrolled.reset_index(drop=True), several.drop(enrolled.index).reset_index(drop=True),
            impostors.reset_index(drop=True))


def open_set_cell(genuine_ranks: np.ndarray, genuine_best: np.ndarray, impostor_best: np.ndarray, fars) -> dict:
    """rank-1 of the genuine probes, and per FAR the threshold on the impostors' best scores and DIR."""
    row = {"genuine_probes": len(genuine_ranks), "impostor_probes": len(impostor_best),
           "rank1": float(np.mean(genuine_ranks == 0))}
    same = np.r_[np.ones(len(genuine_best), bool), np.zeros(len(impostor_best), bool)]
    for far in fars:
        threshold = tar_at_far(np.r_[genuine_best, impostor_best], same, far)["threshold"]
        row[f"threshold_at_far_{far:g}"] = threshold
        row[f"dir_at_far_{far:g}"] = float(np.mean((genuine_ranks == 0) & (genuine_best > threshold)))
    return row


def random_control_scores(gallery: MaskedGallery, maps: torch.Tensor, selections: list[Selection], seed: int
                          ) -> np.ndarray:
    """(N, identities) scores with, per selection, a random mask keeping as many elements as its
    FDM on probe and gallery (one draw per selection, from ``seed`` and the selection)."""
    scores = np.empty((len(selections), len(np.unique(gallery.labels))))
    for selection, rows in group_rows(selections).items():
        if not selection:
            scores[rows] = gallery.selection_scores(maps, (), rows)[1]
            continue
        rng = np.random.default_rng([seed, zlib.crc32("+".join(selection).encode())])
        mask = random_like(gallery.fdm(selection), rng)
        embedded = gallery.embeddings((RANDOM, selection), mask)
        scores[rows] = gallery.scores(gallery.embedder(maps, mask, rows=rows, keep=False), embedded, mask)[1]
    return scores


def score_condition(galleries: dict[str, MaskedGallery], genuine_maps, genuine_labels, impostor_maps,
                    occlusion: dict[str, np.ndarray | None], overlap_threshold: float,
                    seed: int) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(strategy, detector) -> (genuine ranks, genuine and impostor probes' best scores) for one
    condition. ``occlusion``: detector -> boolean (N, H, W) over genuine then impostor probes."""
    maps = torch.cat([genuine_maps, impostor_maps])
    n = len(genuine_maps)
    out = {}
    for strategy, gallery in galleries.items():
        layout = gallery.layout
        detectors = {NO_FDM: [()] * len(maps)} if layout is None else {
            detector: layout.select(masks, overlap_threshold) for detector, masks in occlusion.items()
            if masks is not None}
        for detector, selections in detectors.items():
            identities, scores = gallery.identity_scores(maps, selections)
            out[(strategy, detector)] = (identities, scores)
            if detector == SEGMENTER:
                out[(strategy, RANDOM)] = (identities, random_control_scores(gallery, maps, selections, seed))
    results = {}
    for key, (identities, scores) in out.items():
        truth = np.searchsorted(identities, genuine_labels)
        own = scores[np.arange(n), truth]
        ranks = (scores[:n] > own[:, None]).sum(1)
        results[key] = (ranks, scores[:n].max(1), scores[n:].max(1))
    return results


def run_open_set(faces: pd.DataFrame, crops_dir, seen, models: FaceModels, layouts: dict[str, MaskingLayout],
                 region_layouts: dict[str, dict], settings: OpenSetSettings) -> tuple[pd.DataFrame, dict]:
    """One row per condition, strategy and detector (rank-1, DIR and threshold per FAR, McNemar
    against no FDM), and the protocol's counts."""
    enrolled, genuine, impostors = protocol(faces, seen, settings.max_impostors, settings.seed)
    if enrolled.empty or genuine.empty or impostors.empty:
        raise ValueError(f"open set: {len(enrolled)} people enrolled, {len(genuine)} genuine and {len(impostors)} "
                         "impostor probes; each must be at least one (people outside the dataset with two or more "
                         "faces, and with one)")
    gallery_maps = models.feature_maps(load_images(crops_dir, enrolled["crop"], desc="enrolled"))
    galleries = {NO_FDM: MaskedGallery(models.embedder, gallery_maps, enrolled["identity"].to_numpy()),
                 **{name: MaskedGallery(models.embedder, gallery_maps, enrolled["identity"].to_numpy(), layout)
                    for name, layout in layouts.items()}}
    probes = pd.concat([genuine, impostors], ignore_index=True)
    crops = load_images(crops_dir, probes["crop"], desc="probes")
    rows = []
    for condition in [CLEAN, *settings.occlusions]:
        if condition == CLEAN:
            occluded, exact, usable = crops, np.zeros((len(crops), *crops.shape[2:]), bool), np.ones(len(crops), bool)
        else:
            renderer = Renderer(condition, settings.occlusions[condition], region_layouts, settings.seed,
                                probes["image"])
            occluded, exact, usable = render_crops(probes, crops, renderer)
        kept_genuine = usable[:len(genuine)]
        maps = models.feature_maps(occluded)
        occlusion = {SEGMENTER: models.occlusion(occluded), ORACLE: exact}
        results = score_condition(galleries, maps[:kept_genuine.sum()],
                                  genuine["identity"].to_numpy()[kept_genuine], maps[kept_genuine.sum():], occlusion,
                                  settings.overlap_threshold, settings.seed)
        baseline = results[(NO_FDM, NO_FDM)][0] == 0
        for (strategy, detector), (ranks, genuine_best, impostor_best) in results.items():
            right = ranks == 0
            rows.append({"condition": condition, "strategy": strategy, "detector": detector,
                         **open_set_cell(ranks, genuine_best, impostor_best, settings.fars),
                         "only_fdm": int((right & ~baseline).sum()), "only_no_fdm": int((~right & baseline).sum()),
                         "p_value": mcnemar_exact(int((right & ~baseline).sum()), int((~right & baseline).sum()))})
        log.info("%s: %d genuine, %d impostor probes; rank-1 %s", condition, kept_genuine.sum(),
                 usable[len(genuine):].sum(), ", ".join(f"{s}/{d} {np.mean(r[0] == 0):.3f}" for (s, d), r in results.items()))
    counts = {"people_enrolled": int(len(enrolled)), "genuine_probes": int(len(genuine)),
              "impostor_probes": int(len(impostors)), "impostor_people_available": int(
                  (faces["identity"].map(faces["identity"].value_counts()) == 1).sum())}
    return pd.DataFrame(rows), counts


def open_set_markdown(table: pd.DataFrame, counts: dict, dataset: str, fars) -> str:
    strategies = list(dict.fromkeys(table["strategy"]))
    conditions = list(dict.fromkeys(table["condition"]))
    columns = [(NO_FDM, NO_FDM)] + [(s, d) for s in strategies if s != NO_FDM for d in (SEGMENTER, ORACLE, RANDOM)
                                     if ((table["strategy"] == s) & (table["detector"] == d)).any()]
    cells = table.set_index(["condition", "strategy", "detector"])
    header = ["condition", *("no FDM" if s == NO_FDM else f"{s} ({d})" for s, d in columns)]

    def grid(value):
        return [[c, *(value(cells.loc[(c, s, d)]) if (c, s, d) in cells.index else "" for s, d in columns)]
                for c in conditions]

    def marked(row, text):  # significant differences from no FDM (p < 0.05) get a star
        return text + ("*" if row["p_value"] < 0.05 and (row.name[1] != NO_FDM) else "")

    lines = [f"# Open-set identification of people the models never saw ({dataset})", "",
             f"{counts['people_enrolled']:,} people outside the dataset enrolled with one clean face each; "
             f"{counts['genuine_probes']:,} genuine probes (their other faces) and {counts['impostor_probes']:,} "
             f"impostor probes (people with one face), clean and each occluded by a test occlusion. Strategies: no "
             "FDM; per layout the regions chosen by the segmenter (the method), by the exact occlusion mask (oracle) "
             "and a random mask of the segmenter's FDM's size (random). * : McNemar p < 0.05 against no FDM on the "
             "same genuine probes (rank-1).", "",
             "## Rank-1 (%) of the genuine probes", "",
             markdown_table(header, grid(lambda r: marked(r, f"{100 * r['rank1']:.1f}"))), ""]
    for far in fars:
        lines += [f"## DIR (%) at FAR {far:g} against the impostor probes", "",
                  markdown_table(header, grid(lambda r: f"{100 * r[f'dir_at_far_{far:g}']:.1f}")), ""]
    return "\n".join(lines)
