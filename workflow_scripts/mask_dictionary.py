import numpy as np

from occlusion_fr.io import write_image, write_npy
from occlusion_fr.logs import job_logging
from occlusion_fr.masking.dictionary import binarise, kept_by_position

with job_logging(snakemake.log[0]) as log:
    mean = np.load(snakemake.input.mean_mask, allow_pickle=False)
    mask = binarise(mean, snakemake.params.percentile)
    log.info("%s: kept %.2f%% of %d elements (percentile %s)", snakemake.wildcards.region, 100 * mask.mean(),
             mask.size, snakemake.params.percentile)
    write_npy(snakemake.output.mask, mask)
    # PNG view: the channels side by side (one tile per channel, white = kept), 32 per row.
    channels, height, width = mask.shape
    per_row = 32
    tiles = np.zeros((-(-channels // per_row) * (height + 1), per_row * (width + 1)), np.uint8)
    for c in range(channels):
        r, k = divmod(c, per_row)
        tiles[r * (height + 1):r * (height + 1) + height, k * (width + 1):k * (width + 1) + width] = 255 * mask[c]
    write_image(snakemake.output.view, np.repeat(tiles[..., None], 3, axis=2))
    log.info("kept share by position:\n%s", np.array2string(kept_by_position(mask), precision=2))
