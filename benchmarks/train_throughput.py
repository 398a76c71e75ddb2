"""Training throughput: fp32 eager against the CPU setting the pipeline chooses, in one run.

Prints images per second for a few training steps of the base CNN and the segmenter in each
setting, their ratio, and the recorded wall time of the whole trainings (Snakemake benchmark
files) for a dataset. Usage: python benchmarks/train_throughput.py [--dataset lfw] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
import yaml

from occlusion_fr.models.base_cnn import BaseCNN
from occlusion_fr.models.segmenter import build_segmenter
from occlusion_fr.models.training import Device, choose_device
from occlusion_fr.results_layout import dataset_dir, seed_dir

REPO = Path(__file__).resolve().parents[1]


def images_per_second(model, loss_of, device: Device, batch_size: int, steps: int, warmup: int = 4) -> float:
    model = device.model(model).train()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = device.images(torch.randn(batch_size, 3, 128, 96))
    for step in range(warmup + steps):
        if step == warmup:
            started = time.perf_counter()
        with device.autocast():
            loss = loss_of(model, images)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return steps * batch_size / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="lfw")
    parser.add_argument("--seed", type=int, default=0, help="the run seed whose training times are shown")
    parser.add_argument("--steps", type=int, default=8)
    args = parser.parse_args()
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    torch.manual_seed(0)
    fp32 = Device(torch.device("cpu"))
    chosen = choose_device(config["base_cnn"]["precision"])
    labels = torch.randint(0, 158, (64,))
    targets = (torch.rand(32, 1, 128, 96) > 0.7).float()
    stride = config["base_cnn"]["output_stride"]
    jobs = {
        f"base CNN (stride {stride}, batch 64)": (
            lambda: BaseCNN(158, stride), lambda m, x: F.cross_entropy(m.head(m(x), labels).float(), labels), 64),
        f"segmenter ({config['segmenter']['encoder']}, batch 32)": (
            lambda: build_segmenter(config["segmenter"]["encoder"]),
            lambda m, x: F.binary_cross_entropy_with_logits(m(x).float(), targets), 32),
    }
    print(f"chosen setting: {chosen.device}, precision={chosen.precision}, channels_last={chosen.channels_last}")
    for name, (make, loss_of, batch) in jobs.items():
        slow = images_per_second(make(), loss_of, fp32, batch, args.steps)
        fast = images_per_second(make(), loss_of, chosen, batch, args.steps)
        print(f"{name}: fp32 eager {slow:.1f} img/s, chosen {fast:.1f} img/s, ratio {fast / slow:.2f}x")
    for rule in ("base_cnn", "segmenter"):
        path = seed_dir(dataset_dir(args.dataset, REPO), args.seed) / "benchmarks" / f"{rule}.tsv"
        if path.is_file():
            seconds = pd.read_csv(path, sep="\t")["s"].iloc[-1]
            print(f"{args.dataset} {rule} training wall time: {seconds / 60:.1f} min ({path.relative_to(REPO)})")
        else:
            print(f"{args.dataset} {rule}: no benchmark file yet ({path.relative_to(REPO)})")


if __name__ == "__main__":
    main()
