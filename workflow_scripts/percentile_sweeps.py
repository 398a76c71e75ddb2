import pandas as pd

from occlusion_fr.evaluation.percentile_sweep import sweep_markdown, sweep_summary
from occlusion_fr.figures import percentile_sweep_figure
from occlusion_fr.io import save_figure, write_csv, write_text
from occlusion_fr.logs import job_logging

with job_logging(snakemake.log[0]):
    dataset = snakemake.wildcards.dataset
    sweep = pd.concat([pd.read_csv(path) for path in snakemake.input.tables], ignore_index=True)
    summary = sweep_summary(sweep, snakemake.params.layouts)
    write_csv(snakemake.output.table, summary)
    write_text(snakemake.output.report, sweep_markdown(summary, sweep, dataset))
    save_figure(snakemake.output.figure, percentile_sweep_figure(sweep, summary, f"{dataset}: percentile sweep"))
