import torch

from occlusion_fr.evaluation.ablations import fdm_ablations
from occlusion_fr.evaluation.strategies import load_layout_evaluation
from occlusion_fr.io import write_csv
from occlusion_fr.logs import job_logging
from occlusion_fr.method.embedding import MethodSettings

with job_logging(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    p = snakemake.params
    gallery, probe_sets = load_layout_evaluation(snakemake.input, p.precision, MethodSettings(**p.method),
                                                 p.settings["occlusions"])
    table = fdm_ablations(gallery, probe_sets, p.overlap_threshold, p.settings["variants"])
    for row in table.itertuples(index=False):
        log.info("%s / %s / %s: rank-1 %.4f, %.0f%% kept", row.strategy, row.occlusion, row.variant, row.rank1,
                 100 * row.kept_share)
    write_csv(snakemake.output.table, table)
