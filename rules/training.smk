# What a run trains (and an evaluation from a bundle, rules/pretrained.smk, takes instead): the
# base CNN on clean crops, the occlusion segmenter on the occluded training sets, the mask
# generators (PDSN) and the mask dictionary.


rule base_cnn:
    conda:
        "../envs/models.yaml"
    input:
        split=run_results("split.csv"),
        crops=results("{dataset}", "faces/crops"),
    output:
        weights=run_results("models/base_cnn/weights.pt"),
        metrics=run_results("models/base_cnn/metrics.json"),
        curves=report(
            run_results("figures/base_cnn_training.png"),
            caption="../report/base_cnn_training.rst",
            category="Models",
        ),
    params:
        settings=base_cnn_settings,
        seed=lambda wc: int(wc.seed),
        # Not an output: Snakemake would delete it before a rerun, and resuming needs it.
        checkpoints=lambda wc: run_results("models/base_cnn/checkpoints", wc.dataset, wc.seed),
    threads: 4  # capped at --cores on a workstation
    log:
        run_results("logs/base_cnn.log"),
    benchmark:
        run_results("benchmarks/base_cnn.tsv")
    script:
        "../workflow_scripts/base_cnn.py"


rule segmenter:
    conda:
        "../envs/models.yaml"
    input:
        split=run_results("split.csv"),
        crops=results("{dataset}", "faces/crops"),
        sets=occlusion_set_files("", SEGMENTER_SETS),
        indexes=occlusion_set_files("csv", SEGMENTER_SETS),
    output:
        weights=run_results("models/segmenter/weights.pt"),
        metrics=run_results("models/segmenter/metrics.json"),
        table=run_results("models/segmenter/test_metrics.csv"),
        report=report(
            run_results("models/segmenter/test_metrics.md"),
            caption="../report/segmenter_metrics.rst",
            category="Models",
        ),
        curves=report(
            run_results("figures/segmenter_training.png"),
            caption="../report/segmenter_training.rst",
            category="Models",
        ),
        predictions=report(
            run_results("figures/segmenter_predictions.png"),
            caption="../report/segmenter_predictions.rst",
            category="Models",
        ),
    params:
        settings=lambda wc: {
            **config["segmenter"],
            "max_epochs": config["datasets"][wc.dataset]["max_epochs"]["segmenter"],
        },
        occlusion_sets={"train": config["segmenter"]["occlusions"], "val": config["segmenter"]["occlusions"],
                        "test": config["occlusion_sets"]["test"]},
        sets_dir=lambda wc: run_results("occlusions", wc.dataset, wc.seed),
        seed=lambda wc: int(wc.seed),
        checkpoints=lambda wc: run_results("models/segmenter/checkpoints", wc.dataset, wc.seed),
    threads: 4  # capped at --cores on a workstation
    log:
        run_results("logs/segmenter.log"),
    benchmark:
        run_results("benchmarks/segmenter.tsv")
    script:
        "../workflow_scripts/segmenter.py"


rule training_history:
    # Per-epoch history of a trained model as CSV: the training curves `dvc plots` draws.
    conda:
        "../envs/models.yaml"
    input:
        metrics=run_results("models/{model}/metrics.json"),
    output:
        history=run_results("models/{model}/history.csv"),
    wildcard_constraints:
        model="base_cnn|segmenter",
    log:
        run_results("logs/training_history_{model}.log"),
    script:
        "../workflow_scripts/training_history.py"


rule mask_generator:
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
        # Weights and mean masks live apart from the (git-tracked) metrics: DVC versions the
        # whole mask_generators/ folder.
        weights=run_results("mask_generators/{masking_layout}/{region}.pt"),
        metrics=run_results("models/mask_generators/{masking_layout}/{region}.json"),
        # Mean of the min-max normalised outputs over the training pairs (section 3.3); the
        # dictionary thresholds it, so a new percentile does not retrain the generator.
        mean_mask=run_results("mask_generators/{masking_layout}/{region}_mean_mask.npy"),
    params:
        settings=lambda wc: {
            **config["mask_generator"],
            "max_epochs": config["datasets"][wc.dataset]["max_epochs"]["mask_generator"],
        },
        seed=lambda wc: int(wc.seed),
    threads: 4
    log:
        run_results("logs/mask_generator_{masking_layout}_{region}.log"),
    benchmark:
        run_results("benchmarks/mask_generator_{masking_layout}_{region}.tsv")
    script:
        "../workflow_scripts/mask_generator.py"


rule mask_dictionary:
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
