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
