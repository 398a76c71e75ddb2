# Evaluation from a trained run (config `pretrained.bundle`): for the configured dataset the
# bundle's models stand in for the trainings (base CNN, segmenter, mask generators and dictionary),
# so a run makes only detections, occlusions and evaluation jobs.


rule pretrained_models:
    conda:
        "../envs/models.yaml"
    input:
        manifest=pretrained_manifest,
        split=run_results("split.csv"),
        # The people the verification and the open set score as never seen.
        unseen_faces=unseen_faces,
    output:
        weights=run_results("models/base_cnn/weights.pt"),
        metrics=run_results("models/base_cnn/metrics.json"),
        segmenter=run_results("models/segmenter/weights.pt"),
        regions=[run_results(f"regions/{layout}.json") for layout in LAYOUTS],
        masks=[run_results(f"masks/{layout}/{region}.npy") for layout in LAYOUTS for region in masking_layout_regions(layout)],
        record=run_results(PRETRAINED_RECORD),
    params:
        layouts={layout: masking_layout_regions(layout) for layout in LAYOUTS},
        # Its manifest lists every file's sha256: another bundle copied in place is a new param,
        # whatever its time stamp.
        manifest_sha256=lambda wc: sha256_of(pretrained_manifest(wc)),
    # Only the configured dataset, checked against the bundle (rules/common.smk); none without one.
    wildcard_constraints:
        dataset=PRETRAINED_DATASET,
    log:
        run_results("logs/pretrained_models.log"),
    benchmark:
        run_results("benchmarks/pretrained_models.tsv")
    script:
        "../workflow_scripts/pretrained_models.py"
