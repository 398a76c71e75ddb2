import pandas as pd
import torch

from occlusion_fr.figures import training_curves
from occlusion_fr.io import save_figure, write_json
from occlusion_fr.logs import job_logging
from occlusion_fr.models.checkpoints import mark_finished
from occlusion_fr.models.train_base_cnn import train_base_cnn
from occlusion_fr.models.training import machine, save_checkpoint

with job_logging(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    p = snakemake.params
    record = train_base_cnn(pd.read_csv(snakemake.input.split), snakemake.input.crops, p.settings, p.seed,
                            p.checkpoints)
    save_checkpoint(snakemake.output.weights, record.pop("weights"))
    write_json(snakemake.output.metrics, {"settings": p.settings, "seed": p.seed, "machine": machine(), **record})
    title = f"{snakemake.wildcards.dataset}: base CNN (test rank-1 {record['test_rank1']:.3f})"
    save_figure(snakemake.output.curves, training_curves(record["history"], ["loss"], ["val_rank1", "val_rank5",
                                                                                         "train_accuracy"], title))
    mark_finished(p.checkpoints)  # outputs written: a later run of this job trains afresh
