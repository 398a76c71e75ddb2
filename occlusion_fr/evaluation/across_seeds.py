"""Table 1 and the model metrics over several run seeds: mean and sample standard deviation.

Each run seed redraws the split, the initialisations, the occlusion renders and the blocks
(``results/{dataset}/seed{seed}/``); the spread over seeds is the uncertainty a single-seed
table hides. The deviation is the sample one (ddof=1); with one seed it is undefined (NaN).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from occlusion_fr.method.occlusion_masks import DETECTORS
from occlusion_fr.markdown import bold, markdown_table, strategy_grid
from occlusion_fr.method.selection import NO_FDM

CELL_KEYS = ["detector", "occlusion", "strategy"]


def table1_across_seeds(tables: dict[int, pd.DataFrame], rows: list[str], strategies: list[str]) -> pd.DataFrame:
    """One line per (detector, occlusion, strategy): rank-1/rank-5 mean, std and per-seed values,
    the number of seeds and the paper's rank-1 (percent), in row and column order."""
    if not tables:
        raise ValueError("no run seeds to aggregate")
    long = pd.concat([table.assign(seed=seed) for seed, table in tables.items()], ignore_index=True)
    cells = long.groupby(CELL_KEYS, sort=False)
    counts = cells["seed"].nunique()
    incomplete = counts[counts != len(tables)]
    if not incomplete.empty:
        detector, occlusion, strategy = incomplete.index[0]
        raise ValueError(f"cell {detector}/{occlusion}/{strategy} is in {incomplete.iloc[0]} of {len(tables)} "
                         "seeds' tables: the runs were made with different configurations")
    out = cells.agg(seeds=("seed", "nunique"), rank1_mean=("rank1", "mean"), rank1_std=("rank1", "std"),
                    rank5_mean=("rank5", "mean"), rank5_std=("rank5", "std"),
                    paper_rank1=("paper_rank1", "first")).reset_index()
    per_seed = long.pivot_table(index=CELL_KEYS, columns="seed", values="rank1", sort=False)
    per_seed.columns = [f"rank1_seed{seed}" for seed in per_seed.columns]
    out = out.merge(per_seed.reset_index(), on=CELL_KEYS)
    order = {"detector": [d for d in DETECTORS if d in set(out["detector"])], "occlusion": rows,
             "strategy": strategies}
    for key, values in order.items():
        out[key] = pd.Categorical(out[key], values, ordered=True)
    out = out.sort_values(CELL_KEYS).reset_index(drop=True)
    for key in order:
        out[key] = out[key].astype(str)
    return out


# The models' headline metrics (keys of model_metrics), as tables name them.
MODEL_METRICS = {"base_cnn_test_rank1": "base CNN test rank-1", "base_cnn_test_rank5": "base CNN test rank-5",
                 "base_cnn_val_rank1": "base CNN validation rank-1",
                 "segmenter_pixel_accuracy": "segmenter pixel accuracy (occluded test images)",
                 "segmenter_iou": "segmenter occluded-class IoU (occluded test images)",
                 "segmenter_val_iou": "segmenter validation IoU"}


def mean_std_text(mean: float, std: float, digits: int = 1) -> str:
    """Percent, mean ± std (the mean alone when the deviation is undefined)."""
    return f"{100 * mean:.{digits}f}" + ("" if np.isnan(std) else f" ± {100 * std:.{digits}f}")


def table1_across_seeds_markdown(table: pd.DataFrame, dataset: str, rows: list[str], strategies: list[str]) -> str:
    seeds = int(table["seeds"].iloc[0])
    lines = [f"# Table 1 over {seeds} run seeds ({dataset}, test split)", "",
             "Rank-1 (%) as mean ± sample standard deviation over the run seeds (each seed redraws the split, "
             "the initialisations and the occlusion renders). Best mean per row in bold."]
    for detector in [d for d in DETECTORS if d in set(table["detector"])]:
        cells = table[table["detector"] == detector].set_index(["occlusion", "strategy"])
        grid = strategy_grid(rows, strategies, lambda r, s: cells["rank1_mean"].get((r, s), np.nan),
                             lambda r, s, mean, best: bold(mean_std_text(mean, cells["rank1_std"][(r, s)]), best),
                             unbolded_rows=("clean",))
        lines += ["", f"## Regions chosen by the {detector}", "", grid]
    return "\n".join(lines) + "\n"


def table1_across_seeds_metrics(table: pd.DataFrame) -> dict:
    """{detector: {occlusion: {strategy: {mean, std}}}} for `dvc metrics show`."""
    metrics: dict = {}
    for row in table.itertuples(index=False):
        std = None if np.isnan(row.rank1_std) else round(float(row.rank1_std), 4)
        metrics.setdefault(row.detector, {}).setdefault(row.occlusion, {})[row.strategy] = {
            "mean": round(float(row.rank1_mean), 4), "std": std}
    return metrics


def model_metrics(seed: int, base_cnn: dict, segmenter: dict) -> dict:
    """The headline numbers of one seed's models (metrics.json of each)."""
    occluded = segmenter["test"]["all occluded"]
    return {"seed": seed, "base_cnn_best_epoch": base_cnn["best_epoch"], "base_cnn_val_rank1": base_cnn["val_rank1"],
            "base_cnn_test_rank1": base_cnn["test_rank1"], "base_cnn_test_rank5": base_cnn["test_rank5"],
            "segmenter_val_iou": segmenter["val_iou"], "segmenter_pixel_accuracy": occluded["pixel_accuracy"],
            "segmenter_iou": occluded["iou"]}


def models_across_seeds(records: list[dict]) -> pd.DataFrame:
    """One row per seed, then ``mean`` and ``std`` rows."""
    table = pd.DataFrame(records).set_index("seed")
    summary = pd.DataFrame({"mean": table.mean(), "std": table.std()}).T
    table.index = table.index.map(str)
    return pd.concat([table, summary]).rename_axis("seed").reset_index()


def models_across_seeds_markdown(table: pd.DataFrame, dataset: str) -> str:
    seeds = [s for s in table["seed"] if s not in ("mean", "std")]
    rows = table.set_index("seed")
    body = [[name, *(f"{100 * rows.loc[s, key]:.2f}" for s in seeds),
             mean_std_text(rows.loc["mean", key], rows.loc["std", key], 2)] for key, name in MODEL_METRICS.items()]
    return "\n".join([f"# Models over {len(seeds)} run seeds ({dataset})", "",
                      markdown_table(["metric", *(f"seed {s}" for s in seeds), "mean ± std"], body)]) + "\n"


OPEN_SET_KEYS = ["condition", "strategy", "detector"]


def open_set_across_seeds(tables: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """One line per (condition, strategy, detector) of the seeds' ``open_set.csv``: rank-1 and each
    DIR as mean and sample std over seeds, the mean rank-1 difference from no FDM, the seeds where
    the cell beats / loses to no FDM with McNemar p < 0.05, the largest per-seed McNemar p, and a
    paired t-test over seeds of rank-1 against no FDM's (NaN with fewer than two seeds)."""
    if not tables:
        raise ValueError("no run seeds with an open-set table to aggregate")
    long = pd.concat([table.assign(seed=seed) for seed, table in tables.items()], ignore_index=True)
    counts = long.groupby(OPEN_SET_KEYS, sort=False)["seed"].nunique()
    incomplete = counts[counts != len(tables)]
    if not incomplete.empty:
        condition, strategy, detector = incomplete.index[0]
        raise ValueError(f"open-set cell {condition}/{strategy}/{detector} is in {incomplete.iloc[0]} of {len(tables)} "
                         "seeds' tables: the runs were made with different configurations")
    baseline = long[long["strategy"] == NO_FDM].set_index(["seed", "condition"])["rank1"]
    long["rank1_gain"] = long["rank1"] - pd.MultiIndex.from_frame(long[["seed", "condition"]]).map(baseline)
    significant = long["p_value"] < 0.05
    long["better"] = significant & (long["only_fdm"] > long["only_no_fdm"])
    long["worse"] = significant & (long["only_fdm"] < long["only_no_fdm"])
    metrics = ["rank1", *(c for c in long.columns if c.startswith("dir_at_far_"))]
    cells = long.groupby(OPEN_SET_KEYS, sort=False)
    out = cells.agg(seeds=("seed", "nunique"), genuine_probes=("genuine_probes", "first"),
                    impostor_probes=("impostor_probes", "first"),
                    **{f"{m}_{stat}": (m, stat) for m in metrics for stat in ("mean", "std")},
                    rank1_gain_mean=("rank1_gain", "mean"), seeds_better=("better", "sum"),
                    seeds_worse=("worse", "sum"), max_p_value=("p_value", "max")).reset_index()
    out["t_test_p_value"] = [paired_t_p_value(group["rank1_gain"].to_numpy()) for _, group in cells]
    return out


def paired_t_p_value(differences: np.ndarray) -> float:
    """Two-sided p of a paired t-test that the mean difference is zero (NaN below two values;
    1 when every difference is zero, 0 when they are equal and non-zero)."""
    if len(differences) < 2:
        return float("nan")
    spread = differences.std(ddof=1)
    if spread == 0:
        return 1.0 if np.all(differences == 0) else 0.0
    statistic = differences.mean() / (spread / np.sqrt(len(differences)))
    return float(2 * stats.t.sf(abs(statistic), len(differences) - 1))


def t_test_text(p_value: float) -> str:
    return "" if np.isnan(p_value) else f"; p {p_value:.2g}"


def open_set_grid(table: pd.DataFrame, metric: str, tests: bool) -> str:
    """A markdown grid of an open set over seeds: a row per condition, a column per (strategy,
    detector), ``metric`` (rank1, dir_at_far_X) as mean ± std; with ``tests``, each strategy's
    [seeds better / worse than no FDM; paired t-test p]."""
    columns = list(dict.fromkeys(zip(table["strategy"], table["detector"])))
    cells = table.set_index(OPEN_SET_KEYS)
    header = ["condition", *("no FDM" if s == NO_FDM else f"{s} ({d})" for s, d in columns)]

    def cell(row) -> str:
        text = mean_std_text(row[f"{metric}_mean"], row[f"{metric}_std"])
        if tests and row.name[1] != NO_FDM:
            text += f" [{int(row['seeds_better'])}/{int(row['seeds_worse'])}{t_test_text(row['t_test_p_value'])}]"
        return text

    return markdown_table(header, [[c, *(cell(cells.loc[(c, s, d)]) for s, d in columns)]
                                   for c in dict.fromkeys(table["condition"])])


def open_set_fars(table: pd.DataFrame) -> list[str]:
    """The FARs of an open set over seeds, as its column names write them."""
    return [c.removeprefix("dir_at_far_").removesuffix("_mean") for c in table.columns
            if c.startswith("dir_at_far_") and c.endswith("_mean")]


def open_set_across_seeds_markdown(table: pd.DataFrame, dataset: str) -> str:
    first = table.iloc[0]
    lines = [f"# Open-set identification of unseen people over {int(first['seeds'])} run seeds ({dataset})", "",
             f"{first['genuine_probes']:,} genuine and {first['impostor_probes']:,} impostor probes of people "
             "outside the dataset (`seed*/open_set.md`), mean ± sample std over the run seeds. In brackets: the "
             "seeds where the cell beats / loses to no FDM with McNemar p < 0.05 on the same probes, and the "
             "paired t-test over seeds of its rank-1 against no FDM's.", "",
             "## Rank-1 (%) of the genuine probes", "", open_set_grid(table, "rank1", tests=True), ""]
    for far in open_set_fars(table):
        lines += [f"## DIR (%) at FAR {far} against the impostor probes", "",
                  open_set_grid(table, f"dir_at_far_{far}", tests=False), ""]
    return "\n".join(lines)
