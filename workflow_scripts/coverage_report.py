import pandas as pd

from occlusion_fr.io import write_csv, write_text
from occlusion_fr.logs import job_logging
from occlusion_fr.regions import coverage_markdown

with job_logging(snakemake.log[0]):
    frames = [pd.read_csv(path) for path in snakemake.input.coverage]
    table = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)  # grids cover nothing
    write_csv(snakemake.output.table, table)
    write_text(snakemake.output.report, coverage_markdown(table, snakemake.wildcards.dataset))
