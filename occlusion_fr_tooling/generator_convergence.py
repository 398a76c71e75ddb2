"""Mask-generator convergence: how many epochs each learning rate needs before the validation
loss stagnates, and whether a faster schedule reaches the same level and the same mask.

On a finished run's base CNN, clean feature-map caches and blocks, trains one region's generator
once per learning rate with the configured patience and a high epoch cap, and prints per rate:
the best epoch, the validation loss, accuracy and MAE there, seconds, and the overlap (IoU) of
the binary mask that the layout's percentile cuts from its mean output with the first rate's.
Usage: python -m occlusion_fr_tooling.generator_convergence results/lfw/seed0 lm2 eyes --lrs 0.001 0.003
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from occlusion_fr.config import validate_config
from occlusion_fr.masking.dictionary import binarise
from occlusion_fr.masking.generator import mean_mask, region_pairs, region_seed, split_crops, train_mask_generator
from occlusion_fr.masking.percentile import VALIDATION, dictionary_percentile
from occlusion_fr.models.features import load_base_cnn, load_feature_maps
from occlusion_fr.models.training import choose_device, machine


REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a run folder, e.g. results/lfw/seed0")
    parser.add_argument("layout")
    parser.add_argument("region")
    parser.add_argument("--lrs", type=float, nargs="+", default=[0.001, 0.003])
    parser.add_argument("--max-epochs", type=int, default=60)
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    args = parser.parse_args()

    # The schema fills the documented defaults (one place owns them).
    config = validate_config(yaml.safe_load(args.config.read_text()), REPO / "schemas/config.schema.yaml")
    settings = {**config["mask_generator"], "max_epochs": args.max_epochs}
    setting = config["layouts"][args.layout]["percentile"]
    sweep_table = args.run / f"percentile_sweep/{args.layout}.csv"  # the run's own choice, for `validation`
    percentile = dictionary_percentile(setting, pd.read_csv(sweep_table) if setting == VALIDATION else None)
    seed_of_run = int(args.run.name.removeprefix("seed"))
    device = choose_device(settings["precision"])
    base, identities = load_base_cnn(args.run / "models/base_cnn/weights.pt", args.run / "models/base_cnn/metrics.json",
                                     device)
    blocks = pd.read_csv(args.run / f"blocks/{args.layout}.csv")
    crops = args.run.parent / "faces/crops"
    pairs = {split: region_pairs(base, blocks, split, args.region, *load_feature_maps(args.run / f"features/{split}/clean.npz"),
                                 split_crops(blocks, split, crops), identities, device)
             for split in ("train", "val")}
    seed = region_seed(seed_of_run, args.layout, args.region)
    print(f"{args.run} {args.layout}/{args.region}: {len(pairs['train'][2])} training, {len(pairs['val'][2])} "
          f"validation pairs; patience {settings['patience']}, cap {args.max_epochs}, {device.precision} on {machine()['description']}")
    reference = None
    rows = []
    for lr in args.lrs:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as checkpoints:  # each rate trains afresh
            record = train_mask_generator(base, pairs["train"], pairs["val"], {**settings, "lr": lr}, seed, device,
                                          checkpoints)
        seconds = time.perf_counter() - start
        mask = binarise(mean_mask(record["generator"], pairs["train"][0], pairs["train"][1], device), percentile)
        reference = mask if reference is None else reference
        iou = float((mask & reference).sum() / max((mask | reference).sum(), 1))
        rows.append({"lr": lr, "epochs": len(record["history"]), "best_epoch": record["best_epoch"],
                     "val_loss": round(record["val_loss"], 4), "val_accuracy": round(record["val_accuracy"], 4),
                     "val_mae": round(record["val_mae"], 4), "seconds": round(seconds, 1),
                     "kept_share": round(float(mask.mean()), 4), f"mask_iou_vs_lr{args.lrs[0]:g}": round(iou, 4)})
        print(json.dumps(rows[-1]), flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
