# Occlusion masks of the test probes, identification per masking strategy, Table 1, saliency.


rule occlusion_masks:
    conda:
        "../envs/models.yaml"
    input:
        unpack(image_set_inputs),
        segmenter=results("{dataset}", "models/segmenter/weights.pt"),
        split=results("{dataset}", "split.csv"),
        crops=results("{dataset}", "faces/crops"),
    output:
        masks=results("{dataset}", "predictions/{split}/{probe}.npz"),
    params:
        sets_dir=lambda wc: results(wc.dataset, "occlusions"),
        encoder=config["segmenter"]["encoder"],
        precision=config["segmenter"]["precision"],
    threads: 4
    log:
        results("{dataset}", "logs/occlusion_masks_{split}_{probe}.log"),
    benchmark:
        results("{dataset}", "benchmarks/occlusion_masks_{split}_{probe}.tsv")
    script:
        "../workflow_scripts/occlusion_masks.py"


rule identification:
    conda:
        "../envs/models.yaml"
    input:
        unpack(identification_inputs),
        weights=results("{dataset}", "models/base_cnn/weights.pt"),
        metrics=results("{dataset}", "models/base_cnn/metrics.json"),
        split=results("{dataset}", "split.csv"),
    output:
        summary=results("{dataset}", "identification/{strategy}.csv"),
        probes=results("{dataset}", "identification/probes/{strategy}.csv"),
    params:
        probes=PROBES,
        overlap_threshold=lambda wc: None if wc.strategy == "none" else config["feature_discarding"][
            "overlap_threshold"],
        precision=config["base_cnn"]["precision"],
    threads: 4
    log:
        results("{dataset}", "logs/identification_{strategy}.log"),
    benchmark:
        results("{dataset}", "benchmarks/identification_{strategy}.tsv")
    script:
        "../workflow_scripts/identification.py"


rule table1:
    conda:
        "../envs/models.yaml"
    input:
        summaries=expand(results("{{dataset}}", "identification/{strategy}.csv"), strategy=STRATEGIES),
        paper=paper_table,
    output:
        table=results("{dataset}", "table1.csv"),
        metrics=results("{dataset}", "table1.json"),  # DVC metrics
        report=report(
            results("{dataset}", "table1.md"),
            caption="../report/table1.rst",
            category="Table 1",
        ),
    params:
        rows=PROBES,
        strategies=STRATEGIES,
    log:
        results("{dataset}", "logs/table1.log"),
    benchmark:
        results("{dataset}", "benchmarks/table1.tsv")
    script:
        "../workflow_scripts/table1.py"


rule saliency_figures:
    conda:
        "../envs/models.yaml"
    input:
        weights=results("{dataset}", "models/base_cnn/weights.pt"),
        metrics=results("{dataset}", "models/base_cnn/metrics.json"),
        split=results("{dataset}", "split.csv"),
        crops=results("{dataset}", "faces/crops"),
        sets=[results("{dataset}", f"occlusions/test/{o}") for o in config["saliency"]["occlusions"]],
        occlusion_masks=[results("{dataset}", f"predictions/test/{o}.npz") for o in config["saliency"]["occlusions"]],
        regions=results("{dataset}", f"regions/{config['saliency']['layout']}.json"),
        masks=[results("{dataset}", f"masks/{config['saliency']['layout']}/{r}.npy")
               for r in masking_layout_regions(config["saliency"]["layout"])],
    output:
        clean=report(
            results("{dataset}", "figures/saliency_clean.png"),
            caption="../report/saliency_clean.rst",
            category="Table 1",
        ),
        fdm=report(
            results("{dataset}", "figures/saliency_fdm.png"),
            caption="../report/saliency_fdm.rst",
            category="Table 1",
        ),
    params:
        saliency=config["saliency"],
        sets_dir=lambda wc: results(wc.dataset, "occlusions"),
        overlap_threshold=config["feature_discarding"]["overlap_threshold"],
        seed=config["seed"],
    log:
        results("{dataset}", "logs/saliency_figures.log"),
    benchmark:
        results("{dataset}", "benchmarks/saliency_figures.tsv")
    script:
        "../workflow_scripts/saliency_figures.py"
