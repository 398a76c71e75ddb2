from pathlib import Path

from occlusion_fr.io import write_json
from occlusion_fr.logs import job_logging
from occlusion_fr.pretrained import import_pretrained

with job_logging(snakemake.log[0]) as log:
    inputs, out, layouts = snakemake.input, snakemake.output, snakemake.params.layouts
    masks = iter(out.masks)  # in the rule's order: layout by layout, region by region
    targets = {layout: (regions, {region: next(masks) for region in layouts[layout]})
               for layout, regions in zip(layouts, out.regions)}
    record = import_pretrained(Path(inputs.manifest).parent, inputs.split, list(inputs.unseen_faces),
                               (out.weights, out.metrics), out.segmenter, targets)
    write_json(out.record, record)
    log.info("models of the bundle %s (dataset %s, seed %d) for layouts %s", record["bundle"], record["dataset"],
             record["seed"], ", ".join(record["layouts"]))
