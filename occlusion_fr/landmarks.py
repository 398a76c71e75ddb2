"""Landmark table conventions shared by every stage.

Tables carry one row per image with columns ``{name}_x`` / ``{name}_y`` for each of the
five MTCNN landmarks, plus ``box_x0, box_y0, box_x1, box_y1`` for the face box.
Derived landmarks (``mouth``: the midpoint of the mouth corners) are computed on demand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from occlusion_fr import LANDMARK_NAMES

BOX_COLUMNS = ("box_x0", "box_y0", "box_x1", "box_y1")
DERIVED_LANDMARKS = {"mouth": ("mouth_left", "mouth_right"), "eyes": ("left_eye", "right_eye")}
KNOWN_LANDMARKS = tuple(LANDMARK_NAMES) + tuple(DERIVED_LANDMARKS)


def landmark_columns(prefix: str = "") -> list[str]:
    return [f"{prefix}{name}_{axis}" for name in LANDMARK_NAMES for axis in ("x", "y")]


def landmarks_to_columns(points: np.ndarray, prefix: str = "") -> dict[str, float]:
    """(5, 2) array -> {"left_eye_x": ..., ...}."""
    points = np.asarray(points, dtype=float).reshape(len(LANDMARK_NAMES), 2)
    return dict(zip(landmark_columns(prefix), points.reshape(-1).tolist()))


def landmarks_from_table(table: pd.DataFrame, prefix: str = "") -> np.ndarray:
    """Table -> (N, 5, 2) float array."""
    return table[landmark_columns(prefix)].to_numpy(dtype=float).reshape(len(table), -1, 2)


def landmark_points(table: pd.DataFrame, name: str, prefix: str = "") -> np.ndarray:
    """(N, 2) positions of one landmark, derived ones included."""
    if name in DERIVED_LANDMARKS:
        return np.mean([landmark_points(table, part, prefix) for part in DERIVED_LANDMARKS[name]], axis=0)
    if name not in LANDMARK_NAMES:
        raise KeyError(f"unknown landmark {name!r}; known: {', '.join(KNOWN_LANDMARKS)}")
    return table[[f"{prefix}{name}_x", f"{prefix}{name}_y"]].to_numpy(dtype=float)
