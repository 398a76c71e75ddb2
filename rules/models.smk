# Base CNN on clean crops; occlusion segmenter on the occluded training sets.


rule base_cnn:
    conda:
        "../envs/models.yaml"
    input:
        split=results("{dataset}", "split.csv"),
        crops=results("{dataset}", "faces/crops"),
    output:
        weights=results("{dataset}", "models/base_cnn/weights.pt"),
        metrics=results("{dataset}", "models/base_cnn/metrics.json"),
        curves=report(
            results("{dataset}", "figures/base_cnn_training.png"),
            caption="../report/base_cnn_training.rst",
            category="Models",
        ),
    params:
        settings=lambda wc: {
            **config["base_cnn"],
            "max_epochs": config["datasets"][wc.dataset]["max_epochs"]["base_cnn"],
        },
        seed=config["seed"],
        # Not an output: Snakemake would delete it before a rerun, and resuming needs it.
        checkpoints=lambda wc: results(wc.dataset, "models/base_cnn/checkpoints"),
    threads: 4  # capped at --cores on a workstation
    log:
        results("{dataset}", "logs/base_cnn.log"),
    benchmark:
        results("{dataset}", "benchmarks/base_cnn.tsv")
    script:
        "../workflow_scripts/base_cnn.py"


rule segmenter:
    conda:
        "../envs/models.yaml"
    input:
        split=results("{dataset}", "split.csv"),
        crops=results("{dataset}", "faces/crops"),
        sets=occlusion_set_files(""),
        indexes=occlusion_set_files("csv"),
    output:
        weights=results("{dataset}", "models/segmenter/weights.pt"),
        metrics=results("{dataset}", "models/segmenter/metrics.json"),
        table=results("{dataset}", "models/segmenter/test_metrics.csv"),
        report=report(
            results("{dataset}", "models/segmenter/test_metrics.md"),
            caption="../report/segmenter_metrics.rst",
            category="Models",
        ),
        curves=report(
            results("{dataset}", "figures/segmenter_training.png"),
            caption="../report/segmenter_training.rst",
            category="Models",
        ),
        predictions=report(
            results("{dataset}", "figures/segmenter_predictions.png"),
            caption="../report/segmenter_predictions.rst",
            category="Models",
        ),
    params:
        settings=lambda wc: {
            **config["segmenter"],
            "max_epochs": config["datasets"][wc.dataset]["max_epochs"]["segmenter"],
        },
        occlusion_sets=config["occlusion_sets"],
        sets_dir=lambda wc: results(wc.dataset, "occlusions"),
        seed=config["seed"],
        checkpoints=lambda wc: results(wc.dataset, "models/segmenter/checkpoints"),
    threads: 4  # capped at --cores on a workstation
    log:
        results("{dataset}", "logs/segmenter.log"),
    benchmark:
        results("{dataset}", "benchmarks/segmenter.tsv")
    script:
        "../workflow_scripts/segmenter.py"


rule training_history:
    # Per-epoch history of a trained model as CSV: the training curves `dvc plots` draws.
    conda:
        "../envs/models.yaml"
    input:
        metrics=results("{dataset}", "models/{model}/metrics.json"),
    output:
        history=results("{dataset}", "models/{model}/history.csv"),
    wildcard_constraints:
        model="base_cnn|segmenter",
    log:
        results("{dataset}", "logs/training_history_{model}.log"),
    script:
        "../workflow_scripts/training_history.py"
