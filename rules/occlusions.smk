# Occluded copies of the crops with segmentation labels, and region blocks for mask generators.


rule occlusion_set:
    conda:
        "../envs/data.yaml"
    input:
        split=run_results("split.csv"),
        crops=results("{dataset}", "faces/crops"),
        layouts=band_layouts,
    output:
        images=directory(run_results("occlusions/{split}/{occlusion}")),
        index=run_results("occlusions/{split}/{occlusion}.csv"),
        skipped=run_results("occlusions/{split}/{occlusion}_skipped.csv"),
        figure=report(
            run_results("figures/occlusions/{split}_{occlusion}.png"),
            caption="../report/occlusion_set.rst",
            category="Occlusions",
            subcategory="{split}",
        ),
    params:
        spec=occlusion_spec,
        labels=config["labels"],
        seed=lambda wc: int(wc.seed),
    log:
        run_results("logs/occlusion_set_{split}_{occlusion}.log"),
    benchmark:
        run_results("benchmarks/occlusion_set_{split}_{occlusion}.tsv")
    script:
        "../workflow_scripts/occlusion_set.py"


rule occlusion_summary:
    conda:
        "../envs/data.yaml"
    input:
        indexes=occlusion_set_files("csv"),
        skipped=occlusion_set_files("_skipped.csv"),
    output:
        table=run_results("occlusions/summary.csv"),
        skipped=run_results("occlusions/skipped.csv"),
        report=report(
            run_results("occlusions/summary.md"),
            caption="../report/occlusion_summary.rst",
            category="Occlusions",
        ),
    log:
        run_results("logs/occlusion_summary.log"),
    benchmark:
        run_results("benchmarks/occlusion_summary.tsv")
    script:
        "../workflow_scripts/occlusion_summary.py"


rule region_blocks:
    conda:
        "../envs/data.yaml"
    input:
        split=run_results("split.csv"),
        regions=run_results("regions/{layout}.json"),
        crops=results("{dataset}", "faces/crops"),
    output:
        table=run_results("blocks/{layout}.csv"),
        figure=report(
            run_results("figures/blocks_{layout}.png"),
            caption="../report/blocks.rst",
            category="Occlusions",
        ),
    params:
        splits=config["blocks"]["splits"],
        grey=config["blocks"]["grey"],
        seed=lambda wc: int(wc.seed),
    log:
        run_results("logs/region_blocks_{layout}.log"),
    benchmark:
        run_results("benchmarks/region_blocks_{layout}.tsv")
    script:
        "../workflow_scripts/region_blocks.py"
