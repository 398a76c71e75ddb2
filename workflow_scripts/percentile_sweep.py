import torch

from occlusion_fr.evaluation.percentile_sweep import percentile_sweep
from occlusion_fr.evaluation.strategies import load_gallery_maps, load_probe_set
from occlusion_fr.io import read_json, write_csv
from occlusion_fr.logs import job_logging
from occlusion_fr.masking.dictionary import load_mean_masks
from occlusion_fr.method.embedding import Embedder, MethodSettings
from occlusion_fr.split import identities_by_image

with job_logging(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    inputs, p = snakemake.input, snakemake.params
    identity_of = identities_by_image(inputs.split)
    gallery_maps, gallery_labels = load_gallery_maps(inputs.gallery, identity_of)
    probe_sets = {split: [load_probe_set(probe, inputs[f"{split}_probes"][i], identity_of,
                                         inputs[f"{split}_occlusion_masks"][i]) for i, probe in enumerate(probes)]
                  for split, probes in p.probes.items()}
    embedder = Embedder.load(inputs.weights, inputs.metrics, p.precision, MethodSettings(**p.method), gallery_maps)
    table = percentile_sweep(embedder, gallery_maps, gallery_labels, load_mean_masks(inputs.mean_masks, p.regions),
                             read_json(inputs.regions), probe_sets, p.percentiles, p.overlap_threshold)
    for (split, percentile), rows in table.groupby(["split", "percentile"]):
        log.info("%s, percentile %g: mean rank-1 %.4f, %.0f%% kept", split, percentile, rows["rank1"].mean(),
                 100 * rows["kept_share"].mean())
    write_csv(snakemake.output.table, table)
