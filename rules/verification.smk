# Pair verification (LFW pairs.txt protocol): the faces a pairs file needs, then per run seed
# the 10-fold accuracy and TAR at FAR, clean and occluded, without and with each layout's FDM.


rule pair_faces:
    conda:
        "../envs/data.yaml"
    input:
        pairs=pairs_file,
        archive=source_archive,
    output:
        images=directory(results("{dataset}", "pairs/raw")),
        crops=directory(results("{dataset}", "pairs/crops")),
        pairs=results("{dataset}", "pairs/pairs.csv"),
        faces=results("{dataset}", "pairs/faces.csv"),
        failures=results("{dataset}", "pairs/failures.csv"),
    params:
        source=lambda wc: config["datasets"][wc.dataset]["source"],
        settings=source_settings,
        detector=lambda wc: config["datasets"][wc.dataset]["detector"],
        crop=crop_geometry(),
        batch_size=config["detection"]["batch_size"],
        min_face_size=config["detection"]["min_face_size"],
        thresholds=config["detection"]["thresholds"],
    threads: 4
    log:
        results("{dataset}", "logs/pair_faces.log"),
    benchmark:
        results("{dataset}", "benchmarks/pair_faces.tsv")
    script:
        "../workflow_scripts/pair_faces.py"


rule verification:
    conda:
        "../envs/models.yaml"
    input:
        unpack(verification_layout_inputs),
        pairs=results("{dataset}", "pairs/pairs.csv"),
        faces=results("{dataset}", "pairs/faces.csv"),
        crops=results("{dataset}", "pairs/crops"),
        split=run_results("split.csv"),
        weights=run_results("models/base_cnn/weights.pt"),
        metrics=run_results("models/base_cnn/metrics.json"),
        segmenter=run_results("models/segmenter/weights.pt"),
        regions=[run_results(f"regions/{layout}.json") for layout in REGION_LAYOUTS],
        cohort=run_results("features/train/clean.npz"),
    output:
        table=run_results("verification.csv"),
        metrics=run_results("verification.json"),  # DVC metrics
        report=report(
            run_results("verification.md"),
            caption="../report/verification.rst",
            category="Verification",
        ),
        roc=report(
            run_results("figures/verification_roc.png"),
            caption="../report/verification_roc.rst",
            category="Verification",
        ),
        scores=run_results("verification/scores.csv.gz"),
        methods_table=run_results("verification_methods.csv"),
        methods_report=report(
            run_results("verification_methods.md"),
            caption="../report/verification_methods.rst",
            category="Verification",
        ),
    params:
        layouts=LAYOUTS,
        settings=verification_settings,
    threads: 4
    log:
        run_results("logs/verification.log"),
    benchmark:
        run_results("benchmarks/verification.tsv")
    script:
        "../workflow_scripts/verification.py"


rule bundle:
    # A run packed for `occlusion-fr identify|verify|enroll` and occlusion_fr.api.Recognizer.
    conda:
        "../envs/models.yaml"
    input:
        unpack(bundle_layout_inputs),
        unpack(model_card_inputs),
        weights=run_results("models/base_cnn/weights.pt"),
        metrics=run_results("models/base_cnn/metrics.json"),
        segmenter=run_results("models/segmenter/weights.pt"),
        gallery=run_results("features/train/clean.npz"),
        split=run_results("split.csv"),
        pair_scores=verification_scores,
    output:
        bundle=directory(run_results("bundle")),
        model_card=report(
            run_results("model_card.md"),
            caption="../report/model_card.rst",
            category="Models",
        ),
    params:
        layouts=LAYOUTS,
        regions={layout: masking_layout_regions(layout) for layout in LAYOUTS},
        source=dataset_setting("source"),
        detector=dataset_setting("detector"),
        segmenter_occlusions=config["segmenter"]["occlusions"],
        settings=bundle_settings,
        fars=config["verification"]["fars"],
        calibration_folds=config["verification"]["calibration_folds"],
    log:
        run_results("logs/bundle.log"),
    benchmark:
        run_results("benchmarks/bundle.tsv")
    script:
        "../workflow_scripts/bundle.py"


rule outsider_faces:
    # The people outside the dataset (every run's open-set test), detected and cropped as its own.
    conda:
        "../envs/data.yaml"
    input:
        archive=source_archive,
    output:
        images=directory(results("{dataset}", "open_set/raw")),
        crops=directory(results("{dataset}", "open_set/crops")),
        people=results("{dataset}", "open_set/people.csv"),
        faces=results("{dataset}", "open_set/faces.csv"),
        failures=results("{dataset}", "open_set/failures.csv"),
    params:
        source=lambda wc: config["datasets"][wc.dataset]["source"],
        settings=source_settings,
        outsiders=outsider_settings,
        detector=lambda wc: config["datasets"][wc.dataset]["detector"],
        crop=crop_geometry(),
        batch_size=config["detection"]["batch_size"],
        min_face_size=config["detection"]["min_face_size"],
        thresholds=config["detection"]["thresholds"],
    threads: 4
    log:
        results("{dataset}", "logs/outsider_faces.log"),
    benchmark:
        results("{dataset}", "benchmarks/outsider_faces.tsv")
    script:
        "../workflow_scripts/outsider_faces.py"


rule open_set:
    # Open-set identification of the people outside the dataset, clean and occluded, per strategy.
    conda:
        "../envs/models.yaml"
    input:
        unpack(verification_layout_inputs),
        faces=results("{dataset}", "open_set/faces.csv"),
        crops=results("{dataset}", "open_set/crops"),
        split=run_results("split.csv"),
        weights=run_results("models/base_cnn/weights.pt"),
        metrics=run_results("models/base_cnn/metrics.json"),
        segmenter=run_results("models/segmenter/weights.pt"),
        regions=[run_results(f"regions/{layout}.json") for layout in REGION_LAYOUTS],
        cohort=run_results("features/train/clean.npz"),
    output:
        table=run_results("open_set.csv"),
        metrics=run_results("open_set.json"),
        report=report(
            run_results("open_set.md"),
            caption="../report/open_set.rst",
            category="Verification",
        ),
    params:
        layouts=LAYOUTS,
        settings=open_set_settings,
    threads: 4
    log:
        run_results("logs/open_set.log"),
    benchmark:
        run_results("benchmarks/open_set.tsv")
    script:
        "../workflow_scripts/open_set.py"


rule open_set_across_seeds:
    # The open set over the run seeds: mean and deviation per cell, paired tests against no FDM.
    conda:
        "../envs/models.yaml"
    input:
        tables=expand(run_results("open_set.csv", "{{dataset}}", "{seed}"), seed=SEEDS),
    output:
        table=results("{dataset}", "across_seeds/open_set.csv"),
        report=report(
            results("{dataset}", "across_seeds/open_set.md"),
            caption="../report/open_set_across_seeds.rst",
            category="Verification",
        ),
    params:
        seeds=SEEDS,
    log:
        results("{dataset}", "logs/open_set_across_seeds.log"),
    benchmark:
        results("{dataset}", "benchmarks/open_set_across_seeds.tsv")
    script:
        "../workflow_scripts/open_set_across_seeds.py"


rule tool_benchmark:
    # Whether the tool's numbers hold (make bench-tool): the bundle through the API on held-out
    # pairs, the test probes and outsiders. Not part of `all`: it measures a finished run.
    conda:
        "../envs/models.yaml"
    input:
        bundle=run_results("bundle"),
        pairs=pairs_file,
        pair_faces=results("{dataset}", "pairs/faces.csv"),
        pair_crops=results("{dataset}", "pairs/crops"),
        pair_photos=results("{dataset}", "pairs/raw"),
        outsiders=results("{dataset}", "open_set/faces.csv"),
        outsider_crops=results("{dataset}", "open_set/crops"),
        split=run_results("split.csv"),
        crops=results("{dataset}", "faces/crops"),
        sets=lambda wc: [run_results(f"occlusions/test/{name}{suffix}", wc.dataset, wc.seed)
                         for name in config["tool_benchmark"]["occlusions"] for suffix in ("", ".csv")],
        table1=run_results("table1.csv"),
        regions=[run_results(f"regions/{layout}.json") for layout in REGION_LAYOUTS],
    output:
        verify=run_results("tool_benchmark/verify.csv"),
        identify=run_results("tool_benchmark/identify.csv"),
        outsiders=run_results("tool_benchmark/outsiders.csv"),
        photos=run_results("tool_benchmark/photos.csv"),
        report=report(
            run_results("tool_benchmark/summary.md"),
            caption="../report/tool_benchmark.rst",
            category="Verification",
        ),
    params:
        settings=tool_benchmark_settings,
        sets_dir=lambda wc: run_results("occlusions", wc.dataset, wc.seed),
    threads: 2
    log:
        run_results("logs/tool_benchmark.log"),
    benchmark:
        run_results("benchmarks/tool_benchmark.tsv")
    script:
        "../workflow_scripts/tool_benchmark.py"
