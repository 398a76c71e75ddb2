import numpy as np
import pandas as pd
import torch

from occlusion_fr.models.features import load_base_cnn, load_feature_maps
from occlusion_fr.io import write_json, write_npy
from occlusion_fr.logs import job_logging
from occlusion_fr.masking.generator import mean_mask, region_pairs, region_seed, train_mask_generator
from occlusion_fr.models.training import choose_device, save_checkpoint

with job_logging(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    wc, p, inputs = snakemake.wildcards, snakemake.params, snakemake.input
    device = choose_device(p.settings["precision"])
    base, identities = load_base_cnn(inputs.weights, inputs.metrics, device)
    blocks = pd.read_csv(inputs.blocks)
    pairs = {split: region_pairs(base, blocks, split, wc.region, *load_feature_maps(maps), inputs.crops, identities,
                                 device)
             for split, maps in (("train", inputs.train_maps), ("val", inputs.val_maps))}
    seed = region_seed(p.seed, wc.masking_layout, wc.region)
    record = train_mask_generator(base, pairs["train"], pairs["val"], p.settings, seed, device)
    generator = record.pop("generator")
    mean = mean_mask(generator, pairs["train"][0], pairs["train"][1], device)
    log.info("mean mask over %d training pairs: min %.3f, median %.3f, max %.3f", len(pairs["train"][2]),
             mean.min(), np.median(mean), mean.max())
    save_checkpoint(snakemake.output.weights, {k: v.detach().cpu() for k, v in generator.state_dict().items()})
    write_npy(snakemake.output.mean_mask, mean)
    write_json(snakemake.output.metrics, {"layout": wc.masking_layout, "region": wc.region, "settings": p.settings,
                                          "seed": seed, "train_pairs": len(pairs["train"][2]),
                                          "val_pairs": len(pairs["val"][2]), **record})
