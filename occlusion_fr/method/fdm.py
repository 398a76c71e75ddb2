"""Feature discarding masks (paper section 3.5): the elementwise product of the selected
regions' binary masks from the mask dictionary; with no region selected, it keeps everything."""

from __future__ import annotations

import numpy as np

from occlusion_fr.method.selection import Selection


def feature_discarding_mask(dictionary: dict[str, np.ndarray], selected: Selection, shape) -> np.ndarray:
    """uint8 product of the selected regions' binary masks (all ones when none is selected)."""
    mask = np.ones(shape, dtype=np.uint8)
    for region in selected:
        mask = mask * dictionary[region]
    return mask


def kept_share(dictionary: dict[str, np.ndarray], selected: Selection, shape) -> float:
    """Share of feature elements an FDM keeps."""
    return float(feature_discarding_mask(dictionary, selected, shape).mean()) if selected else 1.0
