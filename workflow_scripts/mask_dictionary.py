import numpy as np

from occlusion_fr.io import write_image, write_npy
from occlusion_fr.logs import job_logging
from occlusion_fr.masking.dictionary import binarise, channel_tiles, kept_by_position

with job_logging(snakemake.log[0]) as log:
    mean = np.load(snakemake.input.mean_mask, allow_pickle=False)
    mask = binarise(mean, snakemake.params.percentile)
    log.info("%s: kept %.2f%% of %d elements (percentile %s)", snakemake.wildcards.region, 100 * mask.mean(),
             mask.size, snakemake.params.percentile)
    write_npy(snakemake.output.mask, mask)
    tiles = channel_tiles(mask)
    write_image(snakemake.output.view, np.repeat(tiles[..., None], 3, axis=2))
    log.info("kept share by position:\n%s", np.array2string(kept_by_position(mask), precision=2))
