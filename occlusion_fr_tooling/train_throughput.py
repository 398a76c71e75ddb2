"""Training throughput of each setting worth trying on this machine, measured in one run.

For the base CNN, the segmenter and a mask generator, times training steps in: fp32 eager (the
default layout), fp32 channels_last, the setting the pipeline chooses (``precision: auto``), and
that setting under ``torch.compile`` (inductor), whose compile time is printed and counted as the
number of steps it takes to pay back. Prints images (pairs) per second and the ratios against
fp32 eager, then the recorded LFW training times.
Usage: python -m occlusion_fr_tooling.train_throughput [--dataset lfw] [--steps 8] [--no-compile]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
import yaml

from occlusion_fr.masking.generator import MaskGenerator, pdsn_loss
from occlusion_fr.models.base_cnn import BaseCNN
from occlusion_fr.models.segmenter import build_segmenter
from occlusion_fr.models.training import Device, choose_device, machine
from occlusion_fr.results_layout import dataset_dir

REPO = Path(__file__).resolve().parents[1]


def timed_steps(step, steps: int, warmup: int) -> tuple[float, float]:
    """(seconds of the first call, which includes any compilation; seconds per later step)."""
    started = time.perf_counter()
    step()
    first = time.perf_counter() - started
    for _ in range(warmup - 1):
        step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return first, (time.perf_counter() - started) / steps


def make_step(job: str, config: dict, device: Device, compiled: bool):
    """One training step of ``job`` in ``device``'s setting; returns (step, items per step)."""
    torch.manual_seed(0)
    classes, stride = 158, config["base_cnn"]["output_stride"]
    labels = torch.randint(0, classes, (64,))
    compile_ = torch.compile if compiled else (lambda module: module)
    if job == "mask generator":
        base = device.model(BaseCNN(classes, stride)).eval()
        for parameter in base.parameters():
            parameter.requires_grad_(False)
        generator = device.model(MaskGenerator(base.map_shape[0], config["mask_generator"]["kernel_size"]))
        optimiser = torch.optim.Adam(generator.parameters(), lr=1e-3)
        clean, occluded = (device.images(torch.randn(64, *base.map_shape).relu()) for _ in range(2))
        forward = compile_(generator)

        def loss_of():
            return pdsn_loss(base, forward, clean, occluded, labels, config["mask_generator"]["lambda_diff"])["loss"]
        items = 64
    elif job == "base CNN":
        model = device.model(BaseCNN(classes, stride)).train()
        optimiser = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        images, forward = device.images(torch.randn(64, 3, 128, 96)), compile_(model)

        def loss_of():
            return F.cross_entropy(model.head(forward(images), labels).float(), labels)
        items = 64
    else:
        model = device.model(build_segmenter(config["segmenter"]["encoder"])).train()
        optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3)
        images, forward = device.images(torch.randn(32, 3, 128, 96)), compile_(model)
        targets = (torch.rand(32, 1, 128, 96) > 0.7).float()

        def loss_of():
            return F.binary_cross_entropy_with_logits(forward(images).float(), targets)
        items = 32

    def step():
        with device.autocast():
            loss = loss_of()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    return step, items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="lfw")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile (minutes of compiling)")
    args = parser.parse_args()
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    chosen = choose_device(config["base_cnn"]["precision"])
    settings = {"fp32 eager": (Device(torch.device("cpu")), False),
                "fp32 channels_last": (Device(torch.device("cpu"), None, True), False)}
    if chosen not in [device for device, _ in settings.values()]:  # measured once: identical settings differ by noise
        settings[f"chosen ({chosen.precision}{', channels_last' if chosen.channels_last else ''})"] = (chosen, False)
    if not args.no_compile:
        settings[f"chosen ({chosen.precision}) + torch.compile"] = (chosen, True)
    print(f"machine: {machine()['description']}; torch {torch.__version__}")
    for job in ("base CNN", "segmenter", "mask generator"):
        baseline = chosen_seconds = None
        for name, (device, compiled) in settings.items():
            step, items = make_step(job, config, device, compiled)
            first, seconds = timed_steps(step, args.steps, args.warmup)
            rate = items / seconds
            baseline = baseline or rate
            extra = ""
            if compiled:  # against the chosen setting uncompiled
                saved = chosen_seconds - seconds
                extra = (f", first step {first:.1f} s (compiling)" + (
                    f", pays back after {(first - seconds) / saved:.0f} steps" if saved > 0 else ", never pays back"))
            elif device == chosen:
                chosen_seconds = seconds
            print(f"{job:<15} {name:<34} {rate:8.1f} img/s  {rate / baseline:5.2f}x fp32 eager{extra}")
    for rule in ("base_cnn", "segmenter"):
        times = [float(pd.read_csv(p, sep="\t")["s"].iloc[-1]) / 60
                 for p in sorted(dataset_dir(args.dataset, REPO).glob(f"seed*/benchmarks/{rule}.tsv"))]
        print(f"{args.dataset} {rule} training wall time per seed (min): "
              + (", ".join(f"{t:.1f}" for t in times) if times else "no benchmark files yet"))


if __name__ == "__main__":
    main()
