# Raw images and an index (image, identity[, ground truth]) per dataset.


rule synthetic_dataset:
    conda:
        "../envs/data.yaml"
    output:
        images=directory("results/synthetic/raw/images"),
        index="results/synthetic/raw/index.csv",
        pairs="results/synthetic/raw/pairs.txt",
    params:
        identities=config["datasets"]["synthetic"]["identities"],
        images_per_identity=config["datasets"]["synthetic"]["images_per_identity"],
        seed=config["datasets"]["synthetic"]["seed"],
        pairs={key: config["datasets"]["synthetic"][key] for key in ("unseen_identities", "pair_folds", "pairs_per_fold")},
    log:
        "results/synthetic/logs/synthetic_dataset.log",
    benchmark:
        "results/synthetic/benchmarks/synthetic_dataset.tsv"
    script:
        "../workflow_scripts/synthetic_dataset.py"


rule lfw_dataset:
    # datasets.lfw, or another name with `source: lfw_archive` (e.g. an experiment's own LFW run).
    wildcard_constraints:
        dataset=name_pattern(LFW_ARCHIVE_DATASETS),
    conda:
        "../envs/data.yaml"
    input:
        archive=lfw_archive_input,
    output:
        images=directory(results("{dataset}", "raw/images")),
        index=results("{dataset}", "raw/index.csv"),
    params:
        archive=dataset_setting("archive"),
        url=dataset_setting("url"),
        sha256=dataset_setting("sha256"),
        min_images=dataset_setting("min_images"),
        download_to=results("{dataset}", "downloads/lfw-deepfunneled.tgz"),
    log:
        results("{dataset}", "logs/lfw_dataset.log"),
    benchmark:
        results("{dataset}", "benchmarks/lfw_dataset.tsv")
    script:
        "../workflow_scripts/lfw_dataset.py"


rule image_folder_dataset:
    # A user's photos (datasets.<name>.source: image_folder): every file kept or listed with why.
    wildcard_constraints:
        dataset=name_pattern(IMAGE_FOLDER_DATASETS),
    conda:
        "../envs/data.yaml"
    output:
        images=directory(results("{dataset}", "raw/images")),
        index=results("{dataset}", "raw/index.csv"),
        skipped=results("{dataset}", "raw/skipped.csv"),
    params:
        settings=image_folder_settings,
    log:
        results("{dataset}", "logs/image_folder_dataset.log"),
    benchmark:
        results("{dataset}", "benchmarks/image_folder_dataset.tsv")
    script:
        "../workflow_scripts/image_folder_dataset.py"
