import pandas as pd

from occlusion_fr.bundle import BundleSettings, run_bundle
from occlusion_fr.evaluation.pair_verification import tool_thresholds
from occlusion_fr.logs import job_logging

with job_logging(snakemake.log[0]) as log:
    inputs, p = snakemake.input, snakemake.params
    # Without a pairs file there are no pair scores and no thresholds.
    thresholds = (tool_thresholds(pd.read_csv(inputs.pair_scores[0], keep_default_na=False), p.fars,
                                  p.calibration_folds) if inputs.pair_scores else None)
    manifest = run_bundle(snakemake.output.bundle, (inputs.weights, inputs.metrics), inputs.segmenter, inputs.gallery,
                          inputs.split, {layout: (getattr(inputs, f"regions_{layout}"), getattr(inputs, f"masks_{layout}"))
                                         for layout in p.layouts},
                          thresholds, p.calibration_folds, BundleSettings(**p.settings))
    log.info("bundle of %d files, %.1f MB", len(manifest["files"]),
             sum(f["bytes"] for f in manifest["files"].values()) / 1e6)
