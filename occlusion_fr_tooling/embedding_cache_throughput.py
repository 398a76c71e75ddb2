"""Evaluation scoring with and without the shared embedding cache, measured in one run.

Pair verification scores every condition with each test-time method and strategy: 6 methods x
(no FDM + 3 layouts). Each used to embed its pairs' maps afresh (a new embedder per method,
the maps sliced per call); with the cache, the methods share one embedding per (maps, mask,
position, rows). This times one condition of that loop at LFW's size on random maps of a
randomly initialised base CNN (the cost does not depend on the weights), with a share of pairs
whose second image selects regions, and prints seconds and the ratio; it also checks that both
ways give the same scores.
Usage: python -m occlusion_fr_tooling.embedding_cache_throughput [--pairs 5273] [--masked-share 0.5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from occlusion_fr.evaluation.pair_verification import pair_scores
from occlusion_fr.method.embedding import MASK_POSITIONS, NORMALISATIONS, Embedder, MethodSettings
from occlusion_fr.method.layout import MaskingLayout
from occlusion_fr.models.base_cnn import BaseCNN
from occlusion_fr.models.training import choose_device, machine

CROP = (128, 96)


def grid_layout(name: str, rows: int, cols: int, shape, rng: np.random.Generator) -> MaskingLayout:
    """A rows x cols grid over the crop with a random binary mask per region (a quarter discarded)."""
    height, width = CROP
    regions = {f"r{r}c{c}": {"box": [c * width / cols, r * height / rows, (c + 1) * width / cols,
                                     (r + 1) * height / rows]} for r in range(rows) for c in range(cols)}
    dictionary = {region: (rng.random(shape) > 0.25).astype(np.uint8) for region in regions}
    return MaskingLayout.of({"layout": name, "crop_height": height, "crop_width": width, "regions": regions},
                            dictionary)


def occlusions(layout: MaskingLayout, n: int, masked_share: float, rng: np.random.Generator) -> np.ndarray:
    """(n, H, W) occlusion maps: ``masked_share`` of them cover one or two of the layout's lower regions."""
    maps = np.zeros((n, *CROP), dtype=bool)
    lower = layout.regions[-3:]
    for i in np.flatnonzero(rng.random(n) < masked_share):
        for region in rng.choice(lower, size=rng.integers(1, 3), replace=False):
            maps[i] |= layout.region_masks[region]
    return maps


def score_all(embedders: dict, maps, first, maps2, second, occlusion2, layouts, fresh: bool) -> dict:
    """Every method's and strategy's pair scores; ``fresh``: the way before the cache (a new
    embedder per method, maps sliced per call)."""
    out = {}
    for name, embedder in embedders.items():
        if fresh:
            embedder = Embedder(embedder.model, embedder.device, embedder.settings, embedder.cohort_maps)
        for layout in [None, *layouts]:
            if fresh:
                values, _ = pair_scores(embedder, maps[first], maps2[second], occlusion2, layout, 0.5)
            else:
                values, _ = pair_scores(embedder, maps, maps2, occlusion2, layout, 0.5, first, second)
            out[(name, layout.name if layout else "none")] = values
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5273)
    parser.add_argument("--cohort", type=int, default=3026)
    parser.add_argument("--masked-share", type=float, default=0.5)
    args = parser.parse_args()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    device = choose_device("auto")
    model = device.model(BaseCNN(158).eval())
    shape = model.map_shape
    images = int(1.7 * args.pairs)  # LFW's pairs: about 1.7 distinct images per pair
    maps = torch.randn(images, *shape).relu().bfloat16()
    cohort = torch.randn(args.cohort, *shape).relu().bfloat16()
    first, second = rng.integers(0, images, args.pairs), rng.integers(0, images, args.pairs)
    layouts = [grid_layout("grid3x3", 3, 3, shape, rng), grid_layout("lm2", 5, 1, shape, rng),
               grid_layout("lm1", 2, 2, shape, rng)]
    occlusion2 = occlusions(layouts[0], args.pairs, args.masked_share, rng)
    shared = Embedder(model, device, MethodSettings(), cohort)
    embedders = {f"{p}, {n}": shared.with_settings(MethodSettings(p, n)) for p in MASK_POSITIONS
                 for n in NORMALISATIONS}
    timings, results = {}, {}
    for fresh in (True, False):
        started = time.perf_counter()
        results[fresh] = score_all(embedders, maps, first, maps, second, occlusion2, layouts, fresh)
        timings[fresh] = time.perf_counter() - started
    largest = max(np.abs(results[True][k] - results[False][k]).max() for k in results[True])
    print(f"{machine()['description']}; {device.precision}")
    print(f"one verification condition, {args.pairs} pairs, {len(embedders)} methods x {1 + len(layouts)} strategies, "
          f"{args.masked_share:.0%} of second images selecting regions: embedded per call {timings[True]:.1f} s, "
          f"shared cache {timings[False]:.1f} s, ratio {timings[True] / timings[False]:.1f}x; "
          f"largest score difference {largest:.1e}")


if __name__ == "__main__":
    main()
