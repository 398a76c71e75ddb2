import pandas as pd

from occlusion_fr.evaluation.ablations import fdm_ablations_markdown
from occlusion_fr.io import write_csv, write_text
from occlusion_fr.logs import job_logging

with job_logging(snakemake.log[0]):
    table = pd.concat([pd.read_csv(path) for path in snakemake.input.tables], ignore_index=True)
    write_csv(snakemake.output.table, table)
    write_text(snakemake.output.report, fdm_ablations_markdown(table, snakemake.wildcards.dataset))
