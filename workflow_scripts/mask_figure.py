from pathlib import Path

import numpy as np
import pandas as pd

from occlusion_fr.figures import image_grid, tint, typical_image, upsample
from occlusion_fr.io import read_json, save_figure
from occlusion_fr.logs import job_logging
from occlusion_fr.masking.dictionary import kept_by_position
from occlusion_fr.method.selection import region_pixel_masks
from occlusion_fr.models.data import load_images

with job_logging(snakemake.log[0]):
    layout = read_json(snakemake.input.regions)
    train = pd.read_csv(snakemake.input.split).query("split == 'train'").reset_index(drop=True)
    crop = load_images(snakemake.input.crops, [train["crop"][typical_image(train)]])[0].permute(1, 2, 0).numpy()
    pixels = region_pixel_masks(layout)
    regions = list(pixels)
    by_region = {Path(path).stem: np.load(path, allow_pickle=False) for path in snakemake.input.masks}
    masks = [by_region[r] for r in regions]
    kept = [upsample(kept_by_position(mask), *crop.shape[:2]) for mask in masks]
    rows = {"region": [tint(crop, pixels[r]) for r in regions],
            "kept share": kept,
            "kept share x crop": [crop.astype(np.float32) / 255 * k[..., None] for k in kept]}
    titles = [f"{r}\n{100 * m.mean():.0f}% kept" for r, m in zip(regions, masks)]
    save_figure(snakemake.output.figure, image_grid(
        rows, titles, f"{snakemake.wildcards.dataset}: {layout['layout']} mask dictionary "
                      "(share of channels kept per feature-map position)"), dpi=100)
