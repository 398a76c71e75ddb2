"""What a layout change costs to rerun: the DAG from a dry run's text, priced with benchmarks."""

import pytest

from occlusion_fr_tooling.rerun_cost import benchmark_seconds, downstream, layout_change_costs, matching, parse_dry_run

from test_stage_times import write_benchmark


def job(rule, wildcards, inputs, outputs, benchmark=True, local=False):
    name = "_".join([rule, *wildcards.values()])
    lines = [f"[Sun Nov 29 11:38:42 2026]", f"{'localrule' if local else 'rule'} {rule}:",
             f"    input: {', '.join(inputs)}" if inputs else None, f"    output: {', '.join(outputs)}",
             f"    log: logs/{name}.log", "    jobid: 1",
             f"    benchmark: benchmarks/{name}.tsv" if benchmark else None,
             "    reason: Forced execution",
             f"    wildcards: {', '.join(f'{k}={v}' for k, v in wildcards.items())}" if wildcards else None,
             "    resources: tmpdir=/tmp", "Shell command: None", ""]
    return "\n".join(line for line in lines if line is not None) + "\n"


DRY_RUN = "Building DAG of jobs...\nJob stats:\njob count\n\n" + "".join([
    job("region_layout", {"layout": "lm1"}, ["split.csv"], ["regions/lm1.json"]),
    job("region_layout", {"layout": "lm2"}, ["split.csv"], ["regions/lm2.json"]),
    job("mask_generator", {"masking_layout": "lm1", "region": "nose"}, ["regions/lm1.json", "maps.npz"],
        ["generators/lm1/nose.pt"]),
    job("mask_generator", {"masking_layout": "lm2", "region": "eyes"}, ["regions/lm2.json", "maps.npz"],
        ["generators/lm2/eyes.pt"]),
    job("mask_dictionary", {"masking_layout": "lm1"}, ["generators/lm1/nose.pt"], ["dictionary/lm1"]),
    job("mask_dictionary", {"masking_layout": "lm2"}, ["generators/lm2/eyes.pt"], ["dictionary/lm2"]),
    # an input inside a directory output depends on the job that writes the directory
    job("identification", {"strategy": "lm1"}, ["dictionary/lm1/nose.npy"], ["identification/lm1.csv"]),
    job("identification", {"strategy": "lm2"}, ["dictionary/lm2/eyes.npy"], ["identification/lm2.csv"]),
    job("table1", {}, ["identification/lm1.csv", "identification/lm2.csv"], ["table1.md"]),
    job("all", {}, ["table1.md"], ["all"], benchmark=False, local=True),
]) + "Job stats:\njob count\n"


def rules_of(jobs, indices):
    return sorted((jobs[i].rule, jobs[i].wildcards.get("layout") or jobs[i].wildcards.get("masking_layout")
                   or jobs[i].wildcards.get("strategy")) for i in indices)


def test_the_dry_run_text_gives_every_job_with_its_files():
    jobs = parse_dry_run(DRY_RUN)
    assert [j.rule for j in jobs].count("mask_generator") == 2 and len(jobs) == 10
    generator = jobs[matching(jobs, "mask_generator", masking_layout="lm1")[0]]
    assert generator.inputs == ("regions/lm1.json", "maps.npz") and generator.outputs == ("generators/lm1/nose.pt",)
    assert generator.wildcards == {"masking_layout": "lm1", "region": "nose"}
    assert generator.benchmark == "benchmarks/mask_generator_lm1_nose.tsv"
    assert jobs[-1].rule == "all" and jobs[-1].benchmark is None and jobs[-1].wildcards == {}


def test_downstream_follows_files_and_directories_but_not_the_other_layout():
    jobs = parse_dry_run(DRY_RUN)
    reached = downstream(jobs, matching(jobs, "region_layout", layout="lm1"))
    assert rules_of(jobs, reached) == [("all", None), ("identification", "lm1"), ("mask_dictionary", "lm1"),
                                       ("mask_generator", "lm1"), ("region_layout", "lm1"), ("table1", None)]
    reached = downstream(jobs, matching(jobs, "mask_dictionary", masking_layout="lm2"))
    assert rules_of(jobs, reached) == [("all", None), ("identification", "lm2"), ("mask_dictionary", "lm2"),
                                       ("table1", None)]


def test_costs_sum_the_measured_jobs_and_count_the_unmeasured(tmp_path):
    jobs = parse_dry_run(DRY_RUN)
    folder = tmp_path / "benchmarks"
    folder.mkdir()
    for name, seconds in {"region_layout_lm1": 2.0, "mask_generator_lm1_nose": 100.0, "mask_dictionary_lm1": 1.0,
                          "identification_lm1": 10.0, "table1": 3.0, "region_layout_lm2": 2.0,
                          "mask_generator_lm2_eyes": 50.0, "mask_dictionary_lm2": 1.0}.items():
        write_benchmark(folder, name, 999.0, seconds)  # a rerun job: its latest time counts
    costs = layout_change_costs(jobs, ["lm1", "lm2"], lambda path: benchmark_seconds(tmp_path / path))
    rows = costs.set_index(["layout", "change"])
    assert rows.loc[("lm1", "regions"), "seconds"] == pytest.approx(116.0)
    assert rows.loc[("lm1", "regions"), "jobs"] == 6 and rows.loc[("lm1", "regions"), "unmeasured_jobs"] == 0
    assert rows.loc[("lm1", "percentile"), "seconds"] == pytest.approx(14.0)
    # identification_lm2 never ran: the sum misses it and says so
    assert rows.loc[("lm2", "regions"), "seconds"] == pytest.approx(56.0)
    assert rows.loc[("lm2", "regions"), "unmeasured_jobs"] == 1
    assert "mask_generator" not in rows.loc[("lm2", "percentile"), "rules"].split()


def test_unknown_jobs_and_empty_dry_runs_are_refused():
    with pytest.raises(ValueError, match="no jobs"):
        parse_dry_run("Nothing to be done (all requested files are present and up to date).\n")
    with pytest.raises(ValueError, match="no region_layout job"):
        matching(parse_dry_run(DRY_RUN), "region_layout", layout="grid3x3")
