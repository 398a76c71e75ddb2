"""Controls that say why a layout's FDM gains or loses on an occlusion (paper section 5.3 asks
why its masks lose to no masking on face masks and sunglasses).

For the probes of one occlusion, with the regions the segmenter selected, rank-1 under:

- ``no_fdm``: nothing discarded (Table 1's first column);
- ``learned``: the FDM on probe and gallery (Table 1's cell);
- ``probe_only``: the FDM on the probe alone: what consistency between probe and gallery is worth;
- ``random``: per distinct FDM, a random mask keeping as many elements, on probe and gallery:
  whether the learned masks pick the right elements or any discarding of that size does as well;
- ``random_channels``: per distinct FDM, a random mask keeping as many channels in every map cell
  as the FDM does: whether what matters is where (which cells) the FDM discards, or which channels.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from occlusion_fr.evaluation.strategies import ProbeSet
from occlusion_fr.markdown import markdown_table
from occlusion_fr.method.embedding import MaskedGallery
from occlusion_fr.method.selection import Selection, group_rows

CONTROLS = ("no_fdm", "learned", "probe_only", "random", "random_channels")
RANDOM_CONTROLS = ("random", "random_channels")


def random_like(mask: np.ndarray, rng: np.random.Generator, per_cell: bool = False) -> np.ndarray:
    """A binary mask of ``mask``'s (C, H, W) shape keeping as many elements at uniformly random
    positions; with ``per_cell``, as many channels in every (h, w) cell as ``mask`` keeps there."""
    if per_cell:
        return rng.permuted(mask.reshape(mask.shape[0], -1), axis=0).reshape(mask.shape)
    flat = np.zeros(mask.size, dtype=mask.dtype)
    flat[rng.choice(mask.size, size=int(np.count_nonzero(mask)), replace=False)] = 1
    return flat.reshape(mask.shape)


def control_ranks(gallery: MaskedGallery, probes: ProbeSet, selected: list[Selection], draws: int,
                  seed: int) -> dict[str, list[np.ndarray]]:
    """Per control, the probes' ranks (0 = right at rank 1): one array, or one per draw for the
    random controls. ``selected`` holds each probe's occluded regions."""
    n = len(selected)
    ranks = {control: [np.empty(n, dtype=int) for _ in range(draws if control in RANDOM_CONTROLS else 1)]
             for control in CONTROLS}
    plain = gallery.embeddings(())

    def masked_ranks(rows, probe_mask, gallery_embeddings, keep=True):
        """Ranks of the probes ``rows`` under ``probe_mask`` against ``gallery_embeddings``; a score
        normalisation reads the cohort under the probe's mask."""
        embedded = gallery.embedder(probes.maps, probe_mask, keep=keep, rows=rows)
        return gallery.ranks(embedded, probes.labels[rows], gallery_embeddings, probe_mask, keep=keep)

    for regions, rows in sorted(group_rows(selected).items(), key=lambda item: item[0]):
        if not regions:  # nothing discarded: every control is the unmasked comparison
            same = masked_ranks(rows, None, plain)
            for arrays in ranks.values():
                for array in arrays:
                    array[rows] = same
            continue
        fdm = gallery.fdm(regions)
        ranks["no_fdm"][0][rows] = masked_ranks(rows, None, plain)
        ranks["learned"][0][rows] = masked_ranks(rows, fdm, gallery.fdm_embeddings(regions))
        ranks["probe_only"][0][rows] = masked_ranks(rows, fdm, plain)
        # One stream per region set: a draw does not depend on which other sets occur.
        rng = np.random.default_rng([seed, zlib.crc32("+".join(regions).encode())])
        for control in RANDOM_CONTROLS:
            for draw in range(draws):
                random_mask = random_like(fdm, rng, per_cell=control == "random_channels")
                # Not kept: each draw's mask serves this region set alone.
                random_gallery = gallery.embeddings(None, random_mask, keep=False)
                ranks[control][draw][rows] = masked_ranks(rows, random_mask, random_gallery, keep=False)
    return ranks


def fdm_controls(gallery: MaskedGallery, probe_sets: list[ProbeSet], overlap_threshold: float, detector: str,
                 draws: int, seed: int) -> pd.DataFrame:
    """One row per probe set and control: rank-1 (mean over draws for the random controls), its
    standard deviation over draws, the mean share of feature elements kept, probes with a region
    selected. The gallery's layout selects the regions."""
    layout = gallery.layout
    rows = []
    for probes in probe_sets:
        selected = probes.selections(layout, detector, overlap_threshold)
        kept = float(np.mean([layout.kept_share(s, gallery.map_shape) for s in selected]))
        masked = float(np.mean([bool(s) for s in selected]))
        for control, per_draw in control_ranks(gallery, probes, selected, draws, seed).items():
            rank1 = np.array([np.mean(r == 0) for r in per_draw])
            rows.append({"strategy": layout.name, "detector": detector, "occlusion": probes.name,
                         "control": control, "probes": len(selected), "draws": len(per_draw),
                         "rank1": float(rank1.mean()), "rank1_std": float(rank1.std(ddof=1)) if len(rank1) > 1 else 0.0,
                         "kept_share": 1.0 if control == "no_fdm" else kept, "masked_probes_share": masked})
    return pd.DataFrame(rows)


def fdm_controls_markdown(table: pd.DataFrame, dataset: str) -> str:
    cells = []
    for (occlusion, strategy), rows in table.groupby(["occlusion", "strategy"], sort=False):
        by = rows.set_index("control")
        cells.append([occlusion, strategy, *(f"{100 * by.loc[c, 'rank1']:.1f}" for c in ("no_fdm", "learned", "probe_only")),
                      *(f"{100 * by.loc[c, 'rank1']:.1f} ± {100 * by.loc[c, 'rank1_std']:.1f}" for c in RANDOM_CONTROLS),
                      f"{100 * by.loc['learned', 'kept_share']:.0f}%"])
    header = ["occlusion", "strategy", "no FDM", "learned", "probe only", "random", "random channels", "kept"]
    lines = [f"# FDM controls ({dataset}, test split, regions chosen by the segmenter)", "",
             "Rank-1 (%) of the same probes with nothing discarded, the learned FDM on probe and gallery "
             "(Table 1), the FDM on the probe alone, random masks keeping as many feature elements, and random "
             "masks keeping as many channels in every map cell, on probe and gallery (mean ± std over draws). "
             "kept: mean share of feature elements kept.", "", markdown_table(header, cells, left=2)]
    return "\n".join(lines) + "\n"
