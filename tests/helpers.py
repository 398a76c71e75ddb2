"""Small real datasets for tests: synthetic faces run through the real crop and layout code."""

from pathlib import Path

import pandas as pd

from occlusion_fr.crop import CropGeometry
from occlusion_fr.datasets.synthetic import generate_dataset
from occlusion_fr.detect import GroundTruthDetector, detect_and_crop
from occlusion_fr.regions import build_layout
from occlusion_fr.split import stratified_split

LM2 = {"regions": {
    "forehead": {"top": {"crop": "top"}, "bottom": {"region": "eyes", "edge": "top"}},
    "eyes": {"top": {"landmarks": ["left_eye", "right_eye"], "sigmas": -3},
             "bottom": {"landmarks": ["left_eye", "right_eye"], "sigmas": 2}},
    "nose": {"top": {"region": "eyes", "edge": "bottom"}, "bottom": {"region": "mouth", "edge": "top"}},
    "mouth": {"top": {"landmarks": ["mouth_left", "mouth_right"], "sigmas": -2},
              "bottom": {"landmarks": ["mouth_left", "mouth_right"], "sigmas": 2}},
    "chin": {"top": {"region": "mouth", "edge": "bottom"}, "bottom": {"crop": "bottom"}},
}}


def synthetic_crops(root: Path, identities: int = 4, images: int = 6, seed: int = 0):
    """(split table, crops folder, lm2 layout) for a small synthetic dataset."""
    index = generate_dataset(root / "raw", root / "index.csv", identities, images, seed)
    faces, _ = detect_and_crop(index, root / "raw", GroundTruthDetector(), root / "crops", root / "faces.csv",
                               root / "failures.csv", CropGeometry())
    table, _ = stratified_split(faces, 0.7, 0.15, 0.15, seed)
    layout = build_layout("lm2", LM2, table[table["split"] == "train"])
    return table, root / "crops", layout


def as_row(table: pd.DataFrame, i: int):
    return next(table.iloc[[i]].itertuples(index=False))
