from occlusion_fr.io import write_csv, write_text
from occlusion_fr.logs import job_logging
from occlusion_fr.occlusions.summary import summarise, summary_markdown

with job_logging(snakemake.log[0]) as log:
    table, skipped = summarise(snakemake.input.indexes, snakemake.input.skipped)
    write_csv(snakemake.output.table, table)
    write_csv(snakemake.output.skipped, skipped)
    write_text(snakemake.output.report, summary_markdown(table, skipped, snakemake.wildcards.dataset))
    log.info("\n%s", table.to_string(index=False))
