from pathlib import Path

import pandas as pd

from occlusion_fr.figures import image_grid
from occlusion_fr.io import read_json, read_rgb, save_figure, write_csv
from occlusion_fr.logs import job_logging
from occlusion_fr.occlusions.blocks import block_table, render_block

with job_logging(snakemake.log[0]) as log:
    p = snakemake.params
    layout = read_json(snakemake.input.regions)
    table = block_table(pd.read_csv(snakemake.input.split), layout, p.splits, p.seed, p.grey)
    write_csv(snakemake.output.table, table)
    log.info("%d blocks: %d images x %d regions", len(table), table["image"].nunique(), len(layout["regions"]))

    first = table[table["image"] == table["image"].iloc[0]]
    crop = read_rgb(Path(snakemake.input.crops) / first["crop"].iloc[0])
    blocks = [render_block(crop, [r.x0, r.y0, r.x1, r.y1], r.grey)[0] for r in first.itertuples(index=False)]
    title = f"{snakemake.wildcards.dataset}: {layout['layout']} blocks on {first['image'].iloc[0]}"
    save_figure(snakemake.output.figure, image_grid({"blocked": blocks}, first["region"].tolist(), title))
