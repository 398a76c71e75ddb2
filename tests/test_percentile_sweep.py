"""The percentile chosen on validation: the choice reads validation only, each layout keeps its
own swept percentiles (its configured one among them)."""

import pandas as pd
import pytest

from occlusion_fr.evaluation.percentile_sweep import choose_percentile, sweep_markdown, sweep_summary
from occlusion_fr.figures import percentile_sweep_figure


def sweep_table() -> pd.DataFrame:
    rows = []
    for strategy, percentiles in (("lm2", (20, 30, 40)), ("grid3x3", (20, 25, 40))):
        for split in ("val", "test"):
            for percentile in percentiles:
                for occlusion in ("eyes", "face_mask"):
                    # validation peaks at 40 for lm2 and 20 for the grid; test prefers the other end
                    best = 40 if strategy == "lm2" else 20
                    score = 0.5 - abs(percentile - best) / 100 if split == "val" else percentile / 100
                    rows.append({"strategy": strategy, "split": split, "percentile": float(percentile),
                                 "occlusion": occlusion, "probes": 10, "rank1": score, "kept_share": 0.7})
    return pd.DataFrame(rows)


def test_the_choice_reads_validation_only_and_each_layout_its_own_percentiles():
    sweep = sweep_table()
    assert choose_percentile(sweep[sweep["strategy"] == "lm2"]) == 40
    assert choose_percentile(sweep[sweep["strategy"] == "grid3x3"]) == 20
    summary = sweep_summary(sweep, {"lm2": 30, "grid3x3": 25}).set_index("strategy")
    assert summary.loc["lm2", "val_rank1_configured"] == pytest.approx(0.4)
    assert summary.loc["grid3x3", "test_rank1_chosen"] == pytest.approx(0.2)
    markdown = sweep_markdown(summary.reset_index(), sweep, "toy")
    assert "| lm2 | 30 | 40 | 40.0 | 50.0 | 30.0 | 40.0 |" in markdown
    assert "| eyes | 50.0 | 45.0 | **50.0** |" not in markdown and "| eyes | 30.0 | 40.0 | **50.0** |" in markdown
    assert "| eyes | **50.0** | 45.0 | 30.0 |" in markdown  # the grid's own columns: 20, 25, 40
    assert percentile_sweep_figure(sweep, summary.reset_index(), "toy") is not None
    with pytest.raises(ValueError, match="no validation rows"):
        choose_percentile(sweep[sweep["split"] == "test"])
