from pathlib import Path

import pandas as pd

from occlusion_fr.figures import image_grid
from occlusion_fr.io import read_json, read_rgb, save_figure
from occlusion_fr.logs import job_logging
from occlusion_fr.occlusions.labels import difference_mask
from occlusion_fr.occlusions.sets import make_occlusion_set

with job_logging(snakemake.log[0]):
    wc, p, out = snakemake.wildcards, snakemake.params, snakemake.output
    layouts = {layout["layout"]: layout for layout in map(read_json, snakemake.input.layouts)}
    index, _ = make_occlusion_set(pd.read_csv(snakemake.input.split), wc.split, wc.occlusion, p.spec, layouts, p.seed,
                                  snakemake.input.crops, out.images, out.index, out.skipped, **p.labels)

    sample = index.sample(min(6, len(index)), random_state=0) if len(index) else index
    crops, sets = Path(snakemake.input.crops), Path(out.images)
    clean = [read_rgb(crops / c) for c in sample["occluded"]]
    occluded = [read_rgb(sets / "images" / c) for c in sample["occluded"]]
    rows = {"clean": clean, "occluded": occluded,
            "|diff| > threshold": [difference_mask(a, b, p.labels["threshold"]) for a, b in zip(clean, occluded)],
            "label": [read_rgb(sets / "labels" / c)[..., 0] > 127 for c in sample["label"]]}
    if sample["exact"].fillna("").astype(bool).all():
        rows["exact"] = [read_rgb(sets / "exact" / c)[..., 0] > 127 for c in sample["exact"]]
    title = f"{wc.dataset}: {wc.occlusion} on {wc.split} (label IoU {index['iou'].mean():.3f})"
    # 96x128 crops need no more than 72 dpi; it keeps the 22 figures per dataset small.
    save_figure(out.figure, image_grid(rows, [i.split("/")[-1] for i in sample["image"]], title), dpi=72)
