# Occluded copies of the crops with segmentation labels, and region blocks for mask generators.


rule occlusion_set:
    conda:
        "../envs/data.yaml"
    input:
        split=results("{dataset}", "split.csv"),
        crops=results("{dataset}", "faces/crops"),
        layouts=band_layouts,
    output:
        images=directory(results("{dataset}", "occlusions/{split}/{occlusion}")),
        index=results("{dataset}", "occlusions/{split}/{occlusion}.csv"),
        skipped=results("{dataset}", "occlusions/{split}/{occlusion}_skipped.csv"),
        figure=report(
            results("{dataset}", "figures/occlusions/{split}_{occlusion}.png"),
            caption="../report/occlusion_set.rst",
            category="Occlusions",
            subcategory="{split}",
        ),
    params:
        spec=lambda wc: renderer_spec(config["occlusions"][wc.occlusion]),
        labels=config["labels"],
        seed=config["seed"],
    log:
        results("{dataset}", "logs/occlusion_set_{split}_{occlusion}.log"),
    benchmark:
        results("{dataset}", "benchmarks/occlusion_set_{split}_{occlusion}.tsv")
    script:
        "../workflow_scripts/occlusion_set.py"


rule occlusion_summary:
    conda:
        "../envs/data.yaml"
    input:
        indexes=occlusion_set_files("csv"),
        skipped=occlusion_set_files("_skipped.csv"),
    output:
        table=results("{dataset}", "occlusions/summary.csv"),
        skipped=results("{dataset}", "occlusions/skipped.csv"),
        report=report(
            results("{dataset}", "occlusions/summary.md"),
            caption="../report/occlusion_summary.rst",
            category="Occlusions",
        ),
    log:
        results("{dataset}", "logs/occlusion_summary.log"),
    benchmark:
        results("{dataset}", "benchmarks/occlusion_summary.tsv")
    script:
        "../workflow_scripts/occlusion_summary.py"


rule region_blocks:
    conda:
        "../envs/data.yaml"
    input:
        split=results("{dataset}", "split.csv"),
        regions=results("{dataset}", "regions/{layout}.json"),
        crops=results("{dataset}", "faces/crops"),
    output:
        table=results("{dataset}", "blocks/{layout}.csv"),
        figure=report(
            results("{dataset}", "figures/blocks_{layout}.png"),
            caption="../report/blocks.rst",
            category="Occlusions",
        ),
    params:
        splits=config["blocks"]["splits"],
        grey=config["blocks"]["grey"],
        seed=config["seed"],
    log:
        results("{dataset}", "logs/region_blocks_{layout}.log"),
    benchmark:
        results("{dataset}", "benchmarks/region_blocks_{layout}.tsv")
    script:
        "../workflow_scripts/region_blocks.py"
