import pandas as pd

from occlusion_fr.io import read_json, write_csv
from occlusion_fr.logs import job_logging

with job_logging(snakemake.log[0]) as log:
    history = pd.DataFrame(read_json(snakemake.input.metrics)["history"])
    log.info("%d epochs, columns %s", len(history), list(history.columns))
    write_csv(snakemake.output.history, history)
