"""The paper's claims about Table 1 (sections 5.3 and 6), each checked on our numbers.

A claim is a set of comparisons between rank-1 cells (occlusion, strategy) of the segmenter's
table, each "this cell above that one". It holds on a table when every comparison does. It is
checked on the mean over run seeds and on each seed alone, and printed with the cells it reads,
ours beside the paper's. Per seed, each comparison is also tested on the per-probe outcomes
(``claim_tests``): both cells score the same test images, so an exact McNemar test on the images
right in one cell and wrong in the other says whether the difference exceeds what chance gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb
from typing import Callable

import pandas as pd

from occlusion_fr.markdown import markdown_table
from occlusion_fr.method.selection import NO_FDM

BANDS = ["forehead", "eyes", "nose", "mouth", "chin"]
MASKING = ["lm1", "lm2", "grid3x3"]

Cell = tuple[str, str]  # (occlusion, strategy)
Cells = Callable[[str, str], float]  # (occlusion, strategy) -> rank-1


@dataclass(frozen=True)
class Claim:
    text: str  # the paper's statement, in short
    comparisons: list[tuple[Cell, Cell]]  # (higher, lower): the first cell must beat the second

    @property
    def cells(self) -> list[Cell]:
        """The cells the claim reads, in order of first mention."""
        return list(dict.fromkeys(cell for pair in self.comparisons for cell in pair))

    def holds(self, rank1: Cells) -> bool:
        return all(rank1(*higher) > rank1(*lower) for higher, lower in self.comparisons)


CLAIMS = [
    Claim("LM2 beats the 3x3 grid on every landmark occlusion (section 6: landmark masks outperform arbitrary grids)",
          [((b, "lm2"), (b, "grid3x3")) for b in BANDS]),
    Claim("LM2 is the best strategy on every landmark occlusion (Table 1)",
          [((b, "lm2"), (b, s)) for b in BANDS for s in (NO_FDM, "lm1", "grid3x3")]),
    Claim("FDMs improve on no FDM for the landmark occlusions: LM2 above no FDM on each (section 5.3)",
          [((b, "lm2"), (b, NO_FDM)) for b in BANDS]),
    Claim("On face masks no FDM beats every masking strategy (section 5.3)",
          [(("face_mask", NO_FDM), ("face_mask", s)) for s in MASKING]),
    Claim("On face masks the 3x3 grid is the worst masking strategy (section 5.3)",
          [(("face_mask", s), ("face_mask", "grid3x3")) for s in ("lm1", "lm2")]),
    Claim("On sunglasses no FDM beats every masking strategy (section 5.3)",
          [(("sunglasses", NO_FDM), ("sunglasses", s)) for s in MASKING]),
    Claim("Nose+mouth+chin bands without FDM fall far below face masks without FDM, so the base CNN also "
          "uses the background (section 5.3: 11.13% vs 24.20%)",
          [(("face_mask", NO_FDM), ("nose_mouth_chin", NO_FDM))]),
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


def mcnemar_exact(only_first: int, only_second: int) -> float:
    """Two-sided exact McNemar p-value: the discordant pairs against Binomial(n, 1/2)."""
    n, k = only_first + only_second, min(only_first, only_second)
    if n == 0:
        return 1.0
    tail = sum(comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def claim_tests(per_probe: pd.DataFrame, alpha: float, detector: str = "segmenter") -> pd.DataFrame:
    """One row per claim and comparison from one seed's per-probe tables (columns strategy,
    detector, occlusion, image, rank; rank 0 = right at rank 1; no FDM under detector ``none``):
    the images both cells scored, each cell's rank-1, the images right only in the higher or
    only in the lower cell, the exact McNemar p-value, whether the comparison goes the claimed
    way, and whether it does so with p < ``alpha`` (recorded with it). A comparison whose cells the run lacks is left out (its claim is then marked
    incomplete)."""
    outcomes = {}
    for (strategy, cell_detector, occlusion), rows in per_probe.groupby(["strategy", "detector", "occlusion"]):
        if cell_detector == (NO_FDM if strategy == NO_FDM else detector):
            outcomes[(occlusion, strategy)] = rows.set_index("image")["rank"].eq(0)
    lines = []
    for number, claim in enumerate(CLAIMS, start=1):
        complete = all(cell in outcomes for cell in claim.cells)
        for higher, lower in claim.comparisons:
            if higher not in outcomes or lower not in outcomes:
                continue
            first, second = outcomes[higher].align(outcomes[lower], join="inner")
            only_higher, only_lower = int((first & ~second).sum()), int((~first & second).sum())
            p_value, as_claimed = mcnemar_exact(only_higher, only_lower), bool(first.mean() > second.mean())
            lines.append({"claim": number, "complete": complete, "higher": "/".join(higher), "lower": "/".join(lower),
                          "probes": len(first), "rank1_higher": float(first.mean()), "rank1_lower": float(second.mean()),
                          "only_higher": only_higher, "only_lower": only_lower, "p_value": p_value,
                          "as_claimed": as_claimed, "alpha": alpha, "significant": as_claimed and p_value < alpha})
    return pd.DataFrame(lines, columns=["claim", "complete", "higher", "lower", "probes", "rank1_higher", "rank1_lower",
                                        "only_higher", "only_lower", "p_value", "as_claimed", "alpha", "significant"])


def claim_verdicts(tests: pd.DataFrame) -> pd.DataFrame:
    """Per claim of one seed's ``claim_tests``: whether it holds (every comparison the claimed
    way), whether it holds significantly (every comparison significant: an intersection-union
    test, so no multiplicity correction is needed), and the largest p-value."""
    rows = []
    for number, comparisons in tests.groupby("claim", sort=True):
        complete = bool(comparisons["complete"].all())
        holds = complete and bool(comparisons["as_claimed"].all())
        rows.append({"claim": int(number), "complete": complete, "holds": holds,
                     "significant": holds and bool(comparisons["significant"].all()),
                     "max_p_value": float(comparisons["p_value"].max())})
    return pd.DataFrame(rows, columns=["claim", "complete", "holds", "significant", "max_p_value"])


def claim_tests_markdown(tests: pd.DataFrame, dataset: str) -> str:
    verdicts = claim_verdicts(tests).set_index("claim")
    alpha = tests["alpha"].iloc[0] if len(tests) else float("nan")
    lines = [f"# The paper's claims, tested per probe ({dataset}, test split, segmenter's regions)", "",
             f"Each comparison: rank-1 of the higher and the lower cell on the same images, the images right only in "
             f"one of them, and the exact McNemar p-value. A claim holds significantly when every comparison goes "
             f"its way with p < {alpha:g}.", ""]
    for number, comparisons in tests.groupby("claim", sort=True):
        verdict = verdicts.loc[number]
        state = ("incomplete (this run lacks some of its cells)" if not verdict["complete"] else
                 "holds significantly" if verdict["significant"] else "holds" if verdict["holds"] else "does not hold")
        cells = [[r.higher, r.lower, r.probes, f"{100 * r.rank1_higher:.1f}", f"{100 * r.rank1_lower:.1f}",
                  r.only_higher, r.only_lower, f"{r.p_value:.2g}"] for r in comparisons.itertuples(index=False)]
        lines += [f"## {number}. {CLAIMS[number - 1].text}: {state}", "",
                  markdown_table(["higher", "lower", "probes", "rank-1 higher", "rank-1 lower", "only higher",
                                  "only lower", "p"], cells, left=2), ""]
    return "\n".join(lines)
