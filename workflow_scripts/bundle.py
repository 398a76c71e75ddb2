from pathlib import Path

import pandas as pd

from occlusion_fr.bundle import SPLIT_COLUMNS, BundleSettings, run_bundle
from occlusion_fr.evaluation.pair_verification import tool_thresholds
from occlusion_fr.io import read_json, write_text
from occlusion_fr.logs import job_logging
from occlusion_fr.model_card import CardInputs, code_version, model_card

with job_logging(snakemake.log[0]) as log:
    inputs, p = snakemake.input, snakemake.params
    settings = BundleSettings(**p.settings)
    # Without a pairs file there are no pair scores and no thresholds.
    thresholds = (tool_thresholds(pd.read_csv(inputs.pair_scores[0], keep_default_na=False), p.fars,
                                  p.calibration_folds) if inputs.pair_scores else None)
    card = CardInputs(settings=settings, source=p.source, detector=p.detector,
                      split=pd.read_csv(inputs.split, keep_default_na=False)[SPLIT_COLUMNS],
                      base_cnn=read_json(inputs.metrics), segmenter=read_json(inputs.segmenter_metrics),
                      segmenter_occlusions=p.segmenter_occlusions,
                      mask_generators=[read_json(Path(folder) / f"{region}.json") for folder, layout in
                                       zip(inputs.generator_metrics, p.layouts) for region in p.regions[layout]],
                      layouts=p.regions,
                      table1=pd.read_csv(inputs.table1),
                      verification=pd.read_csv(inputs.verification[0]) if inputs.verification else None,
                      thresholds_at_far=thresholds, calibration_folds=p.calibration_folds)
    write_text(snakemake.output.model_card, model_card(card, code_version()))
    manifest = run_bundle(snakemake.output.bundle, (inputs.weights, inputs.metrics), inputs.segmenter, inputs.gallery,
                          inputs.split, {layout: (getattr(inputs, f"regions_{layout}"), getattr(inputs, f"masks_{layout}"))
                                         for layout in p.layouts},
                          thresholds, p.calibration_folds, settings, snakemake.output.model_card)
    log.info("bundle of %d files, %.1f MB", len(manifest["files"]),
             sum(f["bytes"] for f in manifest["files"].values()) / 1e6)
