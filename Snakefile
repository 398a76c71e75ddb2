# Occlusion-robust face recognition with landmark-based feature discarding masks.
# The rules live in rules/*.smk; the logic in the occlusion_fr package.

configfile: "config.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/faces.smk"
include: "rules/regions.smk"
include: "rules/occlusions.smk"
include: "rules/models.smk"
include: "rules/pretrained.smk"
include: "rules/masks.smk"
include: "rules/evaluation.smk"
include: "rules/verification.smk"


rule all:
    default_target: True
    input:
        faces_stage_outputs(DATASET),
        stage_outputs(data_stage_outputs, DATASET, SEEDS),
        stage_outputs(occlusion_stage_outputs, DATASET, SEEDS),
        stage_outputs(model_stage_outputs, DATASET, SEEDS),
        stage_outputs(mask_stage_outputs, DATASET, SEEDS),
        across_seeds_outputs(DATASET),


# One target per stage: DVC's stages (dvc.yaml) call these; `snakemake --cores all model_stage`
# runs a stage (and whatever it needs) alone, for every seed in `seeds`.
rule faces_stage:
    input:
        faces_stage_outputs(DATASET),


rule data_stage:
    input:
        stage_outputs(data_stage_outputs, DATASET, SEEDS),


rule occlusion_stage:
    input:
        stage_outputs(occlusion_stage_outputs, DATASET, SEEDS),


rule model_stage:
    input:
        stage_outputs(model_stage_outputs, DATASET, SEEDS),


rule mask_stage:
    input:
        stage_outputs(mask_stage_outputs, DATASET, SEEDS),


rule across_seeds_stage:
    input:
        across_seeds_outputs(DATASET),


localrules:
    all,
    faces_stage,
    data_stage,
    occlusion_stage,
    model_stage,
    mask_stage,
    across_seeds_stage,
