"""The paper's claims about Table 1 (sections 5.3 and 6), each checked on our numbers.

A claim is a statement over rank-1 cells (occlusion, strategy) of the segmenter's table. It is
checked on the mean over run seeds and on each seed alone, and printed with the cells it reads,
ours beside the paper's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

BANDS = ["forehead", "eyes", "nose", "mouth", "chin"]
MASKING = ["lm1", "lm2", "grid3x3"]

Cells = Callable[[str, str], float]  # (occlusion, strategy) -> rank-1


@dataclass(frozen=True)
class Claim:
    text: str  # the paper's statement, in short
    cells: list[tuple[str, str]]  # the cells it reads, shown beside the verdict
    holds: Callable[[Cells], bool]


CLAIMS = [
    Claim("LM2 beats the 3x3 grid on every landmark occlusion (section 6: landmark masks outperform arbitrary grids)",
          [(b, s) for b in BANDS for s in ("lm2", "grid3x3")],
          lambda r: all(r(b, "lm2") > r(b, "grid3x3") for b in BANDS)),
    Claim("LM2 is the best strategy on every landmark occlusion (Table 1)",
          [(b, s) for b in BANDS for s in ("none", *MASKING)],
          lambda r: all(r(b, "lm2") >= max(r(b, s) for s in ("none", *MASKING)) for b in BANDS)),
    Claim("FDMs improve on no FDM for the landmark occlusions: LM2 above no FDM on each (section 5.3)",
          [(b, s) for b in BANDS for s in ("none", "lm2")],
          lambda r: all(r(b, "lm2") > r(b, "none") for b in BANDS)),
    Claim("On face masks no FDM beats every masking strategy (section 5.3)",
          [("face_mask", s) for s in ("none", *MASKING)],
          lambda r: all(r("face_mask", "none") > r("face_mask", s) for s in MASKING)),
    Claim("On face masks the 3x3 grid is the worst masking strategy (section 5.3)",
          [("face_mask", s) for s in MASKING],
          lambda r: all(r("face_mask", "grid3x3") < r("face_mask", s) for s in ("lm1", "lm2"))),
    Claim("On sunglasses no FDM beats every masking strategy (section 5.3)",
          [("sunglasses", s) for s in ("none", *MASKING)],
          lambda r: all(r("sunglasses", "none") > r("sunglasses", s) for s in MASKING)),
    Claim("Nose+mouth+chin bands without FDM fall far below face masks without FDM, so the base CNN also "
          "uses the background (section 5.3: 11.13% vs 24.20%)",
          [("nose_mouth_chin", "none"), ("face_mask", "none")],
          lambda r: r("nose_mouth_chin", "none") < r("face_mask", "none")),
]


def _lookup(frame: pd.DataFrame, column: str) -> Cells:
    cells = frame.set_index(["occlusion", "strategy"])[column]
    return lambda occlusion, strategy: float(cells[(occlusion, strategy)])


def check_claims(table: pd.DataFrame, paper: pd.DataFrame, detector: str = "segmenter") -> list[dict]:
    """Each claim on the mean over seeds, on each seed and on the paper's table. ``table`` is the
    across-seeds Table 1 (rank1_mean, rank1_seed{N} columns); ``paper`` has occlusion, strategy,
    rank1 (percent)."""
    ours = table[table["detector"] == detector]
    seed_columns = [c for c in ours.columns if c.startswith("rank1_seed")]
    mean, paper_cells = _lookup(ours, "rank1_mean"), _lookup(paper, "rank1")
    results = []
    for claim in CLAIMS:
        per_seed = [claim.holds(_lookup(ours, column)) for column in seed_columns]
        results.append({"claim": claim.text, "reproduced": claim.holds(mean), "seeds_holding": sum(per_seed),
                        "seeds": len(per_seed), "paper_holds": claim.holds(paper_cells),
                        "cells": [(o, s, 100 * mean(o, s), paper_cells(o, s)) for o, s in claim.cells]})
    return results
