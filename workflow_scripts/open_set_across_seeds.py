import pandas as pd

from occlusion_fr.evaluation.across_seeds import open_set_across_seeds, open_set_across_seeds_markdown
from occlusion_fr.io import write_csv, write_text
from occlusion_fr.logs import job_logging

with job_logging(snakemake.log[0]):
    table = open_set_across_seeds({seed: pd.read_csv(path) for seed, path in zip(snakemake.params.seeds,
                                                                                 snakemake.input.tables)})
    write_csv(snakemake.output.table, table)
    write_text(snakemake.output.report, open_set_across_seeds_markdown(table, snakemake.wildcards.dataset))
