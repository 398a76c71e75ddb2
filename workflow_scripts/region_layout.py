from pathlib import Path

import pandas as pd

from occlusion_fr.figures import layout_over_crop, typical_image
from occlusion_fr.io import read_rgb, save_figure, write_csv, write_json
from occlusion_fr.landmarks import landmarks_from_table
from occlusion_fr.logs import job_logging
from occlusion_fr.regions import build_layout, coverage

with job_logging(snakemake.log[0]) as log:
    name = snakemake.wildcards.layout
    table = pd.read_csv(snakemake.input.split)
    train = table[table["split"] == "train"].reset_index(drop=True)
    layout = build_layout(name, snakemake.params.spec, train)
    write_json(snakemake.output.regions, layout)
    covered = coverage(layout, train)
    write_csv(snakemake.output.coverage, covered)
    log.info("%s coverage on %d training images:\n%s", name, len(train), covered.to_string(index=False))
    sample = typical_image(train)
    crop = read_rgb(Path(snakemake.input.crops) / train.loc[sample, "crop"])
    title = f"{snakemake.wildcards.dataset}: {name} over {train.loc[sample, 'image']}"
    save_figure(snakemake.output.figure, layout_over_crop(layout, crop, landmarks_from_table(train)[sample], title))
