# Detection, 128x96 crops with landmarks, and the stratified split.


rule detect_faces:
    wildcard_constraints:
        dataset=name_pattern([d for d in config["datasets"] if d not in IMAGE_FOLDER_DATASETS]),
    conda:
        "../envs/data.yaml"
    input:
        index=results("{dataset}", "raw/index.csv"),
        images=results("{dataset}", "raw/images"),
    output:
        crops=directory(results("{dataset}", "faces/crops")),
        faces=results("{dataset}", "faces/faces.csv"),
        failures=results("{dataset}", "faces/failures.csv"),
    params:
        detector=lambda wc: config["datasets"][wc.dataset]["detector"],
        crop=crop_geometry(),
        batch_size=config["detection"]["batch_size"],
        min_face_size=config["detection"]["min_face_size"],
        thresholds=config["detection"]["thresholds"],
    threads: 4  # capped at --cores on a workstation
    log:
        results("{dataset}", "logs/detect_faces.log"),
    benchmark:
        results("{dataset}", "benchmarks/detect_faces.tsv")
    script:
        "../workflow_scripts/detect_faces.py"


rule detect_image_folder_faces:
    # As detect_faces (the same script); then people left with fewer than min_images faces are
    # listed in failures. Its own rule: a new param of detect_faces would rerun the LFW detections.
    wildcard_constraints:
        dataset=name_pattern(IMAGE_FOLDER_DATASETS),
    conda:
        "../envs/data.yaml"
    input:
        index=results("{dataset}", "raw/index.csv"),
        images=results("{dataset}", "raw/images"),
    output:
        crops=directory(results("{dataset}", "faces/crops")),
        faces=results("{dataset}", "faces/faces.csv"),
        failures=results("{dataset}", "faces/failures.csv"),
    params:
        detector=lambda wc: config["datasets"][wc.dataset]["detector"],
        min_images=lambda wc: config["datasets"][wc.dataset]["min_images"],
        crop=crop_geometry(),
        batch_size=config["detection"]["batch_size"],
        min_face_size=config["detection"]["min_face_size"],
        thresholds=config["detection"]["thresholds"],
    threads: 4
    log:
        results("{dataset}", "logs/detect_faces.log"),
    benchmark:
        results("{dataset}", "benchmarks/detect_faces.tsv")
    script:
        "../workflow_scripts/detect_faces.py"


rule split:
    conda:
        "../envs/data.yaml"
    input:
        faces=results("{dataset}", "faces/faces.csv"),
    output:
        table=run_results("split.csv"),
        summary=run_results("split_summary.json"),
    params:
        fractions=config["split"],
        seed=lambda wc: int(wc.seed),
    log:
        run_results("logs/split.log"),
    benchmark:
        run_results("benchmarks/split.tsv")
    script:
        "../workflow_scripts/split.py"
