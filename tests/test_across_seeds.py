"""Table 1 and model metrics over run seeds: mean, sample deviation, ordering, mismatched runs."""

import numpy as np
import pandas as pd
import pytest

from occlusion_fr.evaluation.across_seeds import (model_metrics, models_across_seeds, models_across_seeds_markdown,
                                                  open_set_across_seeds, open_set_across_seeds_markdown, paired_t_p_value,
                                                  table1_across_seeds, table1_across_seeds_markdown,
                                                  table1_across_seeds_metrics)

ROWS, STRATEGIES = ["clean", "eyes"], ["none", "lm2"]


def seed_table(rank1: dict) -> pd.DataFrame:
    """A seed's Table 1 (long form) with the given rank-1 per (occlusion, strategy), listed out
    of order, for both detectors."""
    lines = [{"strategy": s, "detector": d, "occlusion": o, "rank1": r, "rank5": min(1.0, r + 0.1),
              "paper_rank1": 50.0 if s == "none" else np.nan}
             for d in ("oracle", "segmenter") for (o, s), r in reversed(list(rank1.items()))]
    return pd.DataFrame(lines)


def test_cells_are_mean_and_sample_deviation_in_table_order():
    tables = {0: seed_table({("clean", "none"): 0.9, ("clean", "lm2"): 0.9, ("eyes", "none"): 0.2,
                             ("eyes", "lm2"): 0.4}),
              7: seed_table({("clean", "none"): 0.8, ("clean", "lm2"): 0.8, ("eyes", "none"): 0.3,
                             ("eyes", "lm2"): 0.6})}
    table = table1_across_seeds(tables, ROWS, STRATEGIES)
    assert list(table["detector"][:4]) == ["segmenter"] * 4
    assert list(zip(table["occlusion"][:4], table["strategy"][:4])) == [
        ("clean", "none"), ("clean", "lm2"), ("eyes", "none"), ("eyes", "lm2")]
    eyes = table[(table["detector"] == "segmenter") & (table["occlusion"] == "eyes") & (table["strategy"] == "lm2")]
    row = eyes.iloc[0]
    assert row["seeds"] == 2 and row["rank1_mean"] == pytest.approx(0.5)
    assert row["rank1_std"] == pytest.approx(np.std([0.4, 0.6], ddof=1))
    assert row["rank1_seed0"] == pytest.approx(0.4) and row["rank1_seed7"] == pytest.approx(0.6)
    metrics = table1_across_seeds_metrics(table)
    assert metrics["segmenter"]["eyes"]["lm2"] == {"mean": 0.5, "std": round(np.std([0.4, 0.6], ddof=1), 4)}
    markdown = table1_across_seeds_markdown(table, "lfw", ROWS, STRATEGIES)
    assert "| eyes | 25.0 ± 7.1 | **50.0 ± 14.1** |" in markdown and "over 2 run seeds" in markdown


def test_one_seed_has_no_deviation():
    table = table1_across_seeds({3: seed_table({("clean", "none"): 0.9, ("eyes", "none"): 0.2,
                                                ("clean", "lm2"): 0.9, ("eyes", "lm2"): 0.4})}, ROWS, STRATEGIES)
    assert table["rank1_std"].isna().all()
    assert table1_across_seeds_metrics(table)["oracle"]["eyes"]["lm2"]["std"] is None
    assert "| eyes | 20.0 | **40.0** |" in table1_across_seeds_markdown(table, "lfw", ROWS, STRATEGIES)


def test_runs_of_different_configurations_are_refused():
    full = seed_table({("clean", "none"): 0.9, ("eyes", "none"): 0.2, ("clean", "lm2"): 0.9, ("eyes", "lm2"): 0.4})
    without_lm2 = full[full["strategy"] != "lm2"]
    with pytest.raises(ValueError, match="in 1 of 2 seeds"):
        table1_across_seeds({0: full, 1: without_lm2}, ROWS, STRATEGIES)


def test_model_metrics_per_seed_then_mean_and_deviation():
    def segmenter(accuracy):
        return {"val_iou": 0.9, "test": {"all occluded": {"pixel_accuracy": accuracy, "iou": accuracy - 0.05}}}

    def base(rank1):
        return {"best_epoch": 10, "val_rank1": rank1, "test_rank1": rank1, "test_rank5": rank1 + 0.05}

    table = models_across_seeds([model_metrics(0, base(0.90), segmenter(0.98)),
                                 model_metrics(1, base(0.92), segmenter(0.96))])
    rows = table.set_index("seed")
    assert list(rows.index) == ["0", "1", "mean", "std"]
    assert rows.loc["mean", "base_cnn_test_rank1"] == pytest.approx(0.91)
    assert rows.loc["std", "segmenter_pixel_accuracy"] == pytest.approx(np.std([0.98, 0.96], ddof=1))
    markdown = models_across_seeds_markdown(table, "lfw")
    assert "| base CNN test rank-1 | 90.00 | 92.00 | 91.00 ± 1.41 |" in markdown


def open_set_table(seed_rank1: dict[str, float], only: dict[str, tuple[int, int]], p: dict[str, float]) -> pd.DataFrame:
    """One seed's open-set rows for one condition: no FDM and lm2 (segmenter)."""
    rows = []
    for strategy, detector in [("none", "none"), ("lm2", "segmenter")]:
        rows.append({"condition": "face_mask", "strategy": strategy, "detector": detector, "genuine_probes": 100,
                     "impostor_probes": 50, "rank1": seed_rank1[strategy], "dir_at_far_0.01": seed_rank1[strategy] / 2,
                     "only_fdm": only[strategy][0], "only_no_fdm": only[strategy][1], "p_value": p[strategy]})
    return pd.DataFrame(rows)


def test_open_set_over_seeds_has_mean_std_wins_and_a_paired_test():
    tables = {0: open_set_table({"none": 0.30, "lm2": 0.40}, {"none": (0, 0), "lm2": (12, 2)}, {"none": 1, "lm2": 0.01}),
              1: open_set_table({"none": 0.32, "lm2": 0.41}, {"none": (0, 0), "lm2": (10, 1)}, {"none": 1, "lm2": 0.01}),
              2: open_set_table({"none": 0.28, "lm2": 0.27}, {"none": (0, 0), "lm2": (3, 4)}, {"none": 1, "lm2": 0.9})}
    table = open_set_across_seeds(tables).set_index("strategy")
    assert table.loc["lm2", "rank1_mean"] == pytest.approx((0.40 + 0.41 + 0.27) / 3)
    assert table.loc["lm2", "rank1_std"] == pytest.approx(np.std([0.40, 0.41, 0.27], ddof=1))
    assert table.loc["lm2", "dir_at_far_0.01_mean"] == pytest.approx((0.40 + 0.41 + 0.27) / 6)
    assert table.loc["lm2", "rank1_gain_mean"] == pytest.approx((0.10 + 0.09 - 0.01) / 3)
    assert (table.loc["lm2", "seeds_better"], table.loc["lm2", "seeds_worse"]) == (2, 0)
    assert table.loc["lm2", "max_p_value"] == 0.9
    # The paired t-test over seeds: differences 0.10, 0.09, -0.01, t = 1.708 on 2 df, where the
    # two-sided p has the closed form 1 - |t| / sqrt(2 + t^2).
    gains = np.array([0.10, 0.09, -0.01])
    t = gains.mean() / (gains.std(ddof=1) / np.sqrt(3))
    assert t == pytest.approx(1.708, abs=1e-3)
    assert table.loc["lm2", "t_test_p_value"] == pytest.approx(1 - t / np.sqrt(2 + t ** 2))
    assert table.loc["none", "rank1_gain_mean"] == 0 and table.loc["none", "t_test_p_value"] == 1
    markdown = open_set_across_seeds_markdown(open_set_across_seeds(tables), "lfw")
    assert "over 3 run seeds" in markdown and "36.0 ± 7.8 [2/0; p 0.23]" in markdown


def test_paired_t_needs_two_seeds_and_a_constant_gain_is_certain():
    assert np.isnan(paired_t_p_value(np.array([0.1])))
    assert paired_t_p_value(np.array([0.25, 0.25, 0.25])) == 0
    assert paired_t_p_value(np.zeros(3)) == 1


def test_open_set_runs_of_different_configurations_are_refused():
    one = open_set_table({"none": 0.3, "lm2": 0.4}, {"none": (0, 0), "lm2": (1, 0)}, {"none": 1, "lm2": 1})
    with pytest.raises(ValueError, match="face_mask/lm2/segmenter is in 1 of 2"):
        open_set_across_seeds({0: one, 1: one[one["strategy"] == "none"]})
