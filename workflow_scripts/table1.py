import pandas as pd

from occlusion_fr.evaluation.table1 import table1, table1_markdown, table1_metrics, with_paper
from occlusion_fr.io import read_json, write_csv, write_json, write_text
from occlusion_fr.logs import job_logging

with job_logging(snakemake.log[0]):
    p = snakemake.params
    long = table1([pd.read_csv(path) for path in snakemake.input.summaries], p.rows, p.strategies)
    paper = pd.read_csv(snakemake.input.paper[0]) if snakemake.input.paper else None
    long = with_paper(long, paper)
    write_csv(snakemake.output.table, long)
    pretrained = read_json(snakemake.input.pretrained[0]) if snakemake.input.pretrained else None
    write_text(snakemake.output.report, table1_markdown(long, snakemake.wildcards.dataset, p.rows, p.strategies,
                                                        pretrained))
    write_json(snakemake.output.metrics, table1_metrics(long))
