from pathlib import Path

import pandas as pd
import torch

from occlusion_fr.io import write_json, write_npy
from occlusion_fr.logs import job_logging
from occlusion_fr.masking.dictionary import mean_mask_file
from occlusion_fr.masking.generator import train_layout_generators
from occlusion_fr.models.checkpoints import mark_finished
from occlusion_fr.models.features import load_base_cnn, load_feature_maps
from occlusion_fr.models.training import choose_device, save_checkpoint

with job_logging(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    wc, p, inputs, out = snakemake.wildcards, snakemake.params, snakemake.input, snakemake.output
    device = choose_device(p.settings["precision"])
    base, identities = load_base_cnn(inputs.weights, inputs.metrics, device)
    clean_maps = {"train": load_feature_maps(inputs.train_maps), "val": load_feature_maps(inputs.val_maps)}
    trained = train_layout_generators(base, identities, pd.read_csv(inputs.blocks), clean_maps, inputs.crops,
                                      wc.masking_layout, p.regions, p.settings, p.seed, device, p.checkpoints)
    for region, record, generator, mean in trained:
        save_checkpoint(Path(out.weights) / f"{region}.pt",
                        {k: v.detach().cpu() for k, v in generator.state_dict().items()})
        write_npy(mean_mask_file(out.weights, region), mean)
        write_json(Path(out.metrics) / f"{region}.json",
                   {"layout": wc.masking_layout, "region": region, "settings": p.settings, **record})
    for region in p.regions:  # every output written: a later run of this job trains afresh
        mark_finished(Path(p.checkpoints) / region)
