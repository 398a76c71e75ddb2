# Occlusion-robust face recognition with landmark-based feature discarding masks.
# The rules live in rules/*.smk; the logic in the occlusion_fr package.

configfile: "config.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/faces.smk"
include: "rules/regions.smk"
include: "rules/occlusions.smk"
include: "rules/models.smk"
include: "rules/masks.smk"
include: "rules/evaluation.smk"


rule all:
    default_target: True
    input:
        data_stage_outputs(DATASET),
        occlusion_stage_outputs(DATASET),
        model_stage_outputs(DATASET),
        mask_stage_outputs(DATASET),


# One target per stage: DVC's stages (dvc.yaml) call these; `snakemake --cores all model_stage`
# runs a stage (and whatever it needs) alone.
rule data_stage:
    input:
        data_stage_outputs(DATASET),


rule occlusion_stage:
    input:
        occlusion_stage_outputs(DATASET),


rule model_stage:
    input:
        model_stage_outputs(DATASET),


rule mask_stage:
    input:
        mask_stage_outputs(DATASET),


localrules:
    all,
    data_stage,
    occlusion_stage,
    model_stage,
    mask_stage,
