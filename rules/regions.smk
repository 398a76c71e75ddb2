# Landmark statistics and region layouts, from the training split only.


rule landmark_statistics:
    conda:
        "../envs/data.yaml"
    input:
        split=run_results("split.csv"),
    output:
        statistics=run_results("landmarks/statistics.json"),
        histograms=report(
            run_results("figures/landmark_distances.png"),
            caption="../report/landmark_distances.rst",
            category="Data",
        ),
    log:
        run_results("logs/landmark_statistics.log"),
    benchmark:
        run_results("benchmarks/landmark_statistics.tsv")
    script:
        "../workflow_scripts/landmark_statistics.py"


rule region_layout:
    conda:
        "../envs/data.yaml"
    input:
        split=run_results("split.csv"),
        crops=results("{dataset}", "faces/crops"),
    output:
        regions=run_results("regions/{layout}.json"),
        coverage=run_results("regions/{layout}_coverage.csv"),
        figure=report(
            run_results("figures/regions_{layout}.png"),
            caption="../report/regions.rst",
            category="Region layouts",
        ),
    params:
        spec=layout_spec,
    wildcard_constraints:
        layout=name_pattern(DERIVED_LAYOUTS),
    log:
        run_results("logs/region_layout_{layout}.log"),
    benchmark:
        run_results("benchmarks/region_layout_{layout}.tsv")
    script:
        "../workflow_scripts/region_layout.py"


rule coverage_report:
    conda:
        "../envs/data.yaml"
    input:
        coverage=expand(run_results("regions/{layout}_coverage.csv", "{{dataset}}", "{{seed}}"), layout=DERIVED_LAYOUTS),
    output:
        table=run_results("regions/coverage.csv"),
        report=report(
            run_results("regions/coverage.md"),
            caption="../report/coverage.rst",
            category="Region layouts",
        ),
    log:
        run_results("logs/coverage_report.log"),
    benchmark:
        run_results("benchmarks/coverage_report.tsv")
    script:
        "../workflow_scripts/coverage_report.py"
