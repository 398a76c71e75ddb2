import pandas as pd
import torch

from occlusion_fr.evaluation.pair_verification import run_verification
from occlusion_fr.logs import job_logging

with job_logging(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    inputs, p = snakemake.input, snakemake.params
    run_verification(
        pairs=pd.read_csv(inputs.pairs), faces=pd.read_csv(inputs.faces), crops_dir=inputs.crops,
        split=pd.read_csv(inputs.split), base_cnn=(inputs.weights, inputs.metrics),
        segmenter=(p.encoder, inputs.segmenter), region_paths=inputs.regions,
        mask_paths={layout: getattr(inputs, f"masks_{layout}") for layout in p.layouts},
        occlusions=p.occlusions, overlap_threshold=p.overlap_threshold, fars=p.fars, seed=p.seed,
        precision=p.precision, dataset=snakemake.wildcards.dataset, outputs=dict(snakemake.output.items()))
