# Feature maps of the frozen base CNN, mask generators (PDSN) and the mask dictionary.


rule feature_maps:
    conda:
        "../envs/models.yaml"
    input:
        unpack(image_set_inputs),
        weights=results("{dataset}", "models/base_cnn/weights.pt"),
        metrics=results("{dataset}", "models/base_cnn/metrics.json"),
        split=results("{dataset}", "split.csv"),
        crops=results("{dataset}", "faces/crops"),
    output:
        maps=results("{dataset}", "features/{split}/{probe}.npz"),
    params:
        sets_dir=lambda wc: results(wc.dataset, "occlusions"),
        precision=config["base_cnn"]["precision"],
    threads: 4
    log:
        results("{dataset}", "logs/feature_maps_{split}_{probe}.log"),
    benchmark:
        results("{dataset}", "benchmarks/feature_maps_{split}_{probe}.tsv")
    script:
        "../workflow_scripts/feature_maps.py"


rule mask_generator:
    conda:
        "../envs/models.yaml"
    input:
        weights=results("{dataset}", "models/base_cnn/weights.pt"),
        metrics=results("{dataset}", "models/base_cnn/metrics.json"),
        train_maps=results("{dataset}", "features/train/clean.npz"),
        val_maps=results("{dataset}", "features/val/clean.npz"),
        blocks=results("{dataset}", "blocks/{masking_layout}.csv"),
        split=results("{dataset}", "split.csv"),
        crops=results("{dataset}", "faces/crops"),
    output:
        # Weights and mean masks live apart from the (git-tracked) metrics: DVC versions the
        # whole mask_generators/ folder.
        weights=results("{dataset}", "mask_generators/{masking_layout}/{region}.pt"),
        metrics=results("{dataset}", "models/mask_generators/{masking_layout}/{region}.json"),
        # Mean of the min-max normalised outputs over the training pairs (section 3.3); the
        # dictionary thresholds it, so a new percentile does not retrain the generator.
        mean_mask=results("{dataset}", "mask_generators/{masking_layout}/{region}_mean_mask.npy"),
    params:
        settings=lambda wc: {
            **config["mask_generator"],
            "max_epochs": config["datasets"][wc.dataset]["max_epochs"]["mask_generator"],
        },
        seed=config["seed"],
    threads: 4
    log:
        results("{dataset}", "logs/mask_generator_{masking_layout}_{region}.log"),
    benchmark:
        results("{dataset}", "benchmarks/mask_generator_{masking_layout}_{region}.tsv")
    script:
        "../workflow_scripts/mask_generator.py"


rule mask_dictionary:
    conda:
        "../envs/models.yaml"
    input:
        mean_mask=results("{dataset}", "mask_generators/{masking_layout}/{region}_mean_mask.npy"),
    output:
        mask=results("{dataset}", "masks/{masking_layout}/{region}.npy"),
        view=results("{dataset}", "masks/{masking_layout}/{region}.png"),
    params:
        percentile=lambda wc: config["layouts"][wc.masking_layout]["percentile"],
    log:
        results("{dataset}", "logs/mask_dictionary_{masking_layout}_{region}.log"),
    benchmark:
        results("{dataset}", "benchmarks/mask_dictionary_{masking_layout}_{region}.tsv")
    script:
        "../workflow_scripts/mask_dictionary.py"


rule mask_figure:
    conda:
        "../envs/models.yaml"
    input:
        masks=layout_masks,
        regions=results("{dataset}", "regions/{masking_layout}.json"),
        split=results("{dataset}", "split.csv"),
        crops=results("{dataset}", "faces/crops"),
    output:
        figure=report(
            results("{dataset}", "figures/masks_{masking_layout}.png"),
            caption="../report/masks.rst",
            category="Mask dictionary",
        ),
    log:
        results("{dataset}", "logs/mask_figure_{masking_layout}.log"),
    benchmark:
        results("{dataset}", "benchmarks/mask_figure_{masking_layout}.tsv")
    script:
        "../workflow_scripts/mask_figure.py"
