import pandas as pd
import torch

from occlusion_fr.evaluation.open_set import OpenSetSettings, open_set_markdown, run_open_set
from occlusion_fr.io import write_csv, write_json, write_text
from occlusion_fr.logs import job_logging
from occlusion_fr.method.embedding import MethodSettings
from occlusion_fr.method.models import RunFiles

with job_logging(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    inputs, p = snakemake.input, snakemake.params
    settings = OpenSetSettings(**p.settings)
    files = RunFiles(base_cnn=(inputs.weights, inputs.metrics), segmenter=inputs.segmenter, regions=list(inputs.regions),
                     masks={layout: getattr(inputs, f"masks_{layout}") for layout in p.layouts}, cohort=inputs.cohort)
    models, region_layouts, layouts = files.load(settings.encoder, settings.precision, MethodSettings(**settings.method))
    table, counts = run_open_set(pd.read_csv(inputs.faces), inputs.crops, pd.read_csv(inputs.split)["identity"],
                                 models, layouts, region_layouts, settings)
    write_csv(snakemake.output.table, table)
    write_json(snakemake.output.metrics, {**counts, "method": settings.method, "cells": table.to_dict(orient="records")})
    write_text(snakemake.output.report, open_set_markdown(table, counts, settings.dataset, settings.fars))
