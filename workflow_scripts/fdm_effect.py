import pandas as pd

from occlusion_fr.evaluation.fdm_effect import fdm_effect, fdm_effect_markdown
from occlusion_fr.io import write_csv, write_text
from occlusion_fr.logs import job_logging

with job_logging(snakemake.log[0]):
    table = fdm_effect(pd.concat([pd.read_csv(path, keep_default_na=False) for path in snakemake.input.probes],
                                 ignore_index=True))
    write_csv(snakemake.output.table, table)
    write_text(snakemake.output.report, fdm_effect_markdown(table, snakemake.wildcards.dataset))
