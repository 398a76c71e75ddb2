import torch

from occlusion_fr.evaluation.method_selection import choose_method, method_selection, method_selection_markdown
from occlusion_fr.evaluation.strategies import load_gallery_maps, load_probe_set
from occlusion_fr.io import write_csv, write_text
from occlusion_fr.logs import job_logging
from occlusion_fr.method.embedding import Embedder, MethodSettings
from occlusion_fr.method.layout import MaskingLayout
from occlusion_fr.split import identities_by_image

with job_logging(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    inputs, p = snakemake.input, snakemake.params
    identity_of = identities_by_image(inputs.split)
    gallery_maps, gallery_labels = load_gallery_maps(inputs.gallery, identity_of)
    probe_sets = [load_probe_set(name, inputs.probes[i], identity_of, inputs.occlusion_masks[i])
                  for i, name in enumerate(p.probes)]
    layouts = [MaskingLayout.load(inputs[f"regions_{name}"], inputs[f"masks_{name}"]) for name in p.layouts]
    table = method_selection(Embedder.load(inputs.weights, inputs.metrics, p.precision), gallery_maps, gallery_labels,
                             probe_sets, layouts, [MethodSettings(**m) for m in p.methods], p.overlap_threshold,
                             p.settings["far"])
    chosen = choose_method(table, p.settings["min_clean_share"])
    log.info("chosen on validation: %s", chosen)
    table["chosen"] = table["method"] == chosen
    write_csv(snakemake.output.table, table)
    write_text(snakemake.output.report, method_selection_markdown(table, chosen, snakemake.wildcards.dataset,
                                                                  p.settings["far"], p.settings["min_clean_share"]))
