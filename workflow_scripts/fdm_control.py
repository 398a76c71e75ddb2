import torch

from occlusion_fr.evaluation.fdm_controls import fdm_controls
from occlusion_fr.evaluation.strategies import load_layout_evaluation
from occlusion_fr.io import write_csv
from occlusion_fr.logs import job_logging
from occlusion_fr.method.embedding import MethodSettings

with job_logging(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    p = snakemake.params
    gallery, probe_sets = load_layout_evaluation(snakemake.input, p.precision, MethodSettings(**p.method),
                                                 p.settings["occlusions"])
    table = fdm_controls(gallery, probe_sets, p.overlap_threshold, "segmenter", p.settings["random_draws"], p.seed)
    for row in table.itertuples(index=False):
        log.info("%s / %s / %s: rank-1 %.4f (std %.4f over %d draws), %.0f%% kept", row.strategy, row.occlusion,
                 row.control, row.rank1, row.rank1_std, row.draws, 100 * row.kept_share)
    write_csv(snakemake.output.table, table)
