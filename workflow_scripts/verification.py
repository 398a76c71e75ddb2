import pandas as pd
import torch

from occlusion_fr.evaluation.pair_verification import VerificationSettings, run_verification
from occlusion_fr.logs import job_logging
from occlusion_fr.method.models import RunFiles

with job_logging(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    inputs, p = snakemake.input, snakemake.params
    files = RunFiles(base_cnn=(inputs.weights, inputs.metrics), segmenter=inputs.segmenter, regions=list(inputs.regions),
                     masks={layout: getattr(inputs, f"masks_{layout}") for layout in p.layouts}, cohort=inputs.cohort)
    run_verification(pd.read_csv(inputs.pairs), pd.read_csv(inputs.faces), inputs.crops, pd.read_csv(inputs.split),
                     files, VerificationSettings(**p.settings), dict(snakemake.output.items()))
