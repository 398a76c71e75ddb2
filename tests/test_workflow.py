"""The workflow itself: dry runs of the whole DAG and the data stage end to end on tiny data."""

import json
import re
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from occlusion_fr_tooling.rerun_cost import downstream, matching, parse_dry_run

from conftest import SHARED_LFW, TINY, TINY_PAIRS, needs_lfw, snakemake, write_config

pytestmark = pytest.mark.slow
# Jobs after the models: one generator job per masking layout (its regions in turn), one dictionary
# entry per region of each masking layout (grid3x3 9, lm1 4, lm2 5), feature maps of train/val/test
# clean crops, the 8 test occlusion sets and the 7 validation ones (the percentile sweep), occlusion masks of the 9 test probe sets and
# the 8 validation ones (clean too: the method selection), identification with no FDM and per
# layout, FDM controls, ablations and the percentile sweep per layout, the claims' tests, the
# method selection and the open set (they read every layout).
PER_LAYOUT = {"fdm_control": 1, "fdm_controls": 1, "fdm_ablation": 1, "fdm_ablations": 1, "percentile_sweep": 1,
              "percentile_sweeps": 1, "claim_tests": 1, "method_selection": 1, "open_set": 1}
MASK_STAGE_JOBS = {"feature_maps": 3 + 8 + 7, "occlusion_masks": 9 + 8, "mask_generator": 3, "mask_dictionary": 18,
                   "mask_figure": 3, "identification": 4, "table1": 1, "fdm_effect": 1, "saliency_figures": 1,
                   "verification": 1, "bundle": 1,
                   **{rule: 3 if rule in ("fdm_control", "fdm_ablation", "percentile_sweep") else 1
                      for rule in PER_LAYOUT}}


def planned_jobs(output: str) -> dict[str, int]:
    """Job counts from the 'Job stats' table that a dry run prints."""
    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def planned_wildcards(output: str, rule: str) -> list[str]:
    return re.findall(rf"^rule {rule}:\n(?:    .*\n)*?    wildcards: (.*)$", output, re.M)


# Jobs of one run seed, from the split on.
RUN_JOBS = {"split": 1, "landmark_statistics": 1, "region_layout": 4, "coverage_report": 1,
            "occlusion_set": 7 + 7 + 8, "occlusion_summary": 1, "region_blocks": 3, "base_cnn": 1, "segmenter": 1,
            "training_history": 2, **MASK_STAGE_JOBS}


def test_dry_run_of_the_whole_dag(workdir):
    assert planned_jobs(snakemake(workdir, "-n")) == {
        "synthetic_dataset": 1, "detect_faces": 1, "pair_faces": 1, "outsider_faces": 1, **RUN_JOBS, "across_seeds": 1, "open_set_across_seeds": 1,
        "all": 1}


def test_each_seed_is_a_complete_run_sharing_the_detections(workdir):
    output = snakemake(workdir, "-n", "--config", "seeds=[0,1,2]")
    assert planned_jobs(output) == {"synthetic_dataset": 1, "detect_faces": 1, "pair_faces": 1, "outsider_faces": 1,
                                    **{rule: 3 * n for rule, n in RUN_JOBS.items()}, "across_seeds": 1, "open_set_across_seeds": 1, "all": 1}
    assert sorted(planned_wildcards(output, "base_cnn")) == [f"dataset=synthetic, seed={s}" for s in (0, 1, 2)]


@needs_lfw
def test_dry_run_on_lfw(workdir):
    config = write_config(workdir / "lfw.yaml", {"dataset": "lfw", "datasets": {"lfw": {"archive": str(SHARED_LFW)}}})
    output = snakemake(workdir, "-n", "--configfile", str(config))
    assert planned_jobs(output)["lfw_dataset"] == 1
    assert "results/lfw/seed0/regions/lm2.json" in output


def test_data_stage_end_to_end_then_incremental(tiny_run):
    workdir = tiny_run
    config = workdir / "tiny.yaml"
    shared = workdir / "results" / "synthetic"
    out = shared / "seed0"

    split = pd.read_csv(out / "split.csv")
    assert len(split) == 20 and (split.groupby("split")["identity"].nunique() == 4).all()
    assert pd.read_csv(shared / "faces" / "failures.csv").empty
    for layout, regions in {"grid3x3": 9, "lm1": 4, "lm2": 5, "landmark_bands": 5}.items():
        data = json.loads((out / "regions" / f"{layout}.json").read_text())
        assert len(data["regions"]) == regions
        assert (out / "figures" / f"regions_{layout}.png").stat().st_size > 1000
    coverage = pd.read_csv(out / "regions" / "coverage.csv")
    assert set(coverage["layout"]) == {"lm1", "lm2", "landmark_bands"} and coverage["coverage"].between(0, 1).all()
    assert "| lm2 | all |" in (out / "regions" / "coverage.md").read_text()
    summary = pd.read_csv(out / "occlusions" / "summary.csv")
    assert len(summary) == 22 and (summary["images"] + summary["skipped"] > 0).all()
    assert (summary.loc[summary["split"] == "test", "images"] == 4).all()
    assert set(pd.read_csv(out / "blocks" / "lm2.csv")["split"]) == {"train", "val"}
    metrics = json.loads((out / "models" / "base_cnn" / "metrics.json").read_text())
    assert len(metrics["history"]) == 2 and 0 <= metrics["test_rank1"] <= metrics["test_rank5"] <= 1
    segmenter = pd.read_csv(out / "models" / "segmenter" / "test_metrics.csv").set_index("occlusion")
    assert {"face_mask", "sunglasses", "clean", "all occluded"} <= set(segmenter.index)
    assert segmenter["pixel_accuracy"].between(0, 1).all()
    for rule in ("synthetic_dataset", "detect_faces"):
        assert (shared / "benchmarks" / f"{rule}.tsv").is_file() and (shared / "logs" / f"{rule}.log").is_file()
    for rule in ("split", "region_layout_lm2", "occlusion_set_test_face_mask", "region_blocks_lm1", "occlusion_summary",
                 "base_cnn", "segmenter"):
        assert (out / "benchmarks" / f"{rule}.tsv").is_file() and (out / "logs" / f"{rule}.log").is_file()


    table = pd.read_csv(out / "table1.csv")
    assert set(table["detector"]) == {"segmenter", "oracle"}
    assert len(table) == 2 * 9 * 4  # detectors x rows (clean + 8 test occlusions) x strategies
    assert table["rank1"].between(0, 1).all() and (table["rank1"] <= table["rank5"]).all()
    assert (table.query("strategy == 'none'")["mean_kept_share"] == 1).all()
    oracle = table.query("detector == 'oracle' and strategy == 'lm2' and occlusion == 'eyes'").iloc[0]
    assert oracle["mean_regions"] == 1 and oracle["distinct_fdms"] == 1  # the eyes band is lm2's eyes region
    across = pd.read_csv(shared / "across_seeds" / "table1.csv")  # one seed here: its table, no deviation
    assert (across["seeds"] == 1).all() and across["rank1_std"].isna().all()
    assert np.allclose(across["rank1_mean"], table["rank1"], atol=1e-3)
    assert list(pd.read_csv(shared / "across_seeds" / "models.csv")["seed"].astype(str)) == ["0", "mean", "std"]
    effect = pd.read_csv(out / "identification" / "fdm_effect.csv", keep_default_na=False)
    assert len(effect) == 2 * 9 * 3  # detectors x rows x masking layouts
    assert np.allclose(effect["rank1_fdm"] - effect["rank1_no_fdm"], (effect["helped"] - effect["harmed"]) / 4)
    cells = table.set_index(["detector", "occlusion", "strategy"])["rank1"]
    assert np.allclose(effect["rank1_fdm"], [cells[k] for k in zip(effect["detector"], effect["occlusion"],
                                                                    effect["strategy"])], atol=1e-3)
    controls = pd.read_csv(out / "identification" / "fdm_controls.csv").set_index(["occlusion", "strategy", "control"])
    assert len(controls) == 2 * 3 * 5  # occlusions x masking layouts x controls
    assert (controls.xs("random", level="control")["draws"] == 3).all()
    assert (controls.xs("random_channels", level="control")["draws"] == 3).all()
    assert controls["kept_share"].between(0, 1).all()
    for (occlusion, strategy, control), row in controls.iterrows():  # the controls reproduce Table 1's cells
        if control in ("learned", "no_fdm"):
            cell = ("segmenter", occlusion, strategy if control == "learned" else "none")
            assert row["rank1"] == pytest.approx(cells[cell], abs=1e-3)
    # Each layout's dictionary is cut at the percentile its validation sweep chose (the default).
    sweep = pd.read_csv(out / "percentile_sweep" / "summary.csv").set_index("strategy")
    assert sorted(sweep.index) == ["grid3x3", "lm1", "lm2"] and sweep["chosen"].isin([20, 25, 30, 40]).all()
    assert (sweep["used"] == sweep["chosen"]).all() and sweep["paper"].tolist() == [25, 20, 30]
    for layout, regions in {"grid3x3": 9, "lm1": 4, "lm2": 5}.items():
        masks = sorted((out / "masks" / layout).glob("*.npy"))
        assert len(masks) == regions
        percentile = sweep.loc[layout, "chosen"]
        for path in masks:
            mask = np.load(path)
            assert mask.shape == (512, 8, 6) and mask.sum() == mask.size - round(percentile / 100 * mask.size)
    ablations = pd.read_csv(out / "identification" / "fdm_ablations.csv").set_index(["occlusion", "strategy", "variant"])
    assert len(ablations) == 2 * 3 * 5  # occlusions x masking layouts x variants
    for (occlusion, strategy, variant), row in ablations.iterrows():  # Table 1's cells come back
        if variant in ("fdm_before_bn", "no_fdm"):
            cell = ("segmenter", occlusion, strategy if variant == "fdm_before_bn" else "none")
            assert row["rank1"] == pytest.approx(cells[cell], abs=1e-3)
    lm2_chosen = sweep.loc["lm2", "test_rank1_chosen"]  # Table 1's lm2 column is the sweep at the chosen one
    assert lm2_chosen == pytest.approx(table.query("detector == 'segmenter' and strategy == 'lm2' and "
                                                   "occlusion != 'clean'")["rank1"].mean(), abs=1e-3)
    claims = pd.read_csv(out / "identification" / "claim_tests.csv")
    assert set(claims["claim"]) == set(range(1, 8)) and claims["p_value"].between(0, 1).all()
    for figure in ("masks_lm2", "saliency_clean", "saliency_fdm", "verification_roc", "percentile_sweep"):
        assert (out / "figures" / f"{figure}.png").stat().st_size > 1000

    # Pair verification: only pairs of the 6 people never trained on, counted per fold.
    pairs = pd.read_csv(shared / "pairs" / "pairs.csv")
    assert len(pairs) == TINY_PAIRS and pd.read_csv(shared / "pairs" / "failures.csv").empty
    seen = set(split["identity"])
    unseen = ~(pairs["identity1"].isin(seen) | pairs["identity2"].isin(seen))
    verification = json.loads((out / "verification.json").read_text())
    counted = {key: verification["pairs"][key] for key in ("pairs", "kept", "seen_identity", "no_crop")}
    assert counted == {"pairs": TINY_PAIRS, "kept": int(unseen.sum()), "seen_identity": int((~unseen).sum()), "no_crop": 0}
    assert [f["kept"] for f in verification["pairs_per_fold"]] == unseen.groupby(pairs["fold"]).sum().tolist()
    summary = pd.read_csv(out / "verification.csv")
    assert len(summary) == 9 * 4  # conditions (clean + 8 test occlusions) x strategies
    assert summary["accuracy"].between(0, 1).all() and (summary["pairs"] <= unseen.sum()).all()
    not_occluded = {k[len("not_occluded_"):]: v for k, v in verification["pairs"].items() if k.startswith("not_occluded_")}
    for row in summary.itertuples():  # every pair a condition leaves out is counted
        assert row.pairs == unseen.sum() - (0 if row.condition == "clean" else not_occluded.get(row.condition, 0))
    assert set(verification["open_set_thresholds"]) == {"none", "grid3x3", "lm1", "lm2"}
    scores = pd.read_csv(out / "verification" / "scores.csv.gz")
    assert not scores["image1"].str.split("/").str[0].isin(seen).any()
    assert (scores.query("strategy == 'none'")["regions"].isna()).all()
    assert "Pair verification" in (out / "verification.md").read_text()
    # Every test-time method on the same pairs; the run's own gives the verification table's TAR.
    methods = pd.read_csv(out / "verification_methods.csv")
    assert len(methods) == 6 * 4 and methods["method"].nunique() == 6
    run_method = "{position}, {normalisation}".format(**verification["method"])
    assert run_method == "before_bn, centre"  # config.yaml's default
    run_rows = methods[methods["method"] == run_method].set_index("strategy")
    clean = summary[summary["condition"] == "clean"].set_index("strategy")
    assert run_rows["tar_clean"].to_dict() == pytest.approx(clean["tar_at_far_0.001"].to_dict(), nan_ok=True)
    # The CSV holds 3 decimals (occlusion_fr.io.write_csv), the JSON the threshold itself.
    assert run_rows["open_set_threshold"].to_dict() == pytest.approx(verification["open_set_thresholds"], abs=5e-4)
    assert "(the run's)" in (out / "verification_methods.md").read_text()
    # The open set: the unseen people (1 to 5 images each), none of them in the split.
    open_set = pd.read_csv(out / "open_set.csv")
    record = json.loads((out / "open_set.json").read_text())
    assert record["people_enrolled"] == 4 and record["genuine_probes"] == 10 and record["impostor_probes"] == 2
    assert set(open_set["condition"]) == set(summary["condition"])  # clean and every test occlusion
    cells = set(zip(open_set["strategy"], open_set["detector"]))
    assert cells == {("none", "none")} | {(layout, detector) for layout in ("grid3x3", "lm1", "lm2")
                                          for detector in ("segmenter", "oracle", "random")}
    assert open_set["rank1"].between(0, 1).all() and (open_set["dir_at_far_0.01"] <= open_set["rank1"]).all()
    assert open_set["p_value"].between(0, 1).all() and "Open-set identification" in (out / "open_set.md").read_text()

    snakemake(workdir, "--report", "results/synthetic/report.html", "--configfile", str(config))
    assert "table1.md" in (shared / "report.html").read_text(errors="replace")

    assert "Nothing to be done" in snakemake(workdir, "-n", "--configfile", str(config))
    # Aligned crops are new detections (the crop param changes), and so a new run from them on.
    aligned = write_config(workdir / "aligned.yaml", {"detection": {"align": "similarity"}})
    plan = snakemake(workdir, "-n", "--configfile", str(config), str(aligned))
    assert {rule: planned_jobs(plan).get(rule) for rule in ("detect_faces", "pair_faces", "outsider_faces",
                                                              "base_cnn")} == dict.fromkeys(
        ("detect_faces", "pair_faces", "outsider_faces", "base_cnn"), 1)

    # Another run seed reuses the detections and crops, with its own split.
    detected = (shared / "faces" / "faces.csv").stat().st_mtime_ns
    snakemake(workdir, "--cores", "2", "--configfile", str(config), "--config", "seeds=[1]", "--",
              "results/synthetic/seed1/occlusions/test/face_mask.csv")
    assert (shared / "faces" / "faces.csv").stat().st_mtime_ns == detected
    other = pd.read_csv(shared / "seed1" / "split.csv").set_index("image")["split"]
    mine = split.set_index("image")["split"]
    assert sorted(other.index) == sorted(mine.index) and (other[mine.index] != mine).any()

    # Changing one layout's definition reruns only that layout's jobs (and the combined reports).
    edited = dict(TINY, layouts={"lm1": {"regions": {"nose": {"centre": {"landmarks": ["nose"], "width_sigmas": 3,
                                                                          "height_sigmas": 3}}}}})
    output = snakemake(workdir, "-n", "--configfile", str(write_config(workdir / "edited.yaml", edited)))
    assert planned_jobs(output) == {"region_layout": 1, "region_blocks": 1, "coverage_report": 1,
                                    "mask_generator": 1, "mask_dictionary": 4, "mask_figure": 1,
                                    "identification": 1, "table1": 1, "fdm_effect": 1, **PER_LAYOUT,
                                    "verification": 1, "bundle": 1, "across_seeds": 1, "open_set_across_seeds": 1, "all": 1}
    for rule in ("region_layout", "region_blocks"):
        assert planned_wildcards(output, rule) == ["dataset=synthetic, seed=0, layout=lm1"]
    for rule in ("mask_generator", "mask_dictionary", "mask_figure"):
        assert all("masking_layout=lm1" in w for w in planned_wildcards(output, rule))
    assert planned_wildcards(output, "identification") == ["dataset=synthetic, seed=0, strategy=lm1"]
    assert planned_wildcards(output, "fdm_control") == ["dataset=synthetic, seed=0, masking_layout=lm1"]
    # occlusion_fr_tooling/layout_rerun.py prices, from the whole DAG, exactly the jobs Snakemake reruns.
    dag = parse_dry_run(snakemake(workdir, "-n", "--forceall", "--configfile", str(config)))
    assert Counter(dag[i].rule for i in downstream(dag, matching(dag, "region_layout", layout="lm1"))) == \
        planned_jobs(output)

    # Editing the masking layout lm2 leaves the occlusions and the models alone ...
    lm2_mouth = {"top": {"landmarks": ["mouth_left", "mouth_right"], "sigmas": -1.5},
                 "bottom": {"landmarks": ["mouth_left", "mouth_right"], "sigmas": 2}}
    edited = dict(TINY, layouts={"lm2": {"regions": {"mouth": lm2_mouth}}})
    output = snakemake(workdir, "-n", "--configfile", str(write_config(workdir / "lm2.yaml", edited)))
    assert planned_jobs(output) == {"region_layout": 1, "region_blocks": 1, "coverage_report": 1,
                                    "mask_generator": 1, "mask_dictionary": 5, "mask_figure": 1,
                                    "identification": 1, "table1": 1, "fdm_effect": 1, "saliency_figures": 1,
                                    **PER_LAYOUT, "verification": 1, "bundle": 1, "across_seeds": 1, "open_set_across_seeds": 1, "all": 1}
    assert planned_wildcards(output, "region_layout") == ["dataset=synthetic, seed=0, layout=lm2"]

    # ... while moving the Table 1 bands reruns the band occlusions, the segmenter and the
    # evaluation, but no generator and no base CNN.
    edited = dict(TINY, occlusion_layouts={"landmark_bands": {"regions": {"mouth": lm2_mouth}}})
    output = snakemake(workdir, "-n", "--configfile", str(write_config(workdir / "bands.yaml", edited)))
    occlusions = {w.split("occlusion=")[1] for w in planned_wildcards(output, "occlusion_set")}
    assert occlusions == {"forehead", "eyes", "nose", "mouth", "chin", "nose_mouth_chin"}
    jobs = planned_jobs(output)
    assert jobs["occlusion_set"] == 5 + 5 + 6 and jobs["segmenter"] == 1 and jobs["identification"] == 4
    assert jobs["verification"] == 1 and jobs["open_set"] == 1 and not {"pair_faces", "outsider_faces"} & set(jobs)
    assert not {"base_cnn", "region_blocks", "detect_faces", "mask_generator"} & set(jobs)
    # The validation bands moved too, so each layout's sweep, and the dictionary it chooses, reruns.
    assert jobs["percentile_sweep"] == 3 and jobs["mask_dictionary"] == 18

    # A percentile belongs to the mask dictionary: the regions and the generators stay.
    percentile = dict(TINY, layouts={"lm2": {"percentile": 10}})
    output = snakemake(workdir, "-n", "--configfile", str(write_config(workdir / "pct.yaml", percentile)))
    assert planned_jobs(output) == {"mask_dictionary": 5, "mask_figure": 1, "identification": 1, "table1": 1,
                                    "fdm_effect": 1, "saliency_figures": 1, **PER_LAYOUT,
                                    "verification": 1, "bundle": 1, "across_seeds": 1, "open_set_across_seeds": 1, "all": 1}
    # The DAG's downstream jobs, plus the layout's sweep, which reads no dictionary file but always
    # includes the configured percentile (a parameter), so layout_rerun.py underprices it by them.
    sweep = {"percentile_sweep": 1, "percentile_sweeps": 1}
    assert Counter(dag[i].rule for i in downstream(dag, matching(dag, "mask_dictionary", masking_layout="lm2"))) + \
        Counter(sweep) == planned_jobs(output)

    # A new layout adds its own jobs and its Table 1 column, nothing else.
    added = dict(TINY, layouts={"grid2x2": {"percentile": 25, "grid": {"rows": 2, "cols": 2}}})
    output = snakemake(workdir, "-n", "--configfile", str(write_config(workdir / "added.yaml", added)))
    assert planned_jobs(output) == {"region_layout": 1, "region_blocks": 1, "coverage_report": 1,
                                    "mask_generator": 1, "mask_dictionary": 4, "mask_figure": 1,
                                    "identification": 1, "table1": 1, "fdm_effect": 1, **PER_LAYOUT,
                                    "verification": 1, "bundle": 1, "across_seeds": 1, "open_set_across_seeds": 1, "all": 1}
    assert all("masking_layout=grid2x2" in w for w in planned_wildcards(output, "mask_generator"))
