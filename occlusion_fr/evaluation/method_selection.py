"""The test-time method chosen on validation data: for each method (where the FDM multiplies,
how masked scores are normalised) and each strategy, the validation probes (clean and occluded
crops of the validation split, regions chosen by the segmenter) are identified against the
training split, and their scores are read as an open-set test: a probe's best score per
identity is a genuine score for its own identity and an impostor score for every other one.

A method makes masked scores comparable when a layout's threshold at the FAR (over every probe
set's impostor scores) accepts about as many clean genuine probes as no FDM's does: that share
must reach ``min_clean_share`` for every layout; among those methods the best mean validation
rank-1 over the occluded sets wins. The test split is never read.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from occlusion_fr.evaluation.strategies import ProbeSet
from occlusion_fr.evaluation.verification import tar_at_far
from occlusion_fr.markdown import bold, markdown_table
from occlusion_fr.method.embedding import Embedder, MaskedGallery, MethodSettings
from occlusion_fr.method.layout import MaskingLayout
from occlusion_fr.method.selection import NO_FDM

CLEAN, DETECTOR = "clean", "segmenter"


def method_name(method: MethodSettings) -> str:
    return f"{method.position}, {method.normalisation}"


def open_set_scores(gallery: MaskedGallery, probes: ProbeSet, overlap_threshold: float) -> tuple[np.ndarray, ...]:
    """(ranks, genuine scores, impostor scores) of a probe set: each probe masked by the FDM of
    the regions the segmenter finds occluded (none without a layout), the gallery alike."""
    layout = gallery.layout
    selections = probes.selections(layout, DETECTOR, overlap_threshold) if layout else [()] * len(probes.labels)
    identities, scores = gallery.identity_scores(probes.maps, selections)
    return genuine_and_impostor(identities, scores, probes.labels)


def genuine_and_impostor(identities: np.ndarray, scores: np.ndarray, labels) -> tuple[np.ndarray, ...]:
    """(ranks, each probe's score for its own identity, the scores for every other identity) of
    probes whose identities are all in the gallery."""
    truth = np.searchsorted(identities, np.asarray(labels))
    own = scores[np.arange(len(scores)), truth]
    others = np.ones_like(scores, dtype=bool)
    others[np.arange(len(scores)), truth] = False
    return (scores > own[:, None]).sum(1), own, scores[others]


def method_selection(embedder: Embedder, gallery_maps, gallery_labels, probe_sets: list[ProbeSet],
                     layouts: list[MaskingLayout], methods: list[MethodSettings], overlap_threshold: float,
                     far: float) -> pd.DataFrame:
    """One row per method and strategy: validation rank-1 per probe set, the open-set threshold
    at ``far`` over every set's impostor scores and the share of clean genuine scores above it."""
    rows = []
    for method in methods:
        method_embedder = Embedder(embedder.model, embedder.device, method, gallery_maps, embedder.cache)
        for layout in [None, *layouts]:
            gallery = MaskedGallery(method_embedder, gallery_maps, gallery_labels, layout)
            results = {probes.name: open_set_scores(gallery, probes, overlap_threshold) for probes in probe_sets}
            impostors = np.concatenate([impostor for _, _, impostor in results.values()])
            threshold = tar_at_far(np.r_[impostors, results[CLEAN][1]],
                                   np.r_[np.zeros(len(impostors), bool), np.ones(len(results[CLEAN][1]), bool)],
                                   far)["threshold"]
            rows.append({"method": method_name(method), "position": method.position,
                         "normalisation": method.normalisation, "strategy": layout.name if layout else NO_FDM,
                         "threshold": threshold, "clean_tar": float(np.mean(results[CLEAN][1] > threshold)),
                         **{f"rank1_{name}": float(np.mean(ranks == 0)) for name, (ranks, _, _) in results.items()}})
    table = pd.DataFrame(rows)
    none = table[table["strategy"] == NO_FDM].set_index("method")["clean_tar"]
    table["clean_tar_share"] = table["clean_tar"] / table["method"].map(none)
    occluded = [c for c in table.columns if c.startswith("rank1_") and c != f"rank1_{CLEAN}"]
    table["occluded_rank1"] = table[occluded].mean(axis=1)
    return table


def choose_method(table: pd.DataFrame, min_clean_share: float) -> str:
    """The method whose every layout keeps ``min_clean_share`` of no FDM's clean TAR, with the
    best mean occluded validation rank-1 over its layouts (the first such method on ties); if
    none qualifies, the one with the highest worst-layout share."""
    layouts = table[table["strategy"] != NO_FDM]
    worst_share = layouts.groupby("method", sort=False)["clean_tar_share"].min()
    rank1 = layouts.groupby("method", sort=False)["occluded_rank1"].mean()
    qualified = worst_share[worst_share >= min_clean_share].index
    if len(qualified) == 0:
        return str(worst_share.idxmax())
    return str(rank1[qualified].idxmax())


def method_selection_markdown(table: pd.DataFrame, chosen: str, dataset: str, far: float, min_clean_share: float
                              ) -> str:
    sets = [c.removeprefix("rank1_") for c in table.columns if c.startswith("rank1_")]
    cells = [[bold(r.method, r.method == chosen), "no FDM" if r.strategy == NO_FDM else r.strategy,
              f"{r.threshold:.3f}", f"{100 * r.clean_tar:.1f}", f"{100 * r.clean_tar_share:.0f}%",
              *(f"{100 * getattr(r, f'rank1_{s}'):.1f}" for s in sets)] for r in table.itertuples(index=False)]
    header = ["method (FDM position, normalisation)", "strategy", f"threshold at FAR {far:g}", "clean TAR",
              "clean TAR / no FDM's", *(f"rank-1 {s}" for s in sets)]
    return "\n".join([
        f"# The test-time method chosen on validation ({dataset}, validation split; chosen: {chosen})", "",
        f"Validation probes against the training split, regions chosen by the segmenter. Open-set reading: a "
        f"probe's best score per identity is genuine for its own identity, an impostor score for the others; the "
        f"threshold lets FAR {far:g} of every set's impostor scores through, and clean TAR is the share of clean "
        f"genuine scores above it. The chosen method keeps at least {100 * min_clean_share:.0f}% of no FDM's clean "
        f"TAR with every layout and has the best mean occluded rank-1 among those.", "",
        markdown_table(header, cells, left=2), ""])
