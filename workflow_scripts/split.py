import pandas as pd

from occlusion_fr.io import write_csv, write_json
from occlusion_fr.logs import job_logging
from occlusion_fr.split import split_summary, stratified_split

with job_logging(snakemake.log[0]) as log:
    f, seed = snakemake.params.fractions, snakemake.params.seed
    table, dropped = stratified_split(pd.read_csv(snakemake.input.faces), f["train"], f["val"], f["test"], seed)
    summary = split_summary(table, dropped, seed)
    write_csv(snakemake.output.table, table)
    write_json(snakemake.output.summary, summary)
    log.info("split: %s", summary["images_per_split"])
