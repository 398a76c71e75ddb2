import torch

from occlusion_fr.evaluation.ablations import fdm_ablations
from occlusion_fr.evaluation.strategies import load_masked_gallery, load_probe_set
from occlusion_fr.io import write_csv
from occlusion_fr.logs import job_logging
from occlusion_fr.method.embedding import Embedder
from occlusion_fr.method.layout import MaskingLayout
from occlusion_fr.split import identities_by_image

with job_logging(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    inputs, p = snakemake.input, snakemake.params
    identity_of = identities_by_image(inputs.split)
    gallery = load_masked_gallery(Embedder.load(inputs.weights, inputs.metrics, p.precision), inputs.gallery,
                                  identity_of, MaskingLayout.load(inputs.regions, inputs.masks))
    probe_sets = [load_probe_set(probe, inputs.probes[i], identity_of, inputs.occlusion_masks[i])
                  for i, probe in enumerate(p.settings["occlusions"])]
    table = fdm_ablations(gallery, probe_sets, p.overlap_threshold, p.settings["variants"])
    for row in table.itertuples(index=False):
        log.info("%s / %s / %s: rank-1 %.4f, %.0f%% kept", row.strategy, row.occlusion, row.variant, row.rank1,
                 100 * row.kept_share)
    write_csv(snakemake.output.table, table)
