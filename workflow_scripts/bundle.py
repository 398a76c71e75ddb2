from occlusion_fr.bundle import BundleSettings, run_bundle
from occlusion_fr.logs import job_logging

with job_logging(snakemake.log[0]) as log:
    inputs, p = snakemake.input, snakemake.params
    manifest = run_bundle(snakemake.output.bundle, (inputs.weights, inputs.metrics), inputs.segmenter, inputs.gallery,
                          inputs.split, {layout: (getattr(inputs, f"regions_{layout}"), getattr(inputs, f"masks_{layout}"))
                                         for layout in p.layouts},
                          inputs.verification[0] if inputs.verification else None, BundleSettings(**p.settings))
    log.info("bundle of %d files, %.1f MB", len(manifest["files"]),
             sum(f["bytes"] for f in manifest["files"].values()) / 1e6)
