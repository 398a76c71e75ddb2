# Feature maps of the frozen base CNN, and the mask dictionary drawn on faces.


rule feature_maps:
    conda:
        "../envs/models.yaml"
    input:
        unpack(image_set_inputs),
        weights=run_results("models/base_cnn/weights.pt"),
        metrics=run_results("models/base_cnn/metrics.json"),
        split=run_results("split.csv"),
        crops=results("{dataset}", "faces/crops"),
    output:
        maps=run_results("features/{split}/{probe}.npz"),
    params:
        sets_dir=lambda wc: run_results("occlusions", wc.dataset, wc.seed),
        precision=config["base_cnn"]["precision"],
    threads: 4
    log:
        run_results("logs/feature_maps_{split}_{probe}.log"),
    benchmark:
        run_results("benchmarks/feature_maps_{split}_{probe}.tsv")
    script:
        "../workflow_scripts/feature_maps.py"


rule mask_figure:
    conda:
        "../envs/models.yaml"
    input:
        masks=layout_masks,
        regions=run_results("regions/{masking_layout}.json"),
        split=run_results("split.csv"),
        crops=results("{dataset}", "faces/crops"),
    output:
        figure=report(
            run_results("figures/masks_{masking_layout}.png"),
            caption="../report/masks.rst",
            category="Mask dictionary",
        ),
    log:
        run_results("logs/mask_figure_{masking_layout}.log"),
    benchmark:
        run_results("benchmarks/mask_figure_{masking_layout}.tsv")
    script:
        "../workflow_scripts/mask_figure.py"
