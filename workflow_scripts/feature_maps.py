import pandas as pd
import torch

from occlusion_fr.models.features import feature_maps, load_base_cnn, save_feature_maps
from occlusion_fr.occlusions.sets import load_image_set
from occlusion_fr.logs import job_logging
from occlusion_fr.models.training import choose_device

with job_logging(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    wc, p = snakemake.wildcards, snakemake.params
    device = choose_device(p.precision)
    model, _ = load_base_cnn(snakemake.input.weights, snakemake.input.metrics, device)
    images = load_image_set(pd.read_csv(snakemake.input.split), wc.split, wc.probe, p.sets_dir, snakemake.input.crops)
    save_feature_maps(snakemake.output.maps, images.images, feature_maps(model, images.pixels, device))
