"""The rendered results pages (README.md, docs/results.md, docs/performance.md): the paper's claims,
the rendering from a results folder, the committed pages matching the committed LFW results, and
every relative link of the README and docs/ resolving."""

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from occlusion_fr.evaluation.claims import CLAIMS, check_claims
from occlusion_fr.io import write_json
from occlusion_fr_tooling.readme_results import END, PAGES, README, START, render_pages, replace_section

from conftest import REPO
from test_stage_times import write_benchmark

PAPER = pd.read_csv(REPO / "resources" / "paper_table1.csv")
PAPER_MODELS = pd.read_csv(REPO / "resources" / "paper_models.csv")
STAGES = ["data", "faces", "regions", "occlusions", "models", "masks", "evaluation"]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)[^)]*\)")


def render(results) -> str:
    """Every page's rendered section, one after the other."""
    return "\n".join(render_pages(results, PAPER, PAPER_MODELS, REPO / "rules", STAGES).values())


def across_seeds_table(values: dict[int, dict], oracle: dict[int, dict] | None = None) -> pd.DataFrame:
    """An across-seeds Table 1 from per-seed rank-1 (fractions) per cell: the segmenter's rows
    from ``values``, the oracle's from ``oracle`` (the same values unless given)."""
    cells = sorted({cell for seed_values in values.values() for cell in seed_values})
    lines = []
    for detector, detector_values in (("segmenter", values), ("oracle", oracle or values)):
        lines += table_rows(detector, detector_values, cells)
    return pd.DataFrame(lines)


def table_rows(detector: str, values: dict[int, dict], cells: list) -> list[dict]:
    lines = []
    for occlusion, strategy in cells:
        per_seed = {seed: v[(occlusion, strategy)] for seed, v in values.items()}
        paper = PAPER.set_index(["occlusion", "strategy"])["rank1"].get((occlusion, strategy), np.nan)
        lines.append({"detector": detector, "occlusion": occlusion, "strategy": strategy, "seeds": len(values),
                      "rank1_mean": np.mean(list(per_seed.values())),
                      "rank1_std": np.std(list(per_seed.values()), ddof=1) if len(values) > 1 else np.nan,
                      "rank5_mean": 1.0, "rank5_std": 0.0, "paper_rank1": paper,
                      **{f"rank1_seed{seed}": v for seed, v in per_seed.items()}})
    return lines


def paper_values(scale: float = 1.0) -> dict:
    return {(o, s): scale * r / 100 for o, s, r in PAPER.itertuples(index=False)}


def test_every_claim_holds_on_the_papers_own_table():
    table = across_seeds_table({0: paper_values()})
    results = check_claims(table, PAPER)
    assert len(results) == len(CLAIMS)
    assert all(r["reproduced"] and r["paper_holds"] and r["seeds_holding"] == 1 for r in results)


def test_a_claim_fails_when_our_numbers_contradict_it():
    ours = paper_values()
    ours[("face_mask", "lm2")] = 0.5  # LM2 now beats no FDM (24.2%) on face masks
    other_seed = paper_values()
    results = {r["claim"]: r for r in check_claims(across_seeds_table({0: ours, 1: other_seed}), PAPER)}
    face_mask = next(r for text, r in results.items() if text.startswith("On face masks no FDM"))
    assert not face_mask["reproduced"] and face_mask["seeds_holding"] == 1 and face_mask["paper_holds"]
    assert ("face_mask", "lm2", pytest.approx(100 * (0.5 + 0.1989) / 2), 19.89) in face_mask["cells"]


def test_the_claims_table_says_in_how_many_seeds_each_claim_holds_with_the_oracles_regions(tmp_path):
    from occlusion_fr_tooling.readme_results import claims_section
    ours = paper_values()
    ours[("face_mask", "lm2")] = 0.5  # the segmenter's regions: LM2 beats no FDM on face masks
    table = across_seeds_table({0: ours, 1: ours}, oracle={0: paper_values(), 1: ours})
    lines = claims_section(table, PAPER, tmp_path, [0, 1])
    row = next(line for line in lines if line.startswith("| On face masks no FDM"))
    assert row.startswith("| On face masks no FDM beats every masking strategy (section 5.3) | **not reproduced** | "
                          "0 of 2 | - | 1 of 2 |")
    assert sum(line.endswith(" |") and "| 2 of 2 | - | 2 of 2 |" in line for line in lines) == len(CLAIMS) - 1


def fake_results(root, seeds=(0, 1)):
    """A results folder as the pipeline leaves it: across-seeds tables, metrics, benchmarks."""
    (root / "across_seeds").mkdir(parents=True)
    across_seeds_table({s: paper_values(1 + s / 10) for s in seeds}).to_csv(root / "across_seeds" / "table1.csv",
                                                                            index=False)
    models = pd.DataFrame([{"seed": str(s), "base_cnn_test_rank1": 0.9 + s / 100, "base_cnn_test_rank5": 0.97,
                            "segmenter_pixel_accuracy": 0.98, "segmenter_iou": 0.95} for s in seeds])
    summary = pd.DataFrame([{"seed": k, **getattr(models.drop(columns="seed"), k)()} for k in ("mean", "std")])
    pd.concat([models, summary]).to_csv(root / "across_seeds" / "models.csv", index=False)
    (root / "faces").mkdir()
    (root / "faces" / "failures.csv").write_text("image,identity,reason\nA/A_0001.jpg,A,no face\n")
    pd.DataFrame([{"finished": "2026-11-29T05:00:00Z", "seeds": "0,1", "cores": "2", "wall_seconds": 3900,
                   "commit": "abc1234", "machine": "2 CPU threads (test CPU), no GPU"}]).to_csv(
        root / "run_times.csv", index=False)
    (root / "benchmarks").mkdir()
    write_benchmark(root / "benchmarks", "detect_faces", 90.0)
    write_benchmark(root / "benchmarks", "across_seeds", 1.0)
    for seed in seeds:
        folder = root / f"seed{seed}" / "benchmarks"
        folder.mkdir(parents=True)
        write_benchmark(folder, "base_cnn", 1500.0 + 60 * seed)
        write_benchmark(folder, "mask_generator_lm2_eyes", 300.0)
        (root / f"seed{seed}" / "identification").mkdir(parents=True)
        pd.DataFrame([{"detector": "segmenter", "occlusion": o, "strategy": "lm2", "probes": 10, "rank1_no_fdm": 0.2,
                       "rank1_fdm": 0.3, "helped": 2 + seed, "harmed": 1, "no_region_share": 0.1,
                       "top_regions": "nose+mouth", "top_regions_share": 0.6} for o in ("face_mask", "eyes")]).to_csv(
            root / f"seed{seed}" / "identification" / "fdm_effect.csv", index=False)
        pd.DataFrame([{"strategy": "lm2", "detector": "segmenter", "occlusion": "face_mask", "control": control,
                       "probes": 10, "draws": 3 if control == "random" else 1, "rank1": rank1, "rank1_std": 0.0,
                       "kept_share": 1.0 if control == "no_fdm" else 0.5, "masked_probes_share": 0.9}
                      for control, rank1 in (("no_fdm", 0.2), ("learned", 0.3 + seed / 10), ("probe_only", 0.25),
                                             ("random", 0.1), ("random_channels", 0.3))]).to_csv(
            root / f"seed{seed}" / "identification" / "fdm_controls.csv", index=False)
        pd.DataFrame([{"strategy": "lm2", "detector": "segmenter", "occlusion": "face_mask", "variant": variant,
                       "probes": 10, "rank1": rank1 + seed / 10, "kept_share": kept, "masked_probes_share": 0.9}
                      for variant, rank1, kept in (("no_fdm", 0.2, 1.0), ("fdm_before_bn", 0.3, 0.5),
                                                   ("cell_drop_after_bn", 0.4, 0.6))]).to_csv(
            root / f"seed{seed}" / "identification" / "fdm_ablations.csv", index=False)
        (root / f"seed{seed}" / "percentile_sweep").mkdir(parents=True)
        pd.DataFrame([{"strategy": "lm2", "paper": 30.0, "chosen": 40.0 + 5 * seed, "used": 40.0 + 5 * seed,
                       "val_rank1_paper": 0.5, "val_rank1_chosen": 0.6, "test_rank1_paper": 0.45,
                       "test_rank1_chosen": 0.55}]).to_csv(
            root / f"seed{seed}" / "percentile_sweep" / "summary.csv", index=False)
        write_json(root / f"seed{seed}" / "split_summary.json", {
            "images": 100, "identities": 5, "images_per_split": {"train": 70, "val": 15, "test": 15 + seed},
            "identities_per_split": {"train": 5, "val": 5, "test": 5}})
        write_json(root / f"seed{seed}" / "models" / "base_cnn" / "metrics.json",
                   {"machine": {"description": "2 CPU threads (test CPU), no GPU"}})
    return root


def test_the_section_renders_tables_claims_figure_and_stage_times(tmp_path):
    pages = render_pages(fake_results(tmp_path / "lfw"), PAPER, PAPER_MODELS, REPO / "rules", STAGES)
    assert list(pages) == list(PAGES)
    assert all(page.startswith(START) and page.rstrip().endswith(END) for page in pages.values())
    section = "\n".join(pages.values())
    assert "mean ± standard deviation over run seeds 0, 1" in section
    assert "Test-time method (FDM position, normalisation): before_bn, none (the paper's;" in section
    eyes_lm2 = 100 * np.mean([0.0813, 0.0813 * 1.1])
    assert f"| **{eyes_lm2:.1f} ± {100 * np.std([0.0813, 0.0813 * 1.1], ddof=1):.1f}** (8.1) |" in section
    assert "| base CNN test rank-1 | 90.0 | 91.0 | 90.5 ± 0.7 | 82.51 |" in section
    assert section.count("| reproduced | 2 of 2 |") == len(CLAIMS)
    assert "results/lfw/seed0/figures/saliency_fdm.png" in section
    assert "| face_mask | lm2 | 20 | 5 | 2 | +3 | 10% | nose+mouth (60%) |" in section and "| eyes | lm2 |" not in section
    # face_mask, lm2: learned 35 (mean of 30 and 40), no FDM 20, random 10, random channels 30, probe only
    # 25; the paper's lm2 - no FDM: 19.89 - 24.20.
    assert ("| face_mask | lm2 | 20.0 | 35.0 | 25.0 | 10.0 | 30.0 | 50% | +15.0 (-4.3) | +25.0 | +20.0 | +10.0 |"
            in section)
    # Ablations: means over the seeds (0.3 and 0.4 for the learned FDM), kept share in brackets.
    assert "| face_mask | lm2 | 25.0 (100%) | 35.0 (50%) | 45.0 (60%) |" in section
    assert "## A plain ResNet34 head" not in section  # no pooled-head experiment in these results
    assert "| 1 | lm2 | 30 | 45 | 45 | 50.0 / 60.0 | 45.0 / 55.0 |" in section
    assert "101 images" in section and "no face in 1" in section
    assert "- seed 1: 70 train / 15 validation / 16 test images, 5 people in every split" in section
    assert "Job time per stage in minutes (2 CPU threads (test CPU), no GPU)" in section
    assert "| models (base CNN, segmenter) |  | 25.0 | 26.0 |" in section
    assert "| faces (detection, crops, split) | 1.5 |  |  |" in section
    assert "| **one seed from the raw archive** (shared + seed) |  | **31.5** | **32.5** |" in section
    assert "| 2026-11-29T05:00:00Z | 0,1 | 2 | 65.0 | abc1234 | 2 CPU threads (test CPU), no GPU |" in section


def test_the_readme_summary_and_the_verification_tables(tmp_path):
    results = fake_results(tmp_path / "lfw")
    for seed, accuracy in ((0, 0.8), (1, 0.9)):
        pd.DataFrame([{"condition": c, "strategy": s, "pairs": 10, "accuracy_std": 0.01, "tar_at_far_0.001": 0.5,
                       "accuracy": accuracy - (0.1 if (c, s) == ("face_mask", "none") else 0.0)}
                      for c in ("clean", "face_mask") for s in ("none", "lm2")]).to_csv(
            results / f"seed{seed}" / "verification.csv", index=False)
        method = {"method": {"position": "after_bn", "normalisation": "centre"}} if seed else {}
        write_json(results / f"seed{seed}" / "verification.json",
                   {"open_set_far": 0.001, "pairs": {"pairs": 20, "kept": 10, "seen_identity": 9, "no_crop": 1},
                    **method})
    pages = render_pages(results, PAPER, PAPER_MODELS, REPO / "rules", STAGES)
    readme = pages[README]
    assert "mean ± standard deviation over run seeds 0, 1" in readme
    assert "- Base CNN on clean test faces: rank-1 90.5 ± 0.7% (paper 82.51%)" in readme
    assert f"The paper's claims about Table 1: {len(CLAIMS)} of {len(CLAIMS)} reproduced" in readme
    assert "(no FDM, lm2): clean 85.0 / 85.0; face_mask 75.0 / 85.0." in readme
    assert "- One seed from the raw archive: 32 min of job time (2 CPU threads (test CPU), no GPU)" in readme
    assert ("Test-time method (FDM position, normalisation) differs between seeds, so their mean mixes methods: "
            "seed 0: before_bn, none (the paper's; scored before the setting existed); seed 1: after_bn, centre."
            in readme)
    assert "## Pair verification" not in readme and "## Job time per stage" not in readme
    results_page = pages["docs/results.md"]
    assert ("10 of 20 pairs (9 dropped for a person the run trained on, 1 for an image without a crop) in every seed"
            in results_page)
    assert "| clean | **85.0 ± 7.1** | **85.0 ± 7.1** |" in results_page
    assert "| face_mask | 75.0 ± 7.1 | **85.0 ± 7.1** |" in results_page
    assert "TAR (%) at FAR 0.001" in results_page and "| face_mask | **50.0** | **50.0** |" in results_page
    assert "](../results/lfw/seed0/figures/saliency_fdm.png)" in results_page  # links from docs/ to the root
    assert "## Job time per stage" in pages["docs/performance.md"]


def test_a_seed_without_the_fdm_effect_table_is_reported(tmp_path):
    results = fake_results(tmp_path / "lfw")
    (results / "seed1" / "identification" / "fdm_effect.csv").unlink()
    section = render(results)
    assert "Seed(s) 1: not in their committed results (their run predates the `fdm_effect` rule" in section
    assert "results/lfw/seed0/figures/saliency_fdm.png" in section and "and the FDM itself" in section
    assert "| face_mask | lm2 | 10 | 2 | 1 | +1 | 10% | nose+mouth (60%) |" in section  # seed 0 alone


def test_resumed_trainings_are_named_beside_the_stage_times(tmp_path):
    results = fake_results(tmp_path / "lfw")
    (results / "seed1" / "logs").mkdir()
    (results / "seed1" / "logs" / "segmenter.log").write_text("INFO resuming from x/last.pt after epoch 10\n")
    (results / "seed1" / "logs" / "base_cnn.log").write_text("INFO epoch 1\n")
    section = render(results)
    assert "`results/lfw/seed1/logs/segmenter.log`" in section and "base_cnn.log" not in section


def test_layout_rerun_costs_are_rendered_for_the_seeds_that_have_them(tmp_path):
    results = fake_results(tmp_path / "lfw")
    section = render(results)
    assert "Rerun after editing one masking layout" not in section
    pd.DataFrame([{"seed": 1, "layout": "lm2", "change": change, "jobs": jobs, "seconds": seconds,
                   "unmeasured_jobs": missing, "rules": "table1", "share_of_run": seconds / 1950}
                  for change, jobs, seconds, missing in (("regions", 22, 195.0, 0), ("percentile", 14, 39.0, 1))]
                 ).to_csv(results / "seed1" / "layout_reruns.csv", index=False)
    section = render(results)
    assert "| layout | edit | jobs | seed 1 |" in section
    assert "| lm2 | regions | 22 | 3.2 (10.0%) |" in section
    assert "| lm2 | percentile | 14 | 0.7 (2.0%, 1 jobs unmeasured) |" in section


def test_only_the_marked_section_is_replaced():
    readme = f"intro\n{START}\nold\n{END}\noutro\n"
    assert replace_section(readme, f"{START}\nnew\n{END}\n") == f"intro\n{START}\nnew\n{END}\noutro\n"
    with pytest.raises(ValueError, match="no results markers"):
        replace_section("no markers", "x")


def test_the_readme_and_docs_show_what_the_committed_lfw_results_render():
    result = subprocess.run([sys.executable, "-m", "occlusion_fr_tooling.render_readme", "--check"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert result.returncode == 0, result.stdout


def test_every_page_with_a_rendered_section_is_rendered():
    marked = {str(path.relative_to(REPO)) for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
              if START in path.read_text() or END in path.read_text()}
    assert marked == set(PAGES)


def test_the_readme_is_read_in_two_minutes():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    assert "make run" in readme and "make test" in readme and "occlusion-fr identify" in readme


@pytest.mark.parametrize("page", ["README.md", *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md"))])
def test_every_relative_link_points_to_an_existing_file(page):
    path = REPO / page
    targets = [t for t in LINK.findall(path.read_text()) if not re.match(r"[a-z]+:|#", t)]
    missing = [t for t in targets if not (path.parent / t.split("#")[0]).exists()]
    assert not missing, f"{page} links to missing files: {missing}"


def test_peak_memory_and_the_compute_limit_tables_are_rendered(tmp_path):
    results = fake_results(tmp_path / "results" / "lfw")
    section = render(results)
    assert "the largest is 0.1 GiB" in section and "0 of " in section and "Against the machine's limit" not in section
    limits = tmp_path / "results" / "compute_limits"
    limits.mkdir()
    rows = [{"kind": "kernel", "name": "matmul", "precision": "fp32", "gflops_per_second": 150.0},
            {"kind": "kernel", "name": "conv", "precision": "fp32", "gflops_per_second": 120.0},
            {"kind": "stage", "name": "segmenter training step", "precision": "fp32", "gflops_per_second": 90.0,
             "gflops_per_image": 6.0, "images_per_second": 15.0, "share_of_peak": 0.6, "lfw_minutes": 24.2}]
    pd.DataFrame(rows).assign(machine="2 CPU threads (test CPU; AVX2, no bf16), no GPU", torch="2.x").to_csv(
        limits / "AVX2.csv", index=False)
    section = render(results)
    assert "## Against the machine's limit" in section and "peak fp32 150 GFLOP/s" in section
    assert "| segmenter training step | fp32 | 6.00 | 15.0 | 90 | 60% | 24.2 |" in section


def test_the_segmenter_gap_reads_iou_per_seed_and_segmenter_minus_oracle(tmp_path):
    from occlusion_fr_tooling.readme_results import segmenter_gap_section
    table = pd.DataFrame([{"detector": d, "occlusion": o, "strategy": s, "rank1_mean": v}
                          for d, o, s, v in (("segmenter", "eyes", "none", 0.5), ("oracle", "eyes", "none", 0.5),
                                             ("segmenter", "eyes", "lm2", 0.40), ("oracle", "eyes", "lm2", 0.45),
                                             ("segmenter", "clean", "none", 0.9))])
    for seed, value in ((0, 0.8), (1, 0.9)):
        folder = tmp_path / f"seed{seed}" / "models" / "segmenter"
        folder.mkdir(parents=True)
        pd.DataFrame([{"occlusion": "eyes", "iou": value}]).to_csv(folder / "test_metrics.csv", index=False)
    lines = segmenter_gap_section(table, tmp_path, [0, 1])
    assert "| eyes | 85.0 | -5.0 |" in lines and not any(line.startswith("| clean") for line in lines)


def write_run_verdicts(folder, clean_rank1: float, claim4_holds: bool):
    """A seed's Table 1 (its clean cell) and claim tests: claim 4 as given, every other claim
    failing, one comparison each."""
    (folder / "identification").mkdir(parents=True, exist_ok=True)
    pd.DataFrame([{"detector": "segmenter", "occlusion": "clean", "strategy": "none", "rank1": clean_rank1}]).to_csv(
        folder / "table1.csv", index=False)
    pd.DataFrame([{"claim": n, "complete": True, "as_claimed": n == 4 and claim4_holds,
                   "significant": n == 4 and claim4_holds, "p_value": 0.01 if n == 4 else 0.5, "alpha": 0.05}
                  for n in range(1, len(CLAIMS) + 1)]).to_csv(folder / "identification" / "claim_tests.csv", index=False)


def test_the_pooled_head_experiment_gets_a_section_beside_the_default_head(tmp_path):
    results = fake_results(tmp_path / "lfw")
    pooled = tmp_path / "lfw_pooled" / "seed0"
    write_run_verdicts(results / "seed0", 0.9, claim4_holds=False)
    write_run_verdicts(pooled, 0.8, claim4_holds=True)
    pd.DataFrame([{"strategy": "lm2", "detector": "segmenter", "occlusion": "face_mask", "variant": variant,
                   "probes": 10, "rank1": rank1, "kept_share": kept, "masked_probes_share": 0.9}
                  for variant, rank1, kept in (("no_fdm", 0.3, 1.0), ("fdm_before_bn", 0.2, 0.7))]).to_csv(
        pooled / "identification" / "fdm_ablations.csv", index=False)
    section = render(results)
    pooled_section = section.split("## A plain ResNet34 head")[1].split("\n## ")[0]
    assert "Clean rank-1: 80.0% (the default flattened head: 90.0%)" in pooled_section
    assert "| face_mask | lm2 | 30.0 (100%) | 20.0 (70%) |" in pooled_section
    assert (f"| 4. {CLAIMS[3].text} | 0 of 1 (0 significantly, max p 0.01) | 1 of 1 (1 significantly, max p 0.01) |"
            in pooled_section)
    assert f"| 1. {CLAIMS[0].text} | 0 of 1 (0 significantly, max p 0.5) | 0 of 1 (0 significantly, max p 0.5) |" \
        in pooled_section
    # The default head's own ablation table is unchanged by the experiment.
    assert "| face_mask | lm2 | 25.0 (100%) | 35.0 (50%) | 45.0 (60%) |" in section.split("## A plain")[0]


def test_generator_epochs_name_the_generators_the_cap_ended(tmp_path):
    from occlusion_fr_tooling.readme_results import generator_epochs_section
    for seed, (eyes_run, chin_run) in ((0, (9, 40)), (1, (12, 15))):
        folder = tmp_path / f"seed{seed}" / "models" / "mask_generators" / "lm2"
        for region, run in (("eyes", eyes_run), ("chin", chin_run)):
            write_json(folder / f"{region}.json", {"history": [{}] * run, "best_epoch": run - 3 if run < 40 else 40,
                                                   "settings": {"max_epochs": 40}})
    lines = generator_epochs_section(tmp_path, [0, 1])
    assert "| lm2 | eyes | 6 / 9 | 9 / 12 |" in lines and "| lm2 | chin | 40 / 40 | 12 / 15 |" in lines
    assert "stagnation: seed 0 lm2/chin." in lines[0] and "cap 40" in lines[0]
