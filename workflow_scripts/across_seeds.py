import pandas as pd

from occlusion_fr.evaluation.across_seeds import (model_metrics, models_across_seeds, models_across_seeds_markdown,
                                                  table1_across_seeds, table1_across_seeds_markdown,
                                                  table1_across_seeds_metrics)
from occlusion_fr.io import read_json, write_csv, write_json, write_text
from occlusion_fr.logs import job_logging

with job_logging(snakemake.log[0]):
    p, inp, out = snakemake.params, snakemake.input, snakemake.output
    dataset = snakemake.wildcards.dataset
    table = table1_across_seeds({seed: pd.read_csv(path) for seed, path in zip(p.seeds, inp.tables)},
                                p.rows, p.strategies)
    write_csv(out.table, table)
    write_json(out.metrics, table1_across_seeds_metrics(table))
    write_text(out.report, table1_across_seeds_markdown(table, dataset, p.rows, p.strategies))
    models = models_across_seeds([model_metrics(seed, read_json(base), read_json(segmenter))
                                  for seed, base, segmenter in zip(p.seeds, inp.base_cnn, inp.segmenter)])
    write_csv(out.models, models)
    write_text(out.models_report, models_across_seeds_markdown(models, dataset))
