# Landmark statistics and region layouts, from the training split only.


rule landmark_statistics:
    conda:
        "../envs/data.yaml"
    input:
        split=results("{dataset}", "split.csv"),
    output:
        statistics=results("{dataset}", "landmarks/statistics.json"),
        histograms=report(
            results("{dataset}", "figures/landmark_distances.png"),
            caption="../report/landmark_distances.rst",
            category="Data",
        ),
    log:
        results("{dataset}", "logs/landmark_statistics.log"),
    benchmark:
        results("{dataset}", "benchmarks/landmark_statistics.tsv")
    script:
        "../workflow_scripts/landmark_statistics.py"


rule region_layout:
    conda:
        "../envs/data.yaml"
    input:
        split=results("{dataset}", "split.csv"),
        crops=results("{dataset}", "faces/crops"),
    output:
        regions=results("{dataset}", "regions/{layout}.json"),
        coverage=results("{dataset}", "regions/{layout}_coverage.csv"),
        figure=report(
            results("{dataset}", "figures/regions_{layout}.png"),
            caption="../report/regions.rst",
            category="Region layouts",
        ),
    params:
        spec=layout_spec,
    log:
        results("{dataset}", "logs/region_layout_{layout}.log"),
    benchmark:
        results("{dataset}", "benchmarks/region_layout_{layout}.tsv")
    script:
        "../workflow_scripts/region_layout.py"


rule coverage_report:
    conda:
        "../envs/data.yaml"
    input:
        coverage=expand(results("{{dataset}}", "regions/{layout}_coverage.csv"), layout=REGION_LAYOUTS),
    output:
        table=results("{dataset}", "regions/coverage.csv"),
        report=report(
            results("{dataset}", "regions/coverage.md"),
            caption="../report/coverage.rst",
            category="Region layouts",
        ),
    log:
        results("{dataset}", "logs/coverage_report.log"),
    benchmark:
        results("{dataset}", "benchmarks/coverage_report.tsv")
    script:
        "../workflow_scripts/coverage_report.py"
