"""The percentile chosen on validation: the choice reads validation only, each layout keeps its
own swept percentiles (its paper's among them), and `validation` cuts the dictionary there."""

import pandas as pd
import pytest

from occlusion_fr.evaluation.percentile_sweep import sweep_markdown, sweep_summary
from occlusion_fr.masking.percentile import choose_percentile, dictionary_percentile, fixed_percentiles
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
    layouts = {"lm2": {"percentile": "validation", "paper_percentile": 30},
               "grid3x3": {"percentile": 25, "paper_percentile": 25}}
    summary = sweep_summary(sweep, layouts).set_index("strategy")
    assert summary.loc["lm2", "val_rank1_paper"] == pytest.approx(0.4)
    assert summary.loc["grid3x3", "test_rank1_chosen"] == pytest.approx(0.2)
    assert summary.loc["lm2", "used"] == 40 and summary.loc["grid3x3", "used"] == 25  # a number stays fixed
    markdown = sweep_markdown(summary.reset_index(), sweep, "toy")
    assert "| lm2 | 30 | 40 | 40 | 40.0 | 50.0 | 30.0 | 40.0 |" in markdown
    assert "| eyes | 50.0 | 45.0 | **50.0** |" not in markdown and "| eyes | 30.0 | 40.0 | **50.0** |" in markdown
    assert "| eyes | **50.0** | 45.0 | 30.0 |" in markdown  # the grid's own columns: 20, 25, 40
    assert percentile_sweep_figure(sweep, summary.reset_index(), "toy") is not None
    with pytest.raises(ValueError, match="no validation rows"):
        choose_percentile(sweep[sweep["split"] == "test"])


def test_validation_cuts_the_dictionary_at_the_chosen_percentile_and_fixed_ones_are_swept():
    sweep = sweep_table()
    lm2 = sweep[sweep["strategy"] == "lm2"]
    assert dictionary_percentile("validation", lm2) == 40
    assert dictionary_percentile(30, lm2) == 30.0  # a number is never overridden by the sweep
    with pytest.raises(ValueError, match="needs the layout's percentile sweep"):
        dictionary_percentile("validation", None)
    assert fixed_percentiles({"percentile": "validation", "paper_percentile": 30}) == [30.0]
    assert fixed_percentiles({"percentile": 45, "paper_percentile": None}) == [45.0]


def test_a_layout_the_paper_lacks_has_no_paper_columns():
    sweep = sweep_table()
    summary = sweep_summary(sweep, {"lm2": {"percentile": "validation", "paper_percentile": None},
                                    "grid3x3": {"percentile": "validation", "paper_percentile": 25}})
    lm2 = summary.set_index("strategy").loc["lm2"]
    assert lm2["chosen"] == 40 and pd.isna(lm2["paper"]) and pd.isna(lm2["val_rank1_paper"])
    assert percentile_sweep_figure(sweep, summary, "toy") is not None
