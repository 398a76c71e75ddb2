"""Stage times from Snakemake benchmark files (`make bench`)."""

import pytest

from occlusion_fr_tooling.stage_times import benchmark_table, rule_stages, stage_summary

from conftest import REPO

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def write_benchmark(folder, name, *seconds, rss=100.5):
    rows = "".join(f"{s}\t0:00:00\t{rss}\t1\t1\t1\t0\t0\t0\t0\n" for s in seconds)
    (folder / f"{name}.tsv").write_text(HEADER + rows)


def test_rules_map_to_the_file_that_defines_them():
    stages = rule_stages(REPO / "rules")
    assert stages["base_cnn"] == "models" and stages["mask_generator"] == "masks"
    assert stages["occlusion_masks"] == "evaluation" and stages["detect_faces"] == "faces"


def test_jobs_are_summed_per_stage_with_the_longest_rule_name_and_latest_run(tmp_path):
    stages = {"mask": "a", "mask_generator": "b", "table1": "b"}
    write_benchmark(tmp_path, "mask_generator_lm2_eyes", 10.0)
    write_benchmark(tmp_path, "mask_generator_lm1_nose", 30.0, 5.0)  # rerun: the last line counts
    write_benchmark(tmp_path, "mask_x", 1.0, rss="-")  # Snakemake writes "-" where it measured none
    write_benchmark(tmp_path, "table1", 4.0, rss=9000.0)
    table = benchmark_table(tmp_path, stages)
    assert dict(zip(table["job"], table["rule"])) == {"mask_generator_lm2_eyes": "mask_generator",
                                                      "mask_generator_lm1_nose": "mask_generator",
                                                      "mask_x": "mask", "table1": "table1"}
    summary = stage_summary(table, ["b", "a", "unused"]).set_index("stage")
    assert list(summary.index) == ["b", "a"]
    assert summary.loc["b", "jobs"] == 3 and summary.loc["b", "seconds"] == pytest.approx(19.0)
    assert summary.loc["b", "slowest_job"] == "mask_generator_lm2_eyes"
    assert summary.loc["b", "largest_job"] == "table1" and summary.loc["b", "max_rss"] == pytest.approx(9000.0)
    assert summary.loc["a", "largest_job"] == "mask_x"  # the only job, without a measurement
    assert summary["share"].sum() == pytest.approx(1.0)


def test_a_benchmark_of_no_known_rule_is_named(tmp_path):
    write_benchmark(tmp_path, "renamed_rule", 1.0)
    with pytest.raises(ValueError, match="renamed_rule.tsv"):
        benchmark_table(tmp_path, {"table1": "evaluation"})
