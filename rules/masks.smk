# Feature maps of the frozen base CNN, mask generators (PDSN) and the mask dictionary.


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


# One job per masking layout trains its regions' generators one after the other (same seeds and
# results as one job per region, without each job's start-up: occlusion_fr.masking.generator).
rule mask_generator:
    wildcard_constraints:
        dataset=TRAINED_DATASETS,
    conda:
        "../envs/models.yaml"
    input:
        weights=run_results("models/base_cnn/weights.pt"),
        metrics=run_results("models/base_cnn/metrics.json"),
        train_maps=run_results("features/train/clean.npz"),
        val_maps=run_results("features/val/clean.npz"),
        blocks=run_results("blocks/{masking_layout}.csv"),
        split=run_results("split.csv"),
        crops=results("{dataset}", "faces/crops"),
    output:
        # Per region: {region}.pt and the mean of the min-max normalised outputs over the training
        # pairs, {region}_mean_mask.npy (section 3.3; the dictionary thresholds it, so a new
        # percentile does not retrain). Weights and mean masks live apart from the (git-tracked)
        # metrics, {region}.json: DVC versions the whole mask_generators/ folder.
        weights=directory(run_results("mask_generators/{masking_layout}")),
        metrics=directory(run_results("models/mask_generators/{masking_layout}")),
    params:
        settings=lambda wc: {
            **config["mask_generator"],
            "max_epochs": config["datasets"][wc.dataset]["max_epochs"]["mask_generator"],
        },
        seed=lambda wc: int(wc.seed),
        regions=lambda wc: masking_layout_regions(wc.masking_layout),
        # Resumable per-region checkpoints, outside the outputs (which Snakemake clears first).
        checkpoints=lambda wc: run_results(f"models/mask_generators/checkpoints/{wc.masking_layout}", wc.dataset,
                                           wc.seed),
    threads: 4
    log:
        run_results("logs/mask_generator_{masking_layout}.log"),
    benchmark:
        run_results("benchmarks/mask_generator_{masking_layout}.tsv")
    script:
        "../workflow_scripts/mask_generator.py"


rule mask_dictionary:
    wildcard_constraints:
        dataset=TRAINED_DATASETS,
    conda:
        "../envs/models.yaml"
    input:
        unpack(mask_dictionary_inputs),
    output:
        mask=run_results("masks/{masking_layout}/{region}.npy"),
        view=run_results("masks/{masking_layout}/{region}.png"),
    params:
        percentile=lambda wc: config["layouts"][wc.masking_layout]["percentile"],
    log:
        run_results("logs/mask_dictionary_{masking_layout}_{region}.log"),
    benchmark:
        run_results("benchmarks/mask_dictionary_{masking_layout}_{region}.tsv")
    script:
        "../workflow_scripts/mask_dictionary.py"


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
