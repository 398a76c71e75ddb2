import numpy as np
import pandas as pd

from occlusion_fr.masking.percentile import dictionary_percentile
from occlusion_fr.io import write_image, write_npy
from occlusion_fr.logs import job_logging
from occlusion_fr.masking.dictionary import binarise, channel_tiles, kept_by_position, mean_mask_file

with job_logging(snakemake.log[0]) as log:
    mean = np.load(mean_mask_file(snakemake.input.mean_masks, snakemake.wildcards.region), allow_pickle=False)
    sweep = pd.read_csv(snakemake.input.sweep) if "sweep" in snakemake.input.keys() else None
    percentile = dictionary_percentile(snakemake.params.percentile, sweep)
    mask = binarise(mean, percentile)
    log.info("%s: kept %.2f%% of %d elements (percentile %g, setting %s)", snakemake.wildcards.region,
             100 * mask.mean(), mask.size, percentile, snakemake.params.percentile)
    write_npy(snakemake.output.mask, mask)
    tiles = channel_tiles(mask)
    write_image(snakemake.output.view, np.repeat(tiles[..., None], 3, axis=2))
    log.info("kept share by position:\n%s", np.array2string(kept_by_position(mask), precision=2))
