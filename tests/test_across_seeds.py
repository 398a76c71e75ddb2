"""Table 1 and model metrics over run seeds: mean, sample deviation, ordering, mismatched runs."""

import numpy as np
import pandas as pd
import pytest

from occlusion_fr.evaluation.across_seeds import (model_metrics, models_across_seeds, models_across_seeds_markdown,
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
