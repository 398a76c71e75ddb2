# Base CNN on clean crops; occlusion segmenter on the occluded training sets (not for a dataset
# evaluated from a bundle: rules/pretrained.smk).


rule base_cnn:
    wildcard_constraints:
        dataset=TRAINED_DATASETS,
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
    wildcard_constraints:
        dataset=TRAINED_DATASETS,
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
