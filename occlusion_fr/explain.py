"""Why ``identify`` answered as it did: the crop, the predicted occlusion, the regions whose
features were discarded, and where the base CNN looks with and without that FDM."""

from __future__ import annotations

import numpy as np
import torch

from occlusion_fr.evaluation.saliency import saliency_maps
from occlusion_fr.figures import image_grid, tint


def explain(recognizer, face, layout: str | None, out_path) -> None:
    from occlusion_fr.io import save_figure

    chosen = recognizer._layout(layout)
    maps, occlusion, selections = recognizer.analyse([face.crop], chosen)
    discarded = np.zeros(face.crop.shape[:2], dtype=bool)
    if chosen:
        for region in selections[0]:
            discarded |= chosen.region_masks[region]
    pixels = torch.from_numpy(face.crop).permute(2, 0, 1)[None].contiguous()
    model = recognizer.models.base_cnn
    mask = chosen.mask(selections[0], maps.shape[1:]) if chosen else None
    plain, masked = saliency_maps(model, pixels)[0], saliency_maps(model, pixels, mask)[0]
    title = (f"{face.path}: layout {chosen.name if chosen else 'none'}, discarded regions: "
             f"{', '.join(selections[0]) or 'none'}")
    figure = image_grid({"": [face.crop, tint(face.crop, occlusion[0]), tint(face.crop, discarded, (0.1, 0.3, 1.0)),
                              plain, masked]},
                        ["crop", "predicted occlusion", "discarded regions", "saliency", "saliency with FDM"], title)
    save_figure(out_path, figure)
