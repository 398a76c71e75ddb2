"""The extended table (issue 29) over committed LFW seeds: the plain base against a variant
built from them with known differences."""

import shutil

import numpy as np
import pandas as pd
import pytest

from occlusion_fr.evaluation.beyond import COLUMNS, beyond_reading
from occlusion_fr_tooling.table_beyond import render

from conftest import REPO

SEEDS = [0, 1]
FILES = ["table1.csv", "percentile_sweep/summary.csv", "identification/fdm_controls.csv", "open_set.csv",
         "verification.csv"]


def copy_seeds(root, dataset, change=None):
    for seed in SEEDS:
        for name in FILES:
            source = REPO / "results" / "lfw" / f"seed{seed}" / name
            target = root / "results" / dataset / f"seed{seed}" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
        if change:
            change(root / "results" / dataset / f"seed{seed}")


def better_under_face_masks(folder):
    """A variant 10 points better on face-mask test probes, whose validation prefers lm1."""
    table = pd.read_csv(folder / "table1.csv")
    table.loc[table["occlusion"] == "face_mask", "rank1"] += 0.1
    table.to_csv(folder / "table1.csv", index=False)
    sweep = pd.read_csv(folder / "percentile_sweep/summary.csv")
    sweep.loc[sweep["strategy"] == "lm1", "val_rank1_chosen"] = 0.99
    sweep.to_csv(folder / "percentile_sweep/summary.csv", index=False)


def test_the_extended_table_tests_each_column_against_the_plain_base(tmp_path):
    copy_seeds(tmp_path, "lfw")
    copy_seeds(tmp_path, "lfw_better", better_under_face_masks)
    folder, left_out = render({"plain": "lfw", "better": "lfw_better", "absent": "lfw_absent"}, SEEDS, tmp_path)
    assert left_out == [f"absent (lfw_absent): no finished seed of {SEEDS}"]
    table = pd.read_csv(folder / "table_beyond.csv").set_index(["row", "variant", "column"])
    plain_sweeps = pd.concat([pd.read_csv(REPO / f"results/lfw/seed{s}/percentile_sweep/summary.csv") for s in SEEDS])
    plain_layout = plain_sweeps.groupby("strategy")["val_rank1_chosen"].mean().idxmax()
    truth = pd.concat([pd.read_csv(REPO / f"results/lfw/seed{s}/table1.csv") for s in SEEDS])
    truth = truth[truth["detector"] == "segmenter"].groupby(["occlusion", "strategy"])["rank1"].mean()

    close = {"atol": 1e-3, "rtol": 0}  # the CSV holds 3 decimals
    np.testing.assert_allclose(table.loc[("face_mask", "plain", "best_layout"), "mean"],
                               truth[("face_mask", plain_layout)], **close)
    np.testing.assert_allclose(table.loc[("face_mask", "better", "best_layout"), "mean"],
                               truth[("face_mask", "lm1")] + 0.1, **close)  # its own best layout, chosen on validation
    # The same gain on every seed: the paired test against the plain base's no FDM says so.
    np.testing.assert_allclose(table.loc[("face_mask", "better", "no_fdm"), "mean"], truth[("face_mask", "none")] + 0.1,
                               **close)
    assert table.loc[("face_mask", "better", "no_fdm"), "p_value_vs_plain_no_fdm"] < 1e-3
    assert table.loc[("clean", "better", "no_fdm"), "p_value_vs_plain_no_fdm"] == 1.0
    assert np.isnan(table.loc[("clean", "plain", "no_fdm"), "p_value_vs_plain_no_fdm"])
    # The random control exists only where fdm_controls examined the occlusion.
    random_rows = set(table.xs("random", level="column").index.get_level_values("row"))
    assert {"face_mask", "sunglasses"} <= random_rows and "eyes" not in random_rows
    assert set(table.index.get_level_values("column")) == set(COLUMNS)
    assert {"open set face_mask rank-1", "open set face_mask DIR at FAR 0.01",
            "verification clean TAR at FAR 0.001"} <= set(table.index.get_level_values("row"))

    markdown = (folder / "table_beyond.md").read_text()
    header = next(line for line in markdown.splitlines() if line.startswith("| result |"))
    face_mask = next(line for line in markdown.splitlines() if line.startswith("| face_mask |"))
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    cells = [cell.strip() for cell in face_mask.strip("|").split("|")]
    bolded = [column for column, cell in zip(columns, cells) if cell.startswith("**")]
    assert bolded == ["better: lm1"]  # the row's best mean, and only it
    assert (f"plain: seeds 0, 1, best layout on validation {plain_layout}; "
            "better: seeds 0, 1, best layout on validation lm1") in markdown
    assert "left out: absent (lfw_absent)" in markdown

    # The reading names each row's winner, its margin over the plain no FDM, and the goals.
    reading = beyond_reading(pd.read_csv(folder / "table_beyond.csv"), "plain", {"face_mask": 0.75})
    face_mask_line = next(line for line in reading if line.startswith("- face_mask:"))
    gain = 100 * (table.loc[("face_mask", "better", "best_layout"), "mean"] - table.loc[("face_mask", "plain", "no_fdm"),
                                                                                        "mean"])
    assert face_mask_line.startswith("- face_mask: better, best layout ") and f"({gain:+.1f} points, 2 seeds)" in face_mask_line
    best = table.loc[("face_mask", "better", "best_layout"), "mean"]
    verdict = "met" if best >= 0.75 else f"missed by {100 * (0.75 - best):.1f} points"
    assert face_mask_line.endswith(f"; the 75% goal is {verdict} on 2 of the 3 seeds it asks for")
    assert "goal" not in reading[0]
    assert len(reading) == table.index.get_level_values("row").nunique()


def test_without_the_plain_base_there_is_no_table(tmp_path):
    copy_seeds(tmp_path, "lfw_better", better_under_face_masks)
    with pytest.raises(FileNotFoundError, match="the plain base"):
        render({"plain": "lfw", "better": "lfw_better"}, SEEDS, tmp_path)


def test_a_variant_run_only_to_its_no_fdm_identification_gives_that_column(tmp_path):
    copy_seeds(tmp_path, "lfw")
    for seed in SEEDS[:1]:
        target = tmp_path / "results" / "lfw_first_look" / f"seed{seed}" / "identification" / "none.csv"
        target.parent.mkdir(parents=True)
        shutil.copy(REPO / "results" / "lfw" / f"seed{seed}" / "identification" / "none.csv", target)
    folder, left_out = render({"plain": "lfw", "first_look": "lfw_first_look"}, SEEDS, tmp_path)
    assert left_out == ["first_look (lfw_first_look): seeds [1] not finished"]
    table = pd.read_csv(folder / "table_beyond.csv")
    first_look = table[table["variant"] == "first_look"]
    assert set(first_look["column"]) == {"no_fdm"} and (first_look["seeds"] == 1).all()
    assert first_look["p_value_vs_plain_no_fdm"].isna().all()  # one seed: no test
    plain = table[(table["variant"] == "plain") & (table["column"] == "no_fdm")].set_index("row")
    truth = pd.read_csv(REPO / "results/lfw/seed0/identification/none.csv").set_index("occlusion")["rank1"]
    np.testing.assert_allclose(first_look.set_index("row").loc[truth.index, "mean"], truth, atol=1e-9)
    assert set(first_look["row"]) == set(truth.index) <= set(plain.index)
    assert "first_look: seeds 0, no FDM only" in (folder / "table_beyond.md").read_text()
