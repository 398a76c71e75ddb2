import numpy as np
import pandas as pd
import torch

from occlusion_fr.figures import image_grid, tint
from occlusion_fr.io import save_figure
from occlusion_fr.logs import job_logging
from occlusion_fr.method.layout import MaskingLayout
from occlusion_fr.method.occlusion_masks import load_occlusion_masks
from occlusion_fr.models.data import load_images
from occlusion_fr.models.features import load_base_cnn
from occlusion_fr.models.training import choose_device
from occlusion_fr.occlusions.sets import load_image_set
from occlusion_fr.saliency import saliency_maps

with job_logging(snakemake.log[0]) as log:
    inputs, p, dataset = snakemake.input, snakemake.params, snakemake.wildcards.dataset
    model, _ = load_base_cnn(inputs.weights, inputs.metrics, choose_device("fp32"))
    table = pd.read_csv(inputs.split)
    test = table[table["split"] == "test"]

    # Paper Fig. 2: clean test faces of different people.
    rng = np.random.default_rng(p.seed)
    people = rng.choice(sorted(test["identity"].unique()), size=min(p.saliency["images"], test["identity"].nunique()),
                        replace=False)
    crops = [test[test["identity"] == person]["crop"].iloc[0] for person in people]
    images = load_images(inputs.crops, crops)
    saliency = saliency_maps(model, images)
    save_figure(snakemake.output.clean, image_grid(
        {"image": [i.permute(1, 2, 0).numpy() for i in images], "saliency": list(saliency)},
        list(people), f"{dataset}: saliency of the base CNN on clean test faces"), dpi=100)

    # Paper Figs. 8 and 9: one probe per occlusion, without and with the FDM the segmenter implies.
    layout = MaskingLayout.load(inputs.regions, inputs.masks)
    rows = {name: [] for name in ("probe", "predicted occlusion", "regions chosen", "FDM: share kept",
                                  "saliency, no FDM", "saliency, FDM")}
    titles = []
    for occlusion, masks_path in zip(p.saliency["occlusions"], inputs.occlusion_masks):
        probes = load_image_set(table, "test", occlusion, p.sets_dir, inputs.crops)
        names, masks = load_occlusion_masks(masks_path)
        selected = layout.select(masks["segmenter"], p.overlap_threshold)
        pick = next((i for i, s in enumerate(selected) if s), 0)  # first probe whose FDM discards something
        fdm = torch.from_numpy(layout.fdm(selected[pick], model.map_shape))
        image = probes.pixels[pick:pick + 1]
        chosen = layout.pixels(selected[pick])
        rows["probe"].append(image[0].permute(1, 2, 0).numpy())
        rows["predicted occlusion"].append(masks["segmenter"][pick])
        rows["regions chosen"].append(tint(image[0].permute(1, 2, 0).numpy(), chosen))
        # The FDM's share of kept channels per feature-map cell, drawn over the crop's pixels.
        cell = (image.shape[2] // fdm.shape[1], image.shape[3] // fdm.shape[2])
        rows["FDM: share kept"].append(np.kron(fdm.float().mean(0).numpy(), np.ones(cell)))
        rows["saliency, no FDM"].append(saliency_maps(model, image)[0])
        rows["saliency, FDM"].append(saliency_maps(model, image, fdm, p.method["position"])[0])
        titles.append(f"{occlusion}\n{'+'.join(selected[pick]) or 'no region'}")
        log.info("%s: probe %s, regions %s, FDM keeps %.1f%%", occlusion, names[pick], selected[pick],
                 100 * fdm.float().mean().item())
    save_figure(snakemake.output.fdm, image_grid(
        rows, titles, f"{dataset}: saliency without and with the {layout.name} FDM (segmenter regions)"), dpi=100)
