"""Region layouts: named boxes in 128x96 crop pixels, computed from training landmarks.

A layout is data (see ``config.yaml``):

* ``grid: {rows, cols}`` - equal cells over the crop, named ``r{row}c{col}`` (1-based);
* ``regions: {name: spec}`` - each region is either
  - ``centre: {landmarks, width_sigmas, height_sigmas}``: a box centred on the mean of the
    landmarks, ``width_sigmas`` standard deviations wide and ``height_sigmas`` high (lm1), or
  - edges ``top``/``bottom``/``left``/``right`` (missing ones are the crop border), each one of
    ``{crop: top|bottom|left|right}``, ``{landmarks: [...], sigmas: k}`` (mean + k standard
    deviations of the pooled landmark coordinates along that edge's axis), or
    ``{region: other, edge: top|bottom|left|right}`` (an edge of another region) (lm2 bands).
  ``covers`` lists the landmarks the region is meant to contain (for the coverage report);
  by default, the landmarks its definition names.

Boxes are ``[x0, y0, x1, y1]`` in continuous crop pixels (0..96, 0..128), clipped to the crop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from occlusion_fr import CROP_HEIGHT, CROP_WIDTH
from occlusion_fr.landmarks import landmark_points
from occlusion_fr.markdown import markdown_table

_AXIS = {"left": 0, "right": 0, "top": 1, "bottom": 1}
_BOX_INDEX = {"left": 0, "top": 1, "right": 2, "bottom": 3}


def pooled_stats(table: pd.DataFrame, landmarks: list[str], axis: int) -> tuple[float, float]:
    """Mean and standard deviation of one coordinate pooled over several landmarks."""
    values = np.concatenate([landmark_points(table, name)[:, axis] for name in landmarks])
    return float(values.mean()), float(values.std(ddof=1))


def _grid(rows: int, cols: int, height: int, width: int) -> dict:
    return {
        f"r{r + 1}c{c + 1}": {"box": [c * width / cols, r * height / rows, (c + 1) * width / cols,
                                      (r + 1) * height / rows], "covers": []}
        for r in range(rows) for c in range(cols)
    }


def region_names(layout: dict) -> list[str]:
    """Region names of a layout spec, known before any data (the workflow plans jobs with them)."""
    if "grid" in layout:
        return [f"r{r + 1}c{c + 1}" for r in range(layout["grid"]["rows"]) for c in range(layout["grid"]["cols"])]
    return list(layout["regions"])


def _named_landmarks(spec: dict) -> list[str]:
    if "centre" in spec:
        return list(spec["centre"]["landmarks"])
    names = []
    for side in _BOX_INDEX:
        for name in spec.get(side, {}).get("landmarks", []):
            if name not in names:
                names.append(name)
    return names


def build_layout(name: str, layout: dict, train: pd.DataFrame,
                 height: int = CROP_HEIGHT, width: int = CROP_WIDTH) -> dict:
    """Resolve a layout spec against training landmarks. ``train`` must hold training rows only."""
    if "grid" in layout:
        regions = _grid(layout["grid"]["rows"], layout["grid"]["cols"], height, width)
        return {"layout": name, "crop_height": height, "crop_width": width, "regions": regions}

    specs = layout["regions"]
    resolved: dict[str, list[float]] = {}
    resolving: set[str] = set()
    border = {"left": 0.0, "top": 0.0, "right": float(width), "bottom": float(height)}

    def edge(region: str, side: str) -> float:
        spec = specs[region].get(side)
        where = f"layouts.{name}.regions.{region}.{side}"
        if spec is None:
            return border[side]
        if "crop" in spec:
            return border[spec["crop"]]
        if "landmarks" in spec:
            mean, std = pooled_stats(train, spec["landmarks"], _AXIS[side])
            return mean + spec["sigmas"] * std
        if "region" in spec:
            other = spec["region"]
            if other not in specs:
                raise ValueError(f"{where}: refers to unknown region {other!r}")
            return box(other)[_BOX_INDEX[spec["edge"]]]
        raise ValueError(f"{where}: needs one of 'crop', 'landmarks' or 'region'")

    def box(region: str) -> list[float]:
        if region in resolved:
            return resolved[region]
        if region in resolving:
            raise ValueError(f"layouts.{name}.regions.{region}: edges refer to each other in a cycle")
        resolving.add(region)
        spec = specs[region]
        if "centre" in spec:
            c = spec["centre"]
            mx, sx = pooled_stats(train, c["landmarks"], 0)
            my, sy = pooled_stats(train, c["landmarks"], 1)
            raw = [mx - c["width_sigmas"] * sx / 2, my - c["height_sigmas"] * sy / 2,
                   mx + c["width_sigmas"] * sx / 2, my + c["height_sigmas"] * sy / 2]
        else:
            raw = [edge(region, side) for side in ("left", "top", "right", "bottom")]
        clipped = [min(max(raw[0], 0.0), width), min(max(raw[1], 0.0), height),
                   min(max(raw[2], 0.0), width), min(max(raw[3], 0.0), height)]
        if clipped[2] <= clipped[0] or clipped[3] <= clipped[1]:
            raise ValueError(f"layouts.{name}.regions.{region}: empty box {np.round(raw, 2).tolist()}")
        resolved[region] = clipped
        resolving.discard(region)
        return clipped

    regions = {}
    for region, spec in specs.items():
        regions[region] = {"box": box(region), "covers": list(spec.get("covers", _named_landmarks(spec)))}
    return {"layout": name, "crop_height": height, "crop_width": width, "regions": regions}


def inside(points: np.ndarray, region_box) -> np.ndarray:
    x0, y0, x1, y1 = region_box
    return (points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0) & (points[:, 1] <= y1)


def coverage(layout: dict, table: pd.DataFrame) -> pd.DataFrame:
    """Share of images whose landmarks fall inside their regions, per region and all at once.

    A region covers an image when every landmark in its ``covers`` list lies inside its box.
    Regions that cover nothing (grid cells, forehead, chin) are not part of the report.
    """
    rows, every = [], np.ones(len(table), dtype=bool)
    for region, info in layout["regions"].items():
        if not info["covers"]:
            continue
        hit = np.ones(len(table), dtype=bool)
        for name in info["covers"]:
            hit &= inside(landmark_points(table, name), info["box"])
        every &= hit
        rows.append({"layout": layout["layout"], "region": region, "landmarks": "+".join(info["covers"]),
                     "images": len(table), "coverage": float(hit.mean())})
    if rows:
        rows.append({"layout": layout["layout"], "region": "all", "landmarks": "all at once",
                     "images": len(table), "coverage": float(every.mean())})
    return pd.DataFrame(rows, columns=["layout", "region", "landmarks", "images", "coverage"])


def landmark_statistics(train: pd.DataFrame, names) -> dict:
    """Mean and standard deviation (x, y) of each landmark over the training crops."""
    stats = {}
    for name in names:
        points = landmark_points(train, name)
        stats[name] = {"mean": points.mean(0).round(3).tolist(), "std": points.std(0, ddof=1).round(3).tolist()}
    return {"images": int(len(train)), "landmarks": stats}


# What the paper reports (section 3.4) for its two landmark layouts, for comparison.
PAPER_COVERAGE = {("lm1", "region"): "about 95%", ("lm2", "region"): "about 95%", ("lm2", "all"): "about 90%"}


def coverage_markdown(table: pd.DataFrame, dataset: str) -> str:
    """Coverage of every layout as a Markdown table, with the paper's figures beside ours."""
    lines = [f"# Landmark coverage of region layouts ({dataset}, training split)", "",
             markdown_table(["layout", "region", "landmarks", "images", "coverage", "paper"],
                            [[row.layout, row.region, row.landmarks, row.images, f"{100 * row.coverage:.1f}%",
                              PAPER_COVERAGE.get((row.layout, "all" if row.region == "all" else "region"), "")]
                             for row in table.itertuples(index=False)], align="lllrrl")]
    return "\n".join(lines) + "\n"
