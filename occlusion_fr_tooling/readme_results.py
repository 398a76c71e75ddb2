"""The results pages' rendered sections, from a run's committed results so that they cannot drift
from them (`make readme`, `python -m occlusion_fr_tooling.render_readme`):

- README.md: the headline numbers (Table 1 over the run seeds beside the paper's, the models,
  how many of the paper's claims hold, pair verification, a seed's job time);
- docs/results.md: every result table (Table 1, models, segmenter against the oracle, mask
  generators, the paper's claims, what the FDMs do, controls, ablations, the pooled head, the
  percentile sweep, pair verification, the extended table of issue 29 with what wins each row) and
  the probe/occlusion/regions/FDM figure;
- docs/performance.md: the job time of every stage (Snakemake benchmark files), peak memory,
  the rerun cost of a layout edit, whole runs' wall time and the compute limits.

Each page holds its section between two markers; every table goes through
``occlusion_fr.markdown``; a test checks that the committed pages hold what this renders.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from occlusion_fr.evaluation.across_seeds import (MODEL_METRICS, mean_std_text, open_set_across_seeds, open_set_fars,
                                                  open_set_grid)
from occlusion_fr.evaluation.beyond import beyond_reading
from occlusion_fr.evaluation.claims import CLAIMS, check_claims, claim_verdicts
from occlusion_fr.evaluation.fdm_controls import CONTROLS
from occlusion_fr.evaluation.strategies import NO_FDM
from occlusion_fr.io import read_json
from occlusion_fr.logs import last_attempt
from occlusion_fr.markdown import bold, markdown_table, strategy_grid
from occlusion_fr.results_layout import compute_limits_dir, seed_dir
from occlusion_fr_tooling.stage_times import benchmark_table, rule_stages
from occlusion_fr_tooling.table_beyond import PLAIN

START = "<!-- results:start (rendered by `make readme` from results/; do not edit) -->"
END = "<!-- results:end -->"
# The pages with a rendered section, relative to the repository root.
README, RESULTS_PAGE, PERFORMANCE_PAGE = "README.md", "docs/results.md", "docs/performance.md"
PAGES = (README, RESULTS_PAGE, PERFORMANCE_PAGE)
BEYOND_GOALS = {"face_mask": 0.75, "sunglasses": 0.75}  # issue 29: test rank-1 over 3 seeds
FDM_QUESTION_OCCLUSIONS = ("face_mask", "sunglasses")  # where the paper's FDMs lost to no FDM (section 5.3)
STAGE_NAMES = {"data": "raw images", "faces": "detection, crops, split", "regions": "landmarks, region layouts",
               "occlusions": "occlusions, blocks", "models": "base CNN, segmenter",
               "pretrained": "a bundle's models instead of training",
               "masks": "feature maps, mask generators, dictionary", "evaluation": "occlusion masks, Table 1, figures",
               "verification": "pair faces, pair verification, bundle"}


def table_lines(header: list[str], rows: list[list], left: int = 1, align: str | None = None) -> list[str]:
    """``occlusion_fr.markdown.markdown_table`` as lines."""
    return markdown_table(header, rows, left, align).split("\n")


def up_to_root(page: str) -> str:
    """The relative way from ``page`` (relative to the repository root) back to the root."""
    return "../" * page.count("/")


def seeds_text(seeds: list[int]) -> str:
    return f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {', '.join(map(str, seeds))}"


def table1_section(table: pd.DataFrame, seeds: list[int]) -> list[str]:
    rows = list(dict.fromkeys(table["occlusion"]))
    strategies = list(dict.fromkeys(table["strategy"]))
    cells = table[table["detector"] == "segmenter"].set_index(["occlusion", "strategy"])
    over = (f"mean ± standard deviation over run seeds {', '.join(map(str, seeds))}" if len(seeds) > 1 else
            f"run seed {seeds[0]} alone (no deviation until more seeds are run)")
    lines = [f"Rank-1 (%) on the test probes (gallery: the training split), regions chosen by the segmenter; "
             f"{over}, the paper in brackets, "
             "the best mean per row in bold (`results/lfw/across_seeds/table1.md`; per seed: "
             "`results/lfw/seed*/table1.md`, with the oracle's regions too):", ""]

    def mean(row: str, strategy: str) -> float:  # the clean row has one meaningful cell, no FDM
        return np.nan if row == "clean" and strategy != NO_FDM else cells["rank1_mean"].get((row, strategy), np.nan)

    def text(row: str, strategy: str, value: float, best: bool) -> str:
        cell = cells.loc[(row, strategy)]
        shown = bold(mean_std_text(value, cell["rank1_std"]), best)
        return shown if np.isnan(cell["paper_rank1"]) else f"{shown} ({cell['paper_rank1']:.1f})"

    return lines + strategy_grid(rows, strategies, mean, text, unbolded_rows=("clean",)).split("\n")


def models_section(models: pd.DataFrame, paper: pd.DataFrame) -> list[str]:
    rows = models.set_index("seed")
    seeds = [s for s in rows.index if s not in ("mean", "std")]
    paper_value = paper.set_index("metric")["value"]
    body = [[MODEL_METRICS[key], *(f"{100 * rows.loc[s, key]:.1f}" for s in seeds),
             mean_std_text(rows.loc["mean", key], rows.loc["std", key]),
             f"{paper_value[key]:.2f}" if key in paper_value else "-"]
            for key in ("base_cnn_test_rank1", "base_cnn_test_rank5", "segmenter_pixel_accuracy", "segmenter_iou")]
    return table_lines(["%", *(f"seed {s}" for s in seeds), "mean ± std", "paper"], body)


def claim_tests(results: Path, seeds: list[int]) -> dict[int, pd.DataFrame]:
    """{seed: its per-claim verdicts} for the seeds with per-probe tests (identification/claim_tests.csv)."""
    return {seed: claim_verdicts(pd.read_csv(path)).set_index("claim") for seed in seeds
            if (path := seed_dir(results, seed) / "identification" / "claim_tests.csv").is_file()}


def claims_section(table: pd.DataFrame, paper_table: pd.DataFrame, results: Path, seeds: list[int]) -> list[str]:
    """The claims on the mean and per seed; where a seed has its per-probe tests
    (identification/claim_tests.csv), the seeds in which the claim holds significantly."""
    tested = claim_tests(results, seeds)
    alphas = {float(pd.read_csv(seed_dir(results, seed) / "identification" / "claim_tests.csv")["alpha"].iloc[0])
              for seed in tested}
    lines = []
    if tested:
        lines += [f"Significantly: in how many of the seeds with per-probe tests ({', '.join(map(str, tested))}) every "
                  f"comparison the claim makes goes its way with an exact McNemar p < {', '.join(f'{a:g}' for a in sorted(alphas))} "
                  "on the same test images (`results/lfw/seed*/identification/claim_tests.md`).", ""]
    lines += ["Oracle's regions: in how many seeds the claim holds when the renderer's exact occlusion masks choose "
              "the regions instead of the segmenter (`results/lfw/seed*/table1.md`), which separates what the "
              "segmenter misses from what the masks themselves do.", ""]
    rows = []
    with_segmenter, with_oracle = check_claims(table, paper_table), check_claims(table, paper_table, detector="oracle")
    for number, (result, oracle) in enumerate(zip(with_segmenter, with_oracle), start=1):
        verdict = "reproduced" if result["reproduced"] else "**not reproduced**"
        significant = (f"{sum(bool(v.loc[number, 'significant']) for v in tested.values() if number in v.index)} "
                       f"of {len(tested)}" if tested else "-")
        cells = "; ".join(f"{o} {s} {ours:.1f} / {paper:.1f}" for o, s, ours, paper in result["cells"])
        rows.append([result["claim"], verdict, f"{result['seeds_holding']} of {result['seeds']}", significant,
                     f"{oracle['seeds_holding']} of {oracle['seeds']}", cells])
    return lines + table_lines(["paper's claim", "ours (mean over seeds)", "seeds where it holds", "significantly",
                                "oracle's regions", "cells: ours / paper"], rows, align="llrrrl")


def segmenter_gap_section(table: pd.DataFrame, results: Path, seeds: list[int]) -> list[str]:
    """Per test occlusion: the segmenter's IoU against the difference labels (mean over seeds) and,
    per masking layout, Table 1's rank-1 with the segmenter's regions minus the oracle's."""
    scores = [pd.read_csv(path).set_index("occlusion") for seed in seeds
              if (path := seed_dir(results, seed) / "models" / "segmenter" / "test_metrics.csv").is_file()]
    cells = table.set_index(["detector", "occlusion", "strategy"])["rank1_mean"]
    layouts = [s for s in dict.fromkeys(table["strategy"]) if s != NO_FDM]
    occlusions = [o for o in dict.fromkeys(table["occlusion"]) if o != "clean"]
    lines = ["Per test occlusion: the segmenter's IoU with the difference labels (test split, mean over seeds) and "
             "Table 1's rank-1 with the segmenter's regions minus the oracle's (the renderer's exact masks), in points "
             "(`results/lfw/seed*/models/segmenter/test_metrics.md`, `results/lfw/seed*/table1.md`):", ""]
    rows = []
    for occlusion in occlusions:
        ious = [frame.loc[occlusion, "iou"] for frame in scores if occlusion in frame.index]
        gaps = [100 * (cells[("segmenter", occlusion, s)] - cells[("oracle", occlusion, s)])
                if ("oracle", occlusion, s) in cells.index else np.nan for s in layouts]
        rows.append([occlusion, f"{100 * np.mean(ious):.1f}" if ious else "-",
                     *("-" if np.isnan(gap) else f"{gap:+.1f}" for gap in gaps)])
    return lines + table_lines(["occlusion", "segmenter IoU", *(f"{s}: segmenter - oracle" for s in layouts)], rows)


def generator_epochs_section(results: Path, seeds: list[int]) -> list[str]:
    """Per masking layout and region: each seed's best epoch of epochs run, and the generators
    whose training the epoch cap ended rather than stagnation."""
    records = {seed: {(path.parent.name, path.stem): read_json(path) for path in
                      sorted((seed_dir(results, seed) / "models" / "mask_generators").glob("*/*.json"))}
               for seed in seeds}
    keys = list(dict.fromkeys(key for per_seed in records.values() for key in per_seed))
    if not keys:
        return ["No mask-generator records in the committed results."]
    capped = [(seed, key) for seed, per_seed in records.items() for key, r in per_seed.items()
              if len(r["history"]) >= r["settings"]["max_epochs"]]
    caps = sorted({r["settings"]["max_epochs"] for per_seed in records.values() for r in per_seed.values()})
    lines = [f"Mask generators: the epoch with the lowest validation loss (kept) and the epochs run, per seed "
             f"(`results/lfw/seed*/models/mask_generators/*/*.json`; cap {', '.join(map(str, caps))}, patience as "
             f"configured). Ended by the cap rather than by stagnation: "
             + (", ".join(f"seed {seed} {layout}/{region}" for seed, (layout, region) in capped) if capped else "none")
             + ".", ""]
    rows = [[layout, region, *(f"{records[s][(layout, region)]['best_epoch']} / "
                               f"{len(records[s][(layout, region)]['history'])}"
                               if (layout, region) in records[s] else "-" for s in seeds)]
            for layout, region in keys]
    return lines + table_lines(["layout", "region", *(f"seed {s}: best / run" for s in seeds)], rows, left=2)


def resumed_jobs(results: Path, seeds: list[int]) -> list[str]:
    """Trainings whose last attempt resumed: their job time misses the epochs run before it."""
    logs = [path for seed in seeds for path in sorted((seed_dir(results, seed) / "logs").glob("*.log"))]
    return [f"results/{results.name}/{path.relative_to(results)}" for path in logs
            if "resuming from" in last_attempt(path.read_text())]


def layout_rerun_lines(results: Path, seeds: list[int]) -> list[str]:
    """The cost of rerunning after editing one masking layout, for the seeds priced by
    `python -m occlusion_fr_tooling.layout_rerun` (`layout_reruns.csv`)."""
    priced = {seed: pd.read_csv(path) for seed in seeds
              if (path := seed_dir(results, seed) / "layout_reruns.csv").is_file()}
    if not priced:
        return []
    first = next(iter(priced.values()))
    lines = ["", "Rerun after editing one masking layout (`make bench DATASET=lfw SEED=N`, "
             "`python -m occlusion_fr_tooling.layout_rerun`): the jobs downstream of the layout's regions, or of its "
             "mask dictionary for a percentile, in Snakemake's DAG, priced with the seed's benchmark files; minutes "
             "and share of the seed's job time from the raw archive (goal: at most 10%):", ""]
    rows = []
    for i, row in first.iterrows():
        cells = []
        for costs in priced.values():
            cost = costs.iloc[i]
            missing = f", {cost['unmeasured_jobs']} jobs unmeasured" if cost["unmeasured_jobs"] else ""
            cells.append(f"{cost['seconds'] / 60:.1f} ({100 * cost['share_of_run']:.1f}%{missing})")
        rows.append([row["layout"], row["change"], row["jobs"], *cells])
    return lines + table_lines(["layout", "edit", "jobs", *(f"seed {s}" for s in priced)], rows, left=2)


def job_times(results: Path, seeds: list[int], rules_dir: Path) -> tuple[pd.DataFrame, dict[int, pd.DataFrame], float]:
    """(the jobs all seeds share, {seed: its jobs}, the aggregate's seconds) from the benchmark files."""
    stages = rule_stages(rules_dir)
    shared = benchmark_table(results / "benchmarks", stages)
    aggregate = shared[shared["rule"] == "across_seeds"]["seconds"].sum()
    per_seed = {seed: benchmark_table(seed_dir(results, seed) / "benchmarks", stages) for seed in seeds}
    return shared[shared["rule"] != "across_seeds"], per_seed, aggregate


def seed_minutes(shared: pd.DataFrame, per_seed: dict[int, pd.DataFrame]) -> dict[int, float]:
    """{seed: minutes of job time of that seed from the raw archive (the shared jobs included)}."""
    return {seed: (shared["seconds"].sum() + jobs["seconds"].sum()) / 60 for seed, jobs in per_seed.items()}


def machines_text(results: Path, seeds: list[int]) -> str:
    machines = {seed: read_json(seed_dir(results, seed) / "models" / "base_cnn" / "metrics.json").get(
        "machine", {}).get("description", "a machine not recorded in the results") for seed in seeds}
    return (next(iter(machines.values())) if len(set(machines.values())) == 1 else
            "; ".join(f"seed {seed} on {m}" for seed, m in machines.items()))


def methods_text(results: Path, seeds: list[int]) -> str:
    """The test-time method each seed's tables were scored with (verification.json's ``method``;
    runs from before the setting, or before verification, scored with the paper's: before_bn
    without normalisation)."""
    def method(seed: int) -> str:
        verification = seed_dir(results, seed) / "verification.json"
        recorded = read_json(verification).get("method") if verification.exists() else None
        return ("before_bn, none (the paper's; scored before the setting existed)" if recorded is None else
                f"{recorded['position']}, {recorded['normalisation']}")
    methods = {seed: method(seed) for seed in seeds}
    if len(set(methods.values())) == 1:
        return f"Test-time method (FDM position, normalisation): {next(iter(methods.values()))}."
    grouped: dict[str, list[int]] = {}
    for seed, name in methods.items():
        grouped.setdefault(name, []).append(seed)
    return ("Test-time method (FDM position, normalisation) differs between seeds, so their mean mixes methods: "
            + "; ".join(f"{seeds_text(group)}: {name}" for name, group in grouped.items()) + ".")


def stage_times_section(results: Path, seeds: list[int], rules_dir: Path, stage_order: list[str]) -> list[str]:
    shared, per_seed, aggregate = job_times(results, seeds, rules_dir)
    lines = [f"Job time per stage in minutes ({machines_text(results, seeds)}): the sum of the Snakemake benchmark "
             "files (`results/lfw/benchmarks/` for the jobs all seeds share, `results/lfw/seed*/benchmarks/`). "
             "Training, detection and feature jobs take every core; one-thread jobs (occlusion sets, layouts, "
             "figures) run side by side, so for their stages the sum exceeds the wall time.", ""]

    def minutes(jobs: pd.DataFrame, stage: str) -> float:
        return jobs.loc[jobs["stage"] == stage, "seconds"].sum() / 60

    rows = []
    for stage in stage_order:
        values = [minutes(shared, stage), *[minutes(per_seed[seed], stage) for seed in seeds]]
        if not any(values):
            continue  # a stage none of these runs had (added since)
        rows.append([f"{stage} ({STAGE_NAMES.get(stage, stage)})", *(f"{v:.1f}" if v else "" for v in values)])
    rows.append(["**one seed from the raw archive** (shared + seed)", "",
                 *(f"**{m:.1f}**" for m in seed_minutes(shared, per_seed).values())])
    lines += table_lines(["stage (rules file)", "shared", *(f"seed {s}" for s in seeds)], rows)
    total = (shared["seconds"].sum() + sum(t["seconds"].sum() for t in per_seed.values()) + aggregate) / 60
    lines += ["", f"Seeds {', '.join(map(str, seeds))} and their aggregate: {total:.1f} min of job time."]
    lines += peak_memory_lines(shared, per_seed)
    resumed = resumed_jobs(results, seeds)
    if resumed:
        lines += ["", "Resumed after an interruption, so their benchmark covers only the last part of the training "
                  "(the log says from which epoch): " + ", ".join(f"`{job}`" for job in resumed) + "."]
    lines += layout_rerun_lines(results, seeds)
    lines += run_times_lines(results)
    return lines


def run_times_lines(results: Path) -> list[str]:
    runs_path = results / "run_times.csv"
    if not runs_path.is_file():
        return []
    rows = [[run.finished, run.seeds, run.cores, f"{float(run.wall_seconds) / 60:.1f}", run.commit, run.machine]
            for run in pd.read_csv(runs_path, dtype=str).itertuples(index=False)]
    return ["", "Wall time of whole runs (`results/lfw/run_times.csv`, written by `make run`), shorter than the "
            "job-time sums where one-thread jobs ran two at a time:", "",
            *table_lines(["finished", "seeds", "cores", "wall time (min)", "commit", "machine"], rows, align="llrrll")]


def peak_memory_lines(shared: pd.DataFrame, per_seed: dict[int, pd.DataFrame], goal_gib: float = 8.0) -> list[str]:
    jobs = pd.concat([shared, *[t.assign(job=f"seed{s}/" + t["job"]) for s, t in per_seed.items()]], ignore_index=True)
    if jobs["max_rss"].isna().all():
        return []
    largest = jobs.loc[jobs["max_rss"].idxmax()]
    over = int((jobs["max_rss"] > goal_gib * 1024).sum())
    return ["", f"Peak memory (Snakemake's `max_rss` per job): the largest is {largest['max_rss'] / 1024:.1f} GiB "
            f"(`{largest['job']}`); {over} of {len(jobs)} jobs exceed the {goal_gib:.0f} GiB goal."]


def compute_limits_section(root: Path) -> list[str]:
    """Per measured CPU type (`results/compute_limits/*.csv`): its kernel peak and each training
    stage's throughput and share of that peak."""
    lines = []
    for path in sorted(compute_limits_dir(root).glob("*.csv")):
        table = pd.read_csv(path)
        kernels, stages = table[table["kind"] == "kernel"], table[table["kind"] == "stage"]
        peaks = kernels.groupby("precision")["gflops_per_second"].max()
        rows = [[row.name, row.precision, f"{row.gflops_per_image:.2f}", f"{row.images_per_second:.1f}",
                 f"{row.gflops_per_second:.0f}", f"{100 * row.share_of_peak:.0f}%",
                 "" if pd.isna(row.lfw_minutes) else f"{row.lfw_minutes:.1f}"]
                for row in stages.itertuples(index=False)]
        lines += ["", f"{table['machine'].iloc[0]}, torch {table['torch'].iloc[0]} (`{path.relative_to(root)}`): "
                  "peak " + ", ".join(f"{precision} {value:.0f} GFLOP/s" for precision, value in peaks.items())
                  + " (the best of a 2048^3 matmul and the 3x3 convolutions of ResNet34's stages and of the mask "
                  "generators). One training step per stage in the pipeline's setting, its work counted by torch "
                  "(forward and backward), against that peak:", "",
                  *table_lines(["stage", "precision", "GFLOP per image", "images/s", "GFLOP/s", "share of peak",
                                "LFW minutes (longest seed)"], rows, left=2)]
    if lines:
        lines = ["Where the time goes against each measured machine's limit (`make bench`, "
                 "`python -m occlusion_fr_tooling.compute_limits`); the LFW minutes are the committed runs' job "
                 "times, on the machine the wall-time table names:", *lines]
    return lines


def seed_tables(results: Path, seeds: list[int], name: str) -> tuple[pd.DataFrame | None, list[str]]:
    """A per-seed table (``seed{N}/identification/{name}.csv``) of every seed that has it, with a
    ``seed`` column, and a note naming the seeds whose committed run predates it."""
    present = [s for s in seeds if (seed_dir(results, s) / "identification" / f"{name}.csv").is_file()]
    missing = [s for s in seeds if s not in present]
    note = [f"Seed(s) {', '.join(map(str, missing))}: not in their committed results (their run predates the "
            f"`{name}` rule; rerunning the seed adds `identification/{name}.md`)."] if missing else []
    if not present:
        return None, note
    table = pd.concat([pd.read_csv(seed_dir(results, s) / "identification" / f"{name}.csv",
                                   keep_default_na=False).assign(seed=s) for s in present], ignore_index=True)
    return table, note


def fdm_effect_section(results: Path, seeds: list[int], occlusions=FDM_QUESTION_OCCLUSIONS) -> list[str]:
    tables, note = seed_tables(results, seeds, "fdm_effect")
    if tables is None:
        return note
    present = sorted(set(tables["seed"]))
    tables = tables[(tables["detector"] == "segmenter") & tables["occlusion"].isin(occlusions)]
    lines = [f"Test probes each strategy's FDM helps (wrong at rank 1 without an FDM, right with it) and harms (the "
             f"reverse), summed over {seeds_text(present)} (`results/lfw/seed*/identification/"
             "fdm_effect.md`); regions: the most frequent set the segmenter selected (share of probes, first seed).",
             ""]
    rows = []
    for (occlusion, strategy), per_seed in tables.groupby(["occlusion", "strategy"], sort=False):
        first = per_seed.iloc[0]
        helped, harmed = per_seed["helped"].sum(), per_seed["harmed"].sum()
        rows.append([occlusion, strategy, per_seed["probes"].sum(), helped, harmed, f"{helped - harmed:+d}",
                     f"{100 * per_seed['no_region_share'].mean():.0f}%",
                     f"{first['top_regions'] or '-'} ({100 * first['top_regions_share']:.0f}%)"])
    lines += table_lines(["occlusion", "strategy", "probes", "helped", "harmed", "net", "no region",
                          "most frequent regions"], rows, align="llrrrrrl")
    return lines + ([""] + note if note else [])


def fdm_controls_section(results: Path, seeds: list[int], paper_table: pd.DataFrame) -> list[str]:
    """The controls (learned FDM against probe-only and random masks of its size), as means over
    the seeds that have them, with the gaps that answer why an FDM gains or loses."""
    tables, note = seed_tables(results, seeds, "fdm_controls")
    if tables is None:
        return note
    present = sorted(set(tables["seed"]))
    means = tables.groupby(["occlusion", "strategy", "control"], sort=False)[["rank1", "kept_share"]].mean()
    paper = paper_table.set_index(["occlusion", "strategy"])["rank1"]
    lines = [f"Controls (`results/lfw/seed*/identification/fdm_controls.md`; mean over "
             f"{seeds_text(present)}): rank-1 (%) of the same probes with nothing discarded, with the learned "
             "FDM on probe and gallery (Table 1), with the FDM on the probe alone, with random masks keeping as many "
             "feature elements, and with random masks keeping as many channels in every feature-map cell (means over "
             "draws). Gaps: learned - random is what the learned choice of elements is worth; random channels - "
             "random what the FDM's spatial layout (which cells it empties) is worth; learned - probe only what "
             "masking the gallery alike is worth.", ""]
    rows = []
    for occlusion, strategy in dict.fromkeys((o, s) for o, s, _ in means.index):
        rank1 = {c: 100 * means.loc[(occlusion, strategy, c), "rank1"] for c in CONTROLS}
        paper_gap = paper.get((occlusion, strategy), np.nan) - paper.get((occlusion, NO_FDM), np.nan)
        paper_text = "" if np.isnan(paper_gap) else f" ({paper_gap:+.1f})"
        rows.append([occlusion, strategy, *(f"{rank1[c]:.1f}" for c in
                                            ("no_fdm", "learned", "probe_only", "random", "random_channels")),
                     f"{100 * means.loc[(occlusion, strategy, 'learned'), 'kept_share']:.0f}%",
                     f"{rank1['learned'] - rank1['no_fdm']:+.1f}{paper_text}",
                     f"{rank1['learned'] - rank1['random']:+.1f}",
                     f"{rank1['random_channels'] - rank1['random']:+.1f}",
                     f"{rank1['learned'] - rank1['probe_only']:+.1f}"])
    lines += table_lines(["occlusion", "strategy", "no FDM", "learned", "probe only", "random", "random channels",
                          "kept", "learned - no FDM (paper)", "learned - random", "random channels - random",
                          "learned - probe only"], rows, left=2)
    return lines + ([""] + note if note else [])


def ablation_table(tables: pd.DataFrame) -> list[str]:
    """Rank-1 (%) per occlusion, strategy and ablation variant (means over the seeds in
    ``tables``), the mean share of feature elements kept in brackets: LM2 on every occlusion,
    the other layouts on face masks and sunglasses."""
    variants = list(dict.fromkeys(tables["variant"]))
    means = tables.groupby(["occlusion", "strategy", "variant"], sort=False)[["rank1", "kept_share"]].mean()
    rows = []
    for occlusion, strategy in dict.fromkeys((o, s) for o, s, _ in means.index):
        if strategy != "lm2" and occlusion not in FDM_QUESTION_OCCLUSIONS:
            continue
        rows.append([occlusion, strategy, *(f"{100 * means.loc[(occlusion, strategy, v), 'rank1']:.1f} "
                                            f"({100 * means.loc[(occlusion, strategy, v), 'kept_share']:.0f}%)"
                                            for v in variants)])
    return table_lines(["occlusion", "strategy", *(v.replace("_", " ") for v in variants)], rows, left=2)


def fdm_ablations_section(results: Path, seeds: list[int]) -> list[str]:
    """Where and how features are discarded, means over the seeds that have the table."""
    tables, note = seed_tables(results, seeds, "fdm_ablations")
    if tables is None:
        return note
    lines = [f"Where and how features are discarded (`results/{results.name}/seed*/identification/fdm_ablations.md`; "
             f"mean over {seeds_text(sorted(set(tables['seed'])))}), on Table 1's models and the segmenter's regions: "
             "rank-1 (%) with the mean share of feature elements kept in brackets. fdm: the learned FDM multiplying the "
             "feature map before the embedding's batch norm (Table 1) or after it (a discarded element is then zero "
             "where the fully connected layer reads it); cell drop: every channel of the map cells the occluded "
             "regions cover, nothing learned. LM2 on every occlusion; the other layouts on face masks and sunglasses.",
             "", *ablation_table(tables)]
    return lines + ([""] + note if note else [])


def pooled_head_section(results: Path, seeds: list[int]) -> list[str]:
    """The pooled-head experiment (``results/{dataset}_pooled``, `experiments/pooled_head.yaml`)
    beside the default head on the same seeds: clean rank-1, the ablation table and the claims'
    per-probe verdicts. Empty when no seed of the experiment has been run."""
    pooled = results.parent / f"{results.name}_pooled"
    present = [s for s in seeds if (seed_dir(pooled, s) / "identification" / "claim_tests.csv").is_file()]
    if not present:
        return []
    tables, _ = seed_tables(pooled, present, "fdm_ablations")

    def clean_rank1(folder: Path) -> float:
        rows = pd.concat([pd.read_csv(seed_dir(folder, s) / "table1.csv") for s in present])
        return 100 * rows.query(f"occlusion == 'clean' and strategy == '{NO_FDM}'")["rank1"].mean()

    def verdict_text(per_seed: list[pd.DataFrame], number: int) -> str:
        holds = sum(bool(v.loc[number, "holds"]) for v in per_seed)
        significant = sum(bool(v.loc[number, "significant"]) for v in per_seed)
        largest_p = max(v.loc[number, "max_p_value"] for v in per_seed)
        return f"{holds} of {len(per_seed)} ({significant} significantly, max p {largest_p:.2g})"

    default_verdicts = list(claim_tests(results, present).values())
    pooled_verdicts = list(claim_tests(pooled, present).values())
    rows = [[f"{number}. {claim.text}", verdict_text(default_verdicts, number), verdict_text(pooled_verdicts, number)]
            for number, claim in enumerate(CLAIMS, start=1)]
    return [f"A plain ResNet34 head (stride 32: a 4x3 map, global average pooling before the embedding layer) "
            f"trained with its own mask generators (`experiments/pooled_head.yaml`, `results/{pooled.name}/`; "
            f"{seeds_text(present)}; split, occlusions and segmenter with the default run's settings). "
            f"Clean rank-1: {clean_rank1(pooled):.1f}% (the default flattened head: "
            f"{clean_rank1(results):.1f}%). Rank-1 (%) per ablation variant, as in the table above:", "",
            *ablation_table(tables), "",
            "The paper's claims on each head, per seed, tested per probe as above (holds in how many seeds; "
            "significantly; the largest p-value over the claim's comparisons):", "",
            *table_lines(["paper's claim", "default head", "pooled head"], rows, left=3)]


def percentile_sweep_section(results: Path, seeds: list[int], root: str = "") -> list[str]:
    """Per masking layout and seed: the percentile chosen on validation and the one Table 1 used,
    beside the paper's, and the mean validation and test rank-1 over the occlusions at the paper's
    and the chosen one. ``root``: the way from the page to the repository root (for the figure)."""
    present = [s for s in seeds if (seed_dir(results, s) / "percentile_sweep" / "summary.csv").is_file()]
    if not present:
        return [f"Not in the committed results of {seeds_text(seeds)} (their runs predate the `percentile_sweep` "
                "rule)."]
    figure = f"results/lfw/seed{present[0]}/figures/percentile_sweep.png"
    lines = ["Each layout's mask-dictionary percentile chosen on the validation occlusions (segmenter's regions; "
             "mean rank-1 over them), beside the paper's, and the mean rank-1 over the validation and the test "
             "occlusions at both (`results/lfw/seed*/percentile_sweep/summary.md`); test takes no part in the "
             "choice. *Used* is the percentile Table 1 cut the layout's mask dictionary at (the chosen one under "
             "`percentile: validation`, the default).", ""]
    rows = [[seed, r.strategy, f"{r.paper:g}", f"{r.chosen:g}", f"{r.used:g}",
             f"{100 * r.val_rank1_paper:.1f} / {100 * r.val_rank1_chosen:.1f}",
             f"{100 * r.test_rank1_paper:.1f} / {100 * r.test_rank1_chosen:.1f}"]
            for seed in present
            for r in pd.read_csv(seed_dir(results, seed) / "percentile_sweep" / "summary.csv").itertuples(index=False)]
    lines += table_lines(["seed", "layout", "paper's", "chosen", "used", "validation: paper's / chosen",
                          "test: paper's / chosen"], rows, left=2)
    return lines + ["", f"![rank-1 against the percentile]({root}{figure})"]


def verification_tables(results: Path, seeds: list[int]) -> tuple[pd.DataFrame | None, dict[int, dict]]:
    """(every seed's ``verification.csv`` with a ``seed`` column, {seed: its ``verification.json``})
    for the seeds that have them."""
    present = [s for s in seeds if (seed_dir(results, s) / "verification.csv").is_file()]
    if not present:
        return None, {}
    table = pd.concat([pd.read_csv(seed_dir(results, s) / "verification.csv").assign(seed=s) for s in present],
                      ignore_index=True)
    return table, {s: read_json(seed_dir(results, s) / "verification.json") for s in present}


def verification_grid(table: pd.DataFrame, column: str, spread: bool) -> list[str]:
    """A condition x strategy grid of ``column`` (a fraction) in percent: the mean over seeds, with
    the standard deviation over seeds when ``spread``; the best mean per condition in bold."""
    cells = table.groupby(["condition", "strategy"], sort=False)[column].agg(["mean", "std"])
    conditions = list(dict.fromkeys(table["condition"]))
    strategies = list(dict.fromkeys(table["strategy"]))

    def value(condition: str, strategy: str) -> float:
        return cells["mean"].get((condition, strategy), np.nan)

    def text(condition: str, strategy: str, mean: float, best: bool) -> str:
        return bold(mean_std_text(mean, cells.loc[(condition, strategy), "std"] if spread else np.nan), best)

    return strategy_grid(conditions, strategies, value, text).split("\n")


def verification_section(results: Path, seeds: list[int]) -> list[str]:
    """Pair verification over the seeds that have it: accuracy and TAR at the open-set FAR per
    condition and strategy, and the pairs each seed scored."""
    table, records = verification_tables(results, seeds)
    if table is None:
        return [f"Not in the committed results of {seeds_text(seeds)} (their runs predate the `verification` rule)."]
    present = list(records)
    far = next(iter(records.values()))["open_set_far"]
    counts = {s: r["pairs"] for s, r in records.items()}

    def counted(c: dict) -> str:
        return (f"{c['kept']:,} of {c['pairs']:,} pairs ({c['seen_identity']:,} dropped for a person the run trained "
                f"on, {c['no_crop']:,} for an image without a crop)")

    scored = ([f"{counted(next(iter(counts.values())))} in every seed"] if len({str(c) for c in counts.values()}) == 1
              else [f"seed {s}: {counted(c)}" for s, c in counts.items()])
    missing = [s for s in seeds if s not in present]
    return [f"LFW's `pairs.txt` (View 2, 10 folds), scored on the pairs of people outside each run's split "
            f"(`results/lfw/seed*/verification.md`): {'; '.join(scored)}. Accuracy (%) at the threshold chosen on "
            f"the other nine folds, each seed's mean over folds, then the mean ± standard deviation over "
            f"{seeds_text(present)}; the best mean per row in bold. Per condition the second image of every pair is "
            "occluded (clean: neither); with a layout both images are masked by the FDM the second image's "
            "predicted occlusion chooses.", "",
            *verification_grid(table, "accuracy", spread=True), "",
            f"TAR (%) at FAR {far:g} (ROC over all folds; the FAR of the bundle's open-set thresholds), mean over "
            f"{seeds_text(present)}:", "",
            *verification_grid(table, f"tar_at_far_{far:g}", spread=False),
            *(["", f"Seed(s) {', '.join(map(str, missing))}: no verification in their committed results."]
              if missing else [])]


def method_section(results: Path, seeds: list[int]) -> list[str]:
    """Per test-time method (FDM position, normalisation), over the seeds that scored them: the
    open-set thresholds per strategy, the worst layout's clean TAR as a share of no FDM's, TAR on
    face masks and sunglasses, and how often validation chose it."""
    present = [s for s in seeds if (seed_dir(results, s) / "verification_methods.csv").is_file()]
    if not present:
        return [f"Not in the committed results of {seeds_text(seeds)} (their runs predate the method comparison)."]
    table = pd.concat([pd.read_csv(seed_dir(results, s) / "verification_methods.csv").assign(seed=s)
                       for s in present], ignore_index=True)
    chosen = {}  # seed -> the method its validation split chose (method_selection.csv's chosen rows)
    for seed in present:
        path = seed_dir(results, seed) / "method_selection.csv"
        selection = pd.read_csv(path) if path.is_file() else None
        if selection is not None and "chosen" in selection.columns:
            chosen[seed] = selection.loc[selection["chosen"], "method"].iloc[0]
    strategies = list(dict.fromkeys(table["strategy"]))
    layouts = [s for s in strategies if s != NO_FDM]
    conditions = [c for c in ("face_mask", "sunglasses") if f"tar_{c}" in table.columns]
    rows = []
    for method, group in table.groupby("method", sort=False):
        mean = group.groupby("strategy", sort=False).mean(numeric_only=True)
        worst = group[group["strategy"] != NO_FDM].groupby("seed")["clean_tar_share_of_no_fdm"].min().mean()
        rows.append([method, f"{sum(c == method for c in chosen.values())} of {len(chosen)}" if chosen else "not run",
                     *(f"{mean.loc[s, 'open_set_threshold']:.3f}" for s in strategies), f"{100 * worst:.0f}%",
                     *(f"{100 * mean.loc[NO_FDM, f'tar_{c}']:.1f} / {100 * mean.loc[layouts, f'tar_{c}'].max():.1f}"
                       for c in conditions)])
    header = ["method (FDM position, normalisation)", "chosen on validation",
              *(f"threshold {'no FDM' if s == NO_FDM else s}" for s in strategies), "worst layout: clean TAR / no FDM's",
              *(f"{c}: TAR no FDM / best layout" for c in conditions)]
    far = read_json(seed_dir(results, present[0]) / "verification.json")["open_set_far"]
    return [f"Where the FDM multiplies and how masked scores are normalised, on the same identity-disjoint pairs "
            f"(`results/lfw/seed*/verification_methods.md`; the choice: `method_selection.md`, validation split "
            f"only), mean over {seeds_text(present)}. Thresholds at FAR {far:g} over every condition's impostor "
            f"pairs; TAR (%) at FAR {far:g}. Comparable scores: thresholds alike across strategies and the worst "
            "layout's clean TAR near 100% of no FDM's.", "",
            *table_lines(header, rows, left=2)]


def open_set_over_seeds(results: Path, seeds: list[int]) -> tuple[pd.DataFrame, list[int]] | None:
    """The open set over the seeds that have an ``open_set.csv`` (the library's across-seeds table)
    and those seeds; None when no seed has one."""
    present = [s for s in seeds if (seed_dir(results, s) / "open_set.csv").is_file()]
    if not present:
        return None
    return open_set_across_seeds({s: pd.read_csv(seed_dir(results, s) / "open_set.csv") for s in present}), present


def open_set_section(results: Path, seeds: list[int]) -> list[str]:
    """Open-set identification of unseen people: rank-1 and DIR at the lowest FAR per condition and
    strategy (the segmenter's regions; oracle and random control beside each layout), over seeds."""
    found = open_set_over_seeds(results, seeds)
    if found is None:
        return [f"Not in the committed results of {seeds_text(seeds)} (their runs predate the `open_set` rule)."]
    table, present = found
    record = read_json(seed_dir(results, present[0]) / "open_set.json")
    far = min(open_set_fars(table), key=float)
    return [f"People outside the dataset, never trained on (`results/lfw/seed*/open_set.md`): "
            f"{record['people_enrolled']:,} enrolled with one clean face, {record['genuine_probes']:,} genuine and "
            f"{record['impostor_probes']:,} impostor probes (people with one face), clean and under each test "
            f"occlusion; {seeds_text(present)}, mean ± std over seeds. Rank-1 (%) of the genuine probes; in "
            "brackets the seeds where the cell beats / loses to no FDM with McNemar p < 0.05, and the paired "
            "t-test over seeds:", "",
            *open_set_grid(table, "rank1", tests=True).splitlines(), "",
            f"DIR (%) at FAR {far} against the impostor probes:", "",
            *open_set_grid(table, f"dir_at_far_{far}", tests=False).splitlines()]


def beyond_section(results: Path) -> list[str]:
    """The extended table (``make table-beyond``) and a line per row on what wins it, against the
    75% goals of issue 29 for face masks and sunglasses; nothing when no table was made."""
    if not (results / "table_beyond.csv").is_file():
        return []
    return ["The plain base against the training variants of `experiments/` (occlusion-augmented base, "
            "upper-face model, ...; `results/lfw/table_beyond.md`, `make table-beyond`). Rank-1, DIR and TAR in %, "
            "mean ± std over each variant's seeds, [p] the paired t-test against the plain base without FDM:", "",
            *(results / "table_beyond.md").read_text().strip().splitlines(), "",
            "What wins each row:", "",
            *beyond_reading(pd.read_csv(results / "table_beyond.csv"), PLAIN, BEYOND_GOALS)]


def tool_seed(results: Path, seeds: list[int]) -> int | None:
    """The first seed whose bundle was measured by `make bench-tool` (None: none was)."""
    return next((s for s in seeds if (seed_dir(results, s) / "tool_benchmark" / "verify.csv").is_file()), None)


def tool_summary(results: Path, seed: int) -> list[str]:
    """The tool benchmark's headline: measured against declared FAR, and TAR, on held-out clean
    and face-mask pairs for no FDM and the bundle's default layout at each calibrated FAR; and
    the tool's rank-1 against Table 1's."""
    folder = seed_dir(results, seed) / "tool_benchmark"
    verify, identify = pd.read_csv(folder / "verify.csv"), pd.read_csv(folder / "identify.csv")
    default = verify.loc[verify["default_layout"], "layout"].iloc[0]
    shown = verify[verify["layout"].isin([NO_FDM, default]) & verify["condition"].isin(["clean", "face_mask"])]
    parts = [f"at FAR {far:g}: " + ", ".join(
        f"{r.condition} {'no FDM' if r.layout == NO_FDM else r.layout} {r.measured_far:.3f} (TAR {100 * r.tar:.1f}%)"
        for r in group.itertuples(index=False)) for far, group in shown.groupby("declared_far", sort=True)]
    return [f"- The tool's thresholds (`make bench-tool`: seed {seed}'s bundle through the API on pairs of the folds "
            f"that did not calibrate them), measured FAR " + "; ".join(parts) + f". Its rank-1 on the test probes "
            f"differs from Table 1's by at most {identify['difference_points'].abs().max():.2f} points "
            f"(`results/lfw/seed{seed}/tool_benchmark/summary.md`)."]


def tool_section(results: Path, seeds: list[int]) -> list[str]:
    """The tool benchmark of the first measured seed: its summary page without its title."""
    seed = tool_seed(results, seeds)
    if seed is None:
        return [f"Not measured for {seeds_text(seeds)} yet (`make bench-tool DATASET=lfw SEED=N`)."]
    page = (seed_dir(results, seed) / "tool_benchmark" / "summary.md").read_text().split("\n")
    # Its headings one level down, under this section's.
    return [f"#{line}" if line.startswith("## ") else line for line in page[2:]]


def tool_examples(results: Path, seed: int) -> list[str]:
    """The console block of ``tool_examples.md`` (occlusion_fr_tooling.tool_examples), with its lead."""
    path = seed_dir(results, seed) / "tool_examples.md"
    if not path.is_file():
        return []
    text = path.read_text().rstrip("\n").split("\n")
    return [f"The tool on seed {seed}'s bundle (`results/lfw/seed{seed}/tool_examples.md`, "
            "`python -m occlusion_fr_tooling.tool_examples`): " + text[2], "", *text[4:]]


def data_section(results: Path, seeds: list[int]) -> list[str]:
    failures = pd.read_csv(results / "faces" / "failures.csv")
    lines = []
    for seed in seeds:
        summary = read_json(seed_dir(results, seed) / "split_summary.json")
        sizes = summary["images_per_split"]
        if not lines:
            lines.append(f"{summary['images'] + len(failures):,} images of the people with enough images; MTCNN found "
                         f"no face in {len(failures)} (`results/lfw/faces/failures.csv`); {summary['images']:,} images "
                         f"of {summary['identities']} people were split per identity:")
            lines.append("")
        lines.append(f"- seed {seed}: {sizes['train']:,} train / {sizes['val']:,} validation / {sizes['test']:,} test "
                     f"images, {min(summary['identities_per_split'].values())} people in every split")
    return lines


def summary_section(results: Path, table: pd.DataFrame, models: pd.DataFrame, paper_table: pd.DataFrame,
                    paper_models: pd.DataFrame, seeds: list[int], rules_dir: Path) -> list[str]:
    """The README's headline numbers: data, Table 1, the models, the claims, verification, job time."""
    summary = read_json(seed_dir(results, seeds[0]) / "split_summary.json")
    rows = models.set_index("seed")
    paper = paper_models.set_index("metric")["value"]
    claims = check_claims(table, paper_table)
    reproduced = [number for number, claim in enumerate(claims, start=1) if claim["reproduced"]]
    lines = [f"LFW, {summary['identities']} people with enough images, {summary['images']:,} face crops; "
             f"{seeds_text(seeds)} (each its own split, initialisations and occlusion renders). "
             f"{methods_text(results, seeds)}", "",
             *table1_section(table, seeds), "",
             f"- Base CNN on clean test faces: rank-1 "
             f"{mean_std_text(rows.loc['mean', 'base_cnn_test_rank1'], rows.loc['std', 'base_cnn_test_rank1'])}"
             f"% (paper {paper['base_cnn_test_rank1']:.2f}%); segmenter occluded-class IoU "
             f"{mean_std_text(rows.loc['mean', 'segmenter_iou'], rows.loc['std', 'segmenter_iou'])}%.",
             f"- The paper's claims about Table 1: {len(reproduced)} of {len(claims)} reproduced on the mean over seeds"
             + (f" (claim{'s' if len(reproduced) > 1 else ''} {', '.join(map(str, reproduced))})" if reproduced else "")
             + "; per seed, per probe and with the oracle's regions in [docs/results.md](docs/results.md)."]
    verification, _ = verification_tables(results, seeds)
    if verification is not None:
        accuracy = verification.groupby(["condition", "strategy"], sort=False)["accuracy"].mean()
        strategies = list(dict.fromkeys(verification["strategy"]))
        shown = [c for c in ("clean", *FDM_QUESTION_OCCLUSIONS) if c in set(verification["condition"])]
        lines.append("- Pair verification (people outside the split), accuracy (%) per strategy ("
                     + ", ".join("no FDM" if s == NO_FDM else s for s in strategies) + "): "
                     + "; ".join(f"{c} " + " / ".join(f"{100 * accuracy[(c, s)]:.1f}" for s in strategies)
                                 for c in shown) + ".")
    found = open_set_over_seeds(results, seeds)
    if found is not None:
        open_set, present = found
        segmenter = open_set[open_set["detector"].isin([NO_FDM, "segmenter"])]
        rank1 = segmenter.set_index(["condition", "strategy"])["rank1_mean"]
        strategies = list(dict.fromkeys(segmenter["strategy"]))
        shown = [c for c in ("clean", *FDM_QUESTION_OCCLUSIONS) if c in set(segmenter["condition"])]
        lines.append(f"- Open-set identification of people never seen ({seeds_text(present)}"
                     "), rank-1 (%) per strategy (" + ", ".join("no FDM" if s == NO_FDM else s for s in strategies)
                     + "): " + "; ".join(f"{c} " + " / ".join(f"{100 * rank1[(c, s)]:.1f}" for s in strategies)
                                         for c in shown) + ".")
    measured = tool_seed(results, seeds)
    if measured is not None:
        lines += tool_summary(results, measured)
    shared, per_seed, _ = job_times(results, seeds, rules_dir)
    span = sorted({f"{m:.0f}" for m in seed_minutes(shared, per_seed).values()}, key=float)
    lines.append(f"- One seed from the raw archive: {'-'.join(dict.fromkeys([span[0], span[-1]]))} min of job time "
                 f"({machines_text(results, seeds)}); per stage in [docs/performance.md](docs/performance.md).")
    examples = tool_examples(results, measured if measured is not None else seeds[0])
    return lines + (["", *examples] if examples else [])


def render_pages(results: Path, paper_table: pd.DataFrame, paper_models: pd.DataFrame, rules_dir: Path,
                 stage_order: list[str]) -> dict[str, str]:
    """{page (relative to the repository root): its rendered section, markers included} for a
    dataset's results folder (``results/lfw``)."""
    results = Path(results)
    table = pd.read_csv(results / "across_seeds" / "table1.csv")
    models = pd.read_csv(results / "across_seeds" / "models.csv", dtype={"seed": str})
    seeds = [int(c.removeprefix("rank1_seed")) for c in table.columns if c.startswith("rank1_seed")]
    # The first seed run by this version (its figure has the FDM row), else the first seed.
    current = [seed for seed in seeds if (seed_dir(results, seed) / "identification" / "fdm_effect.csv").is_file()]
    figure_seed = (current or seeds)[0]
    figure = f"results/lfw/seed{figure_seed}/figures/saliency_fdm.png"
    root = up_to_root(RESULTS_PAGE)
    limits = compute_limits_section(results.parent.parent)  # results/{dataset} -> the repository
    pooled = pooled_head_section(results, seeds)
    beyond = beyond_section(results)
    sections = {
        README: summary_section(results, table, models, paper_table, paper_models, seeds, rules_dir),
        RESULTS_PAGE: [
            "## Data", "", *data_section(results, seeds), "",
            "## Table 1", "", methods_text(results, seeds), "", *table1_section(table, seeds), "",
            "## Base CNN and segmenter", "", *models_section(models, paper_models), "",
            "## Segmenter against the oracle", "", *segmenter_gap_section(table, results, seeds), "",
            "## Mask generators: trained until they stagnate", "", *generator_epochs_section(results, seeds), "",
            "## The paper's claims on our numbers", "", *claims_section(table, paper_table, results, seeds), "",
            "## Face masks and sunglasses: what the FDMs do", "", *fdm_effect_section(results, seeds), "",
            *fdm_controls_section(results, seeds, paper_table), "",
            "## Where and how features are discarded", "", *fdm_ablations_section(results, seeds), "",
            *(["## A plain ResNet34 head: does the paper's sign come back?", "", *pooled, ""] if pooled else []),
            "## The percentile chosen on validation", "", *percentile_sweep_section(results, seeds, root), "",
            "## Pair verification", "", *verification_section(results, seeds), "",
            "## Comparable masked scores: the test-time method", "", *method_section(results, seeds), "",
            "## Open-set identification of people never seen", "", *open_set_section(results, seeds), "",
            "## Does the tool's threshold hold?", "", *tool_section(results, seeds), "",
            *(["## Beyond the paper: occlusion-augmented training and other variants", "", *beyond, ""] if beyond else []),
            "## A probe, its predicted occlusion, the regions chosen and the FDM", "",
            f"![probe, predicted occlusion, regions, FDM, saliency]({root}{figure})", "",
            f"`{figure}` (seed {figure_seed}, LM2): per occlusion one test probe, the segmenter's occlusion mask, "
            "the LM2 regions more than half covered, the saliency without and with the FDM"
            + (", and the FDM itself (the share of the 512 channels it keeps per feature-map cell)." if current else
               "; runs of this version add a row with the FDM itself.")],
        PERFORMANCE_PAGE: [
            "## Job time per stage", "", *stage_times_section(results, seeds, rules_dir, stage_order),
            *(["", "## Against the machine's limit", "", *limits] if limits else [])],
    }
    return {page: "\n".join([START, "", *lines, "", END]) + "\n" for page, lines in sections.items()}


def replace_section(text: str, section: str) -> str:
    """``text`` (a page) with the text between the markers (markers included) replaced by ``section``."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END) + "\n?", re.S)
    if not pattern.search(text):
        raise ValueError(f"no results markers ({START!r} ... {END!r})")
    return pattern.sub(lambda _: section, text, count=1)
