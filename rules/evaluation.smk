# Occlusion masks of the test probes, identification per masking strategy, Table 1, saliency.


rule occlusion_masks:
    conda:
        "../envs/models.yaml"
    input:
        unpack(image_set_inputs),
        segmenter=run_results("models/segmenter/weights.pt"),
        split=run_results("split.csv"),
        crops=results("{dataset}", "faces/crops"),
    output:
        masks=run_results("predictions/{split}/{probe}.npz"),
    params:
        sets_dir=lambda wc: run_results("occlusions", wc.dataset, wc.seed),
        encoder=config["segmenter"]["encoder"],
        precision=config["segmenter"]["precision"],
    threads: 4
    log:
        run_results("logs/occlusion_masks_{split}_{probe}.log"),
    benchmark:
        run_results("benchmarks/occlusion_masks_{split}_{probe}.tsv")
    script:
        "../workflow_scripts/occlusion_masks.py"


rule identification:
    conda:
        "../envs/models.yaml"
    input:
        unpack(identification_inputs),
        weights=run_results("models/base_cnn/weights.pt"),
        metrics=run_results("models/base_cnn/metrics.json"),
        split=run_results("split.csv"),
    output:
        summary=run_results("identification/{strategy}.csv"),
        probes=run_results("identification/probes/{strategy}.csv"),
    params:
        probes=PROBES,
        overlap_threshold=lambda wc: None if wc.strategy == NO_FDM else config["feature_discarding"][
            "overlap_threshold"],
        precision=config["base_cnn"]["precision"],
        method=METHOD,
    threads: 4
    log:
        run_results("logs/identification_{strategy}.log"),
    benchmark:
        run_results("benchmarks/identification_{strategy}.tsv")
    script:
        "../workflow_scripts/identification.py"


rule table1:
    conda:
        "../envs/models.yaml"
    input:
        summaries=expand(run_results("identification/{strategy}.csv", "{{dataset}}", "{{seed}}"), strategy=STRATEGIES),
        paper=paper_table,
        pretrained=pretrained_record,
    output:
        table=run_results("table1.csv"),
        metrics=run_results("table1.json"),  # DVC metrics
        report=report(
            run_results("table1.md"),
            caption="../report/table1.rst",
            category="Table 1",
        ),
    params:
        rows=PROBES,
        strategies=STRATEGIES,
    log:
        run_results("logs/table1.log"),
    benchmark:
        run_results("benchmarks/table1.tsv")
    script:
        "../workflow_scripts/table1.py"


rule saliency_figures:
    conda:
        "../envs/models.yaml"
    input:
        weights=run_results("models/base_cnn/weights.pt"),
        metrics=run_results("models/base_cnn/metrics.json"),
        split=run_results("split.csv"),
        crops=results("{dataset}", "faces/crops"),
        sets=[run_results(f"occlusions/test/{o}") for o in config["saliency"]["occlusions"]],
        occlusion_masks=[run_results(f"predictions/test/{o}.npz") for o in config["saliency"]["occlusions"]],
        regions=run_results(f"regions/{config['saliency']['layout']}.json"),
        masks=[run_results(f"masks/{config['saliency']['layout']}/{r}.npy")
               for r in masking_layout_regions(config["saliency"]["layout"])],
    output:
        clean=report(
            run_results("figures/saliency_clean.png"),
            caption="../report/saliency_clean.rst",
            category="Table 1",
        ),
        fdm=report(
            run_results("figures/saliency_fdm.png"),
            caption="../report/saliency_fdm.rst",
            category="Table 1",
        ),
    params:
        saliency=config["saliency"],
        sets_dir=lambda wc: run_results("occlusions", wc.dataset, wc.seed),
        overlap_threshold=config["feature_discarding"]["overlap_threshold"],
        seed=lambda wc: int(wc.seed),
        method=METHOD,
    log:
        run_results("logs/saliency_figures.log"),
    benchmark:
        run_results("benchmarks/saliency_figures.tsv")
    script:
        "../workflow_scripts/saliency_figures.py"


rule across_seeds:
    # Table 1 and the model metrics as mean and deviation over the run seeds (config `seeds`).
    conda:
        "../envs/models.yaml"
    input:
        tables=expand(run_results("table1.csv", "{{dataset}}", "{seed}"), seed=SEEDS),
        base_cnn=expand(run_results("models/base_cnn/metrics.json", "{{dataset}}", "{seed}"), seed=SEEDS),
        segmenter=expand(run_results("models/segmenter/metrics.json", "{{dataset}}", "{seed}"), seed=SEEDS),
    output:
        table=results("{dataset}", "across_seeds/table1.csv"),
        metrics=results("{dataset}", "across_seeds/table1.json"),  # DVC metrics
        report=report(
            results("{dataset}", "across_seeds/table1.md"),
            caption="../report/table1_across_seeds.rst",
            category="Table 1",
        ),
        models=results("{dataset}", "across_seeds/models.csv"),
        models_report=report(
            results("{dataset}", "across_seeds/models.md"),
            caption="../report/models_across_seeds.rst",
            category="Models",
        ),
    params:
        seeds=SEEDS,
        rows=PROBES,
        strategies=STRATEGIES,
    log:
        results("{dataset}", "logs/across_seeds.log"),
    benchmark:
        results("{dataset}", "benchmarks/across_seeds.tsv")
    script:
        "../workflow_scripts/across_seeds.py"


rule fdm_effect:
    # Per probe set and strategy: the probes the FDM helps and harms, and the regions chosen.
    conda:
        "../envs/models.yaml"
    input:
        probes=expand(run_results("identification/probes/{strategy}.csv", "{{dataset}}", "{{seed}}"),
                      strategy=STRATEGIES),
    output:
        table=run_results("identification/fdm_effect.csv"),
        report=report(
            run_results("identification/fdm_effect.md"),
            caption="../report/fdm_effect.rst",
            category="Table 1",
        ),
    log:
        run_results("logs/fdm_effect.log"),
    benchmark:
        run_results("benchmarks/fdm_effect.tsv")
    script:
        "../workflow_scripts/fdm_effect.py"


rule claim_tests:
    # The paper's claims per seed: an exact McNemar test per comparison on the per-probe outcomes.
    conda:
        "../envs/models.yaml"
    input:
        probes=expand(run_results("identification/probes/{strategy}.csv", "{{dataset}}", "{{seed}}"),
                      strategy=STRATEGIES),
    output:
        table=run_results("identification/claim_tests.csv"),
        report=report(
            run_results("identification/claim_tests.md"),
            caption="../report/claim_tests.rst",
            category="Table 1",
        ),
    params:
        alpha=config["claims"]["alpha"],
    log:
        run_results("logs/claim_tests.log"),
    benchmark:
        run_results("benchmarks/claim_tests.tsv")
    script:
        "../workflow_scripts/claim_tests.py"


rule fdm_control:
    # Why a layout's FDM gains or loses on the chosen occlusions: no FDM, learned, probe only and
    # two kinds of random masks of the FDM's size.
    conda:
        "../envs/models.yaml"
    input:
        unpack(fdm_control_inputs),
        weights=run_results("models/base_cnn/weights.pt"),
        metrics=run_results("models/base_cnn/metrics.json"),
        split=run_results("split.csv"),
    output:
        table=run_results("identification/controls/{masking_layout}.csv"),
    params:
        settings=config["fdm_controls"],
        overlap_threshold=config["feature_discarding"]["overlap_threshold"],
        precision=config["base_cnn"]["precision"],
        method=METHOD,
        seed=lambda wc: int(wc.seed),
    threads: 4
    log:
        run_results("logs/fdm_control_{masking_layout}.log"),
    benchmark:
        run_results("benchmarks/fdm_control_{masking_layout}.tsv")
    script:
        "../workflow_scripts/fdm_control.py"


rule fdm_controls:
    conda:
        "../envs/models.yaml"
    input:
        tables=expand(run_results("identification/controls/{masking_layout}.csv", "{{dataset}}", "{{seed}}"),
                      masking_layout=LAYOUTS),
    output:
        table=run_results("identification/fdm_controls.csv"),
        report=report(
            run_results("identification/fdm_controls.md"),
            caption="../report/fdm_controls.rst",
            category="Table 1",
        ),
    log:
        run_results("logs/fdm_controls.log"),
    benchmark:
        run_results("benchmarks/fdm_controls.tsv")
    script:
        "../workflow_scripts/fdm_controls.py"


rule fdm_ablation:
    # Where and how features are discarded, for one layout: the learned FDM before and after the
    # embedding's batch norm, and dropping whole map cells, beside no FDM (config fdm_ablations).
    conda:
        "../envs/models.yaml"
    input:
        unpack(fdm_ablation_inputs),
        weights=run_results("models/base_cnn/weights.pt"),
        metrics=run_results("models/base_cnn/metrics.json"),
        split=run_results("split.csv"),
    output:
        table=run_results("identification/ablations/{masking_layout}.csv"),
    params:
        settings=config["fdm_ablations"],
        overlap_threshold=config["feature_discarding"]["overlap_threshold"],
        precision=config["base_cnn"]["precision"],
        method=METHOD,
    threads: 4
    log:
        run_results("logs/fdm_ablation_{masking_layout}.log"),
    benchmark:
        run_results("benchmarks/fdm_ablation_{masking_layout}.tsv")
    script:
        "../workflow_scripts/fdm_ablation.py"


rule fdm_ablations:
    conda:
        "../envs/models.yaml"
    input:
        tables=expand(run_results("identification/ablations/{masking_layout}.csv", "{{dataset}}", "{{seed}}"),
                      masking_layout=LAYOUTS),
    output:
        table=run_results("identification/fdm_ablations.csv"),
        report=report(
            run_results("identification/fdm_ablations.md"),
            caption="../report/fdm_ablations.rst",
            category="Table 1",
        ),
    log:
        run_results("logs/fdm_ablations.log"),
    benchmark:
        run_results("benchmarks/fdm_ablations.tsv")
    script:
        "../workflow_scripts/fdm_ablations.py"


rule percentile_sweep:
    # One layout's mask dictionary cut at every percentile of the sweep, scored on the validation
    # occlusions (which choose) and on the test occlusions (for the comparison only).
    conda:
        "../envs/models.yaml"
    input:
        unpack(percentile_sweep_inputs),
        weights=run_results("models/base_cnn/weights.pt"),
        metrics=run_results("models/base_cnn/metrics.json"),
        split=run_results("split.csv"),
    output:
        table=run_results("percentile_sweep/{masking_layout}.csv"),
    params:
        # The layout's fixed percentiles (the paper's) are always among them, to compare with the chosen one.
        percentiles=lambda wc: sorted({*config["percentile_sweep"]["percentiles"],
                                       *fixed_percentiles(config["layouts"][wc.masking_layout])}),
        probes={"val": config["percentile_sweep"]["occlusions"], "test": config["occlusion_sets"]["test"]},
        regions=lambda wc: masking_layout_regions(wc.masking_layout),
        overlap_threshold=config["feature_discarding"]["overlap_threshold"],
        precision=config["base_cnn"]["precision"],
        method=METHOD,
    threads: 4
    log:
        run_results("logs/percentile_sweep_{masking_layout}.log"),
    benchmark:
        run_results("benchmarks/percentile_sweep_{masking_layout}.tsv")
    script:
        "../workflow_scripts/percentile_sweep.py"


rule percentile_sweeps:
    conda:
        "../envs/models.yaml"
    input:
        tables=expand(run_results("percentile_sweep/{masking_layout}.csv", "{{dataset}}", "{{seed}}"),
                      masking_layout=LAYOUTS),
    output:
        table=run_results("percentile_sweep/summary.csv"),
        report=report(
            run_results("percentile_sweep/summary.md"),
            caption="../report/percentile_sweep.rst",
            category="Table 1",
        ),
        figure=report(
            run_results("figures/percentile_sweep.png"),
            caption="../report/percentile_sweep_figure.rst",
            category="Table 1",
        ),
    params:
        layouts={layout: {key: spec[key] for key in DICTIONARY_KEYS}
                 for layout, spec in config["layouts"].items()},
    log:
        run_results("logs/percentile_sweeps.log"),
    benchmark:
        run_results("benchmarks/percentile_sweeps.tsv")
    script:
        "../workflow_scripts/percentile_sweeps.py"


rule method_selection:
    # The test-time method (FDM position, score normalisation) compared on validation data alone.
    conda:
        "../envs/models.yaml"
    input:
        unpack(method_selection_inputs),
        weights=run_results("models/base_cnn/weights.pt"),
        metrics=run_results("models/base_cnn/metrics.json"),
        split=run_results("split.csv"),
    output:
        table=run_results("method_selection.csv"),
        report=report(
            run_results("method_selection.md"),
            caption="../report/method_selection.rst",
            category="Table 1",
        ),
    params:
        layouts=LAYOUTS,
        probes=lambda wc: ["clean", *config["method_selection"]["occlusions"]],
        settings=config["method_selection"],
        methods=config["verification"]["methods"],
        overlap_threshold=config["feature_discarding"]["overlap_threshold"],
        precision=config["base_cnn"]["precision"],
    threads: 4
    log:
        run_results("logs/method_selection.log"),
    benchmark:
        run_results("benchmarks/method_selection.tsv")
    script:
        "../workflow_scripts/method_selection.py"
