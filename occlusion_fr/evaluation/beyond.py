"""The extended table (issue 29): the plain base CNN against the training variants beyond the
paper (occlusion-augmented base, upper-face model, any-block segmenter, ...), each a run of its
own dataset name over the same data and seeds, so that seed N has the same split in every one.

Per variant three columns: no FDM, its best layout, and the random same-count control of that
layout (random masks keeping as many feature elements as its FDM; only where the run's
``fdm_controls`` examined the occlusion). The best layout is chosen on validation only: the
layout whose chosen percentile gave the highest mean validation rank-1 over the seeds
(``percentile_sweep/summary.csv``). Rows are Table 1's occlusions (test rank-1), the open-set
rank-1 and DIR at the highest FAR (1%) under face masks and sunglasses, and pair verification's
TAR at the lowest FAR (clean, face masks, sunglasses). Cells are mean ± std over seeds; each cell other than the
plain base's no FDM has a paired t-test over the shared seeds against that cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from occlusion_fr.evaluation.across_seeds import mean_std_text, paired_t_p_value, t_test_text
from occlusion_fr.markdown import bold, markdown_table
from occlusion_fr.method.selection import NO_FDM

COLUMNS = ("no_fdm", "best_layout", "random")
COLUMN_NAMES = {"no_fdm": "no FDM", "best_layout": "best layout", "random": "random control"}
OPEN_SET_OCCLUSIONS = ("face_mask", "sunglasses")
VERIFICATION_CONDITIONS = ("clean", "face_mask", "sunglasses")
RANDOM_CONTROL = "random"  # fdm_controls' masks keeping as many elements as the FDM


@dataclass
class SeedResults:
    """The committed tables of one run seed that the extended table reads. A seed run only as far
    as its no-FDM identification (``identification/none.csv``, no layouts: a variant's first
    look) has no sweep and gives the no-FDM column alone."""

    table1: pd.DataFrame
    sweep: pd.DataFrame | None = None
    controls: pd.DataFrame | None = None
    open_set: pd.DataFrame | None = None
    verification: pd.DataFrame | None = None

    @staticmethod
    def available(folder) -> bool:
        folder = Path(folder)
        return (folder / "table1.csv").is_file() or (folder / "identification" / "none.csv").is_file()

    @classmethod
    def read(cls, folder) -> SeedResults:
        folder = Path(folder)

        def optional(name):
            path = folder / name
            return pd.read_csv(path) if path.is_file() else None

        if not cls.available(folder):
            raise FileNotFoundError(f"{folder}: neither table1.csv nor identification/none.csv (no finished seed)")
        if not (folder / "table1.csv").is_file():
            return cls(pd.read_csv(folder / "identification" / "none.csv"))
        if not (folder / "percentile_sweep" / "summary.csv").is_file():
            raise FileNotFoundError(f"{folder / 'percentile_sweep/summary.csv'}: missing beside table1.csv")
        return cls(pd.read_csv(folder / "table1.csv"), pd.read_csv(folder / "percentile_sweep/summary.csv"),
                   optional("identification/fdm_controls.csv"), optional("open_set.csv"),
                   optional("verification.csv"))


def best_layout(seeds: dict[int, SeedResults]) -> str | None:
    """The layout with the highest mean validation rank-1 (at its chosen percentile) over seeds;
    None when no seed has layouts."""
    sweeps = [s.sweep for s in seeds.values() if s.sweep is not None]
    if not sweeps:
        return None
    return str(pd.concat(sweeps).groupby("strategy", sort=False)["val_rank1_chosen"].mean().idxmax())


def open_set_rows(far: str) -> list[tuple[str, str, str]]:
    """(row name, condition, metric column) of the open-set rows."""
    rows = []
    for occlusion in OPEN_SET_OCCLUSIONS:
        rows += [(f"open set {occlusion} rank-1", occlusion, "rank1"),
                 (f"open set {occlusion} DIR at FAR {far}", occlusion, f"dir_at_far_{far}")]
    return rows


def _seed_cells(result: SeedResults, layout: str | None, far_open: str | None, far_pairs: str | None) -> list[dict]:
    """(row, column, value) of one seed of one variant."""
    rank1 = result.table1
    # No FDM does not depend on the occlusion detector: Table 1 repeats it per detector.
    no_fdm = rank1[rank1["strategy"] == NO_FDM].drop_duplicates("occlusion").set_index("occlusion")["rank1"]
    cells = [{"row": occlusion, "column": "no_fdm", "value": value} for occlusion, value in no_fdm.items()]
    if layout is None:
        return cells
    masked = rank1[(rank1["strategy"] == layout) & (rank1["detector"] == "segmenter")].set_index("occlusion")["rank1"]
    cells += [{"row": occlusion, "column": "best_layout", "value": value} for occlusion, value in masked.items()]
    if result.controls is not None:
        random = result.controls[(result.controls["strategy"] == layout) & (result.controls["detector"] == "segmenter")
                                 & (result.controls["control"] == RANDOM_CONTROL)]
        cells += [{"row": r.occlusion, "column": "random", "value": r.rank1} for r in random.itertuples()]
    if result.open_set is not None and far_open is not None:
        scores = result.open_set.set_index(["condition", "strategy", "detector"])
        for row, condition, metric in open_set_rows(far_open):
            for column, key in (("no_fdm", (NO_FDM, NO_FDM)), ("best_layout", (layout, "segmenter")),
                                ("random", (layout, RANDOM_CONTROL))):
                if (condition, *key) in scores.index:
                    cells.append({"row": row, "column": column, "value": scores.loc[(condition, *key), metric]})
    if result.verification is not None and far_pairs is not None:
        scores = result.verification.set_index(["condition", "strategy"])[f"tar_at_far_{far_pairs}"]
        for condition in VERIFICATION_CONDITIONS:
            row = f"verification {condition} TAR at FAR {far_pairs}"
            if (condition, NO_FDM) in scores.index:
                cells += [{"row": row, "column": "no_fdm", "value": scores[(condition, NO_FDM)]},
                          {"row": row, "column": "best_layout", "value": scores[(condition, layout)]}]
    return cells


def fars(columns, prefix: str) -> list[str]:
    """The FARs of columns named ``prefix`` + FAR, highest first."""
    return sorted((c[len(prefix):] for c in columns if c.startswith(prefix)), key=float, reverse=True)


def beyond_table(variants: dict[str, dict[int, SeedResults]], plain: str
                 ) -> tuple[pd.DataFrame, dict[str, str | None]]:
    """(one line per (row, variant, column): mean, std, seeds, the paired t-test p against the
    plain base's no FDM over the seeds both have; each variant's best layout)."""
    if plain not in variants:
        raise ValueError(f"the plain base {plain!r} is not among the variants ({', '.join(variants)})")
    any_seed = next(iter(variants[plain].values()))
    far_open = fars(any_seed.open_set.columns, "dir_at_far_")[0] if any_seed.open_set is not None else None
    far_pairs = fars(any_seed.verification.columns, "tar_at_far_")[-1] if any_seed.verification is not None else None
    layouts, long = {}, []
    for name, seeds in variants.items():
        if not seeds:
            raise ValueError(f"variant {name}: no finished run seed")
        layouts[name] = best_layout(seeds)
        for seed, result in seeds.items():
            long += [{"variant": name, "seed": seed, **cell}
                     for cell in _seed_cells(result, layouts[name], far_open, far_pairs)]
    long = pd.DataFrame(long)
    rows = list(dict.fromkeys(long["row"]))
    reference = long[(long["variant"] == plain) & (long["column"] == "no_fdm")].set_index(["row", "seed"])["value"]
    out = []
    for (row, variant, column), cell in long.groupby(["row", "variant", "column"], sort=False):
        values = cell.set_index("seed")["value"]
        paired = [s for s in values.index if (row, s) in reference.index]
        is_reference = variant == plain and column == "no_fdm"
        p_value = np.nan if is_reference else paired_t_p_value(
            np.array([values[s] - reference[(row, s)] for s in paired]))
        out.append({"row": row, "variant": variant, "column": column, "seeds": len(values),
                    "mean": values.mean(), "std": values.std(ddof=1) if len(values) > 1 else np.nan,
                    "paired_seeds": len(paired), "p_value_vs_plain_no_fdm": p_value})
    out = pd.DataFrame(out)
    order = {"row": rows, "variant": list(variants), "column": list(COLUMNS)}
    for key, values in order.items():
        out[key] = pd.Categorical(out[key], values, ordered=True)
    out = out.sort_values(list(order)).reset_index(drop=True)
    for key in order:
        out[key] = out[key].astype(str)
    return out, layouts


def beyond_markdown(table: pd.DataFrame, layouts: dict[str, str | None], seeds: dict[str, list[int]]) -> str:
    """A row per result row, a column per (variant, no FDM | best layout | random control): mean
    ± std in percent, the row's best mean in bold, and [p] of the paired t-test against the plain
    base's no FDM."""
    columns = [(v, c) for v in layouts for c in COLUMNS if ((table["variant"] == v) & (table["column"] == c)).any()]
    header = ["result", *(f"{v}: {COLUMN_NAMES[c] if c != 'best_layout' else layouts[v]}" for v, c in columns)]
    cells = table.set_index(["row", "variant", "column"])
    lines = []
    for row in dict.fromkeys(table["row"]):
        present = [key for key in columns if (row, *key) in cells.index]
        top = max(cells.loc[(row, *key), "mean"] for key in present)
        line = [row]
        for key in columns:
            if key not in present:
                line.append("")
                continue
            cell = cells.loc[(row, *key)]
            text = bold(mean_std_text(cell["mean"], cell["std"]), cell["mean"] == top)
            line.append(text + ("" if np.isnan(cell["p_value_vs_plain_no_fdm"])
                                else f" [{t_test_text(cell['p_value_vs_plain_no_fdm']).lstrip('; ')}]"))
        lines.append(line)
    caption = "; ".join(f"{v}: seeds {', '.join(map(str, seeds[v]))}, " + (
        f"best layout on validation {layouts[v]}" if layouts[v] else "no FDM only (no layouts run yet)")
                        for v in layouts)
    return f"{caption}.\n\n{markdown_table(header, lines)}"


def beyond_reading(table: pd.DataFrame, plain: str, goals: dict[str, float] | None = None,
                   goal_seeds: int = 3) -> list[str]:
    """One line per row of the extended table: the cell with the best mean, how far it is from the
    plain base's no FDM (percentage points), its seeds, and where ``goals`` names the row, the
    goal (a fraction of a mean over ``goal_seeds`` seeds) it meets or misses, and on how few seeds
    when fewer. Rows without the plain no FDM are left out."""
    goals = goals or {}
    lines = []
    for row, cells in table.groupby("row", sort=False):
        reference = cells[(cells["variant"] == plain) & (cells["column"] == "no_fdm")]
        if reference.empty:
            continue
        best = cells.loc[cells["mean"].idxmax()]
        base = reference.iloc[0]["mean"]
        name = f"{best['variant']}, {COLUMN_NAMES[best['column']]}"
        if best["variant"] == plain and best["column"] == "no_fdm":
            text = f"{row}: the plain base without FDM is best ({100 * base:.1f}%)"
        else:
            text = (f"{row}: {name} {100 * best['mean']:.1f}% against the plain base's {100 * base:.1f}% without FDM "
                    f"({100 * (best['mean'] - base):+.1f} points, {int(best['seeds'])} seed"
                    f"{'s' if best['seeds'] != 1 else ''})")
        if row in goals:
            shortfall = 100 * (goals[row] - best["mean"])
            verdict = "met" if shortfall <= 0 else f"missed by {shortfall:.1f} points"
            text += f"; the {100 * goals[row]:.0f}% goal is {verdict}" + (
                f" on {int(best['seeds'])} of the {goal_seeds} seeds it asks for" if best["seeds"] < goal_seeds else "")
        lines.append(f"- {text}")
    return lines
