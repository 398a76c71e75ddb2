"""Why ``identify`` answered as it did: the crop, the predicted occlusion, the regions whose
features were discarded, and where the base CNN looks with and without that FDM."""

from __future__ import annotations

import numpy as np
import torch

from occlusion_fr.figures import image_grid, tint
from occlusion_fr.method.selection import NO_FDM
from occlusion_fr.saliency import saliency_maps


def explain(recognizer, face, layout: str | None, out_path) -> None:
    from occlusion_fr.io import save_figure

    chosen = recognizer.masking_layout(layout)
    maps, occlusion, selections = recognizer.analyse([face.crop], chosen)
    discarded = chosen.pixels(selections[0]) if chosen else np.zeros(face.crop.shape[:2], dtype=bool)
    pixels = torch.from_numpy(face.crop).permute(2, 0, 1)[None].contiguous()
    model = recognizer.models.base_cnn
    mask = chosen.fdm_tensor(selections[0], maps.shape[1:]) if chosen else None
    plain, masked = saliency_maps(model, pixels)[0], saliency_maps(model, pixels, mask)[0]
    title = (f"{face.path}: layout {chosen.name if chosen else NO_FDM}, discarded regions: "
             f"{', '.join(selections[0]) or 'none'}")
    figure = image_grid({"": [face.crop, tint(face.crop, occlusion[0]), tint(face.crop, discarded, (0.1, 0.3, 1.0)),
                              plain, masked]},
                        ["crop", "predicted occlusion", "discarded regions", "saliency", "saliency with FDM"], title)
    save_figure(out_path, figure)
