import torch

from occlusion_fr.evaluation.strategies import evaluate_strategy, load_gallery, load_probe_set
from occlusion_fr.io import write_csv
from occlusion_fr.logs import job_logging
from occlusion_fr.method.embedding import MethodSettings
from occlusion_fr.method.layout import MaskingLayout
from occlusion_fr.method.selection import NO_FDM
from occlusion_fr.split import identities_by_image

with job_logging(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    inputs, p = snakemake.input, snakemake.params
    masked = snakemake.wildcards.strategy != NO_FDM
    identity_of = identities_by_image(inputs.split)
    layout = MaskingLayout.load(inputs.regions, inputs.masks) if masked else None
    gallery = load_gallery(inputs, identity_of, p.precision, MethodSettings(**p.method), layout)
    probe_sets = [load_probe_set(probe, inputs.probes[i], identity_of, inputs.occlusion_masks[i] if masked else None)
                  for i, probe in enumerate(p.probes)]

    summary, per_probe = evaluate_strategy(gallery, probe_sets, p.overlap_threshold)
    for row in summary.itertuples(index=False):
        log.info("%s / %s / %s: rank-1 %.4f rank-5 %.4f over %d probes, %d distinct FDMs, %.1f regions, %.0f%% kept",
                 row.strategy, row.detector, row.occlusion, row.rank1, row.rank5, row.probes, row.distinct_fdms,
                 row.mean_regions, 100 * row.mean_kept_share)
    write_csv(snakemake.output.summary, summary)
    write_csv(snakemake.output.probes, per_probe)
