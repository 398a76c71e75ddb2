"""Train the base CNN with another output stride on a dataset's split, for comparison.

The pipeline's base CNN uses ``base_cnn.output_stride`` from config.yaml; this trains the same
recipe with ``--stride`` and writes its record (history, validation and test rank-1/rank-5,
wall time) to results/{dataset}/seed{seed}/experiments/base_cnn_stride{stride}.json.
Usage: python -m occlusion_fr_tooling.compare_output_stride --dataset lfw --stride 32 [--seed 0]
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import pandas as pd
import yaml

from occlusion_fr.config import validate_config
from occlusion_fr.io import write_json
from occlusion_fr.models.train_base_cnn import train_base_cnn
from occlusion_fr.results_layout import dataset_dir, seed_dir

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="lfw")
    parser.add_argument("--stride", type=int, default=32, choices=(16, 32))
    parser.add_argument("--seed", type=int, default=0, help="the run seed whose split is used")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    config = validate_config(yaml.safe_load((REPO / "config.yaml").read_text()), REPO / "schemas/config.schema.yaml")
    settings = {**config["base_cnn"], "output_stride": args.stride,
                "max_epochs": config["datasets"][args.dataset]["max_epochs"]["base_cnn"]}
    run = seed_dir(dataset_dir(args.dataset, REPO), args.seed)
    out = run / "experiments"
    started = time.time()
    record = train_base_cnn(pd.read_csv(run / "split.csv"), dataset_dir(args.dataset, REPO) / "faces" / "crops",
                            settings, args.seed,
                            out / f"checkpoints_stride{args.stride}")
    record.pop("weights")
    write_json(out / f"base_cnn_stride{args.stride}.json",
               {"settings": settings, "seed": args.seed, "wall_seconds": time.time() - started, **record})


if __name__ == "__main__":
    main()
