import pandas as pd
import torch

from occlusion_fr.method.occlusion_masks import save_occlusion_masks
from occlusion_fr.occlusions.sets import load_image_set
from occlusion_fr.logs import job_logging
from occlusion_fr.models.segmenter import build_segmenter, predict
from occlusion_fr.models.training import choose_device, load_into

with job_logging(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    wc, p = snakemake.wildcards, snakemake.params
    device = choose_device(p.precision)
    segmenter = device.model(load_into(build_segmenter(p.encoder), snakemake.input.segmenter))
    images = load_image_set(pd.read_csv(snakemake.input.split), wc.split, wc.probe, p.sets_dir, snakemake.input.crops)
    predicted = predict(segmenter, images.pixels, device)[:, 0].numpy()
    oracle = None if images.exact is None else images.exact[:, 0].numpy() > 0.5
    if oracle is None:
        log.warning("%s/%s: no exact masks (real MaskTheFace images?): no oracle row", wc.split, wc.probe)
    save_occlusion_masks(snakemake.output.masks, images.images, {"segmenter": predicted, "oracle": oracle})
