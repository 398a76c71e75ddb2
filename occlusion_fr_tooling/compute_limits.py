"""This machine's limit and how far each training stage is from it (`make bench`).

Times the kernels that matter (a 2048^3 matmul, the 3x3 convolutions of ResNet34's stages at
128x96 and of the mask generators on the 8x6 map) in fp32 and, where the CPU has it, bf16;
then one step of each training stage in the setting the pipeline chooses (``precision: auto``),
its floating-point work per image (counted by torch's FlopCounterMode, forward and backward), the
images per second and the share of the peak. Writes the table to
results/compute_limits/{capability}.csv (docs/performance.md renders it) with the recorded LFW
stage times (the longest committed seed, on the machine that ran it) beside it.
Usage: python -m occlusion_fr_tooling.compute_limits [--quick]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
import yaml
from torch.utils.flop_counter import FlopCounterMode

from occlusion_fr.io import write_csv
from occlusion_fr.models.base_cnn import BaseCNN
from occlusion_fr.models.training import choose_device, machine
from occlusion_fr.results_layout import compute_limits_csv
from occlusion_fr_tooling.train_throughput import make_step

REPO = Path(__file__).resolve().parents[1]


def count_flops(step: Callable[[], object]) -> int:
    """Floating-point operations (a multiply-add is 2) of one call of ``step``: matmuls and
    convolutions, forward and, when ``step`` calls backward, backward."""
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


def seconds_per_call(step: Callable[[], object], warmup: int = 2, repeats: int = 5, min_seconds: float = 0.5) -> float:
    """Best wall seconds of one call over ``repeats`` timed rounds (each at least ``min_seconds``
    long, after ``warmup`` calls): the best round is the least disturbed by anything else."""
    for _ in range(warmup):
        step()
    best = float("inf")
    for _ in range(repeats):
        calls, started = 0, time.perf_counter()
        while True:
            step()
            calls += 1
            elapsed = time.perf_counter() - started
            if elapsed >= min_seconds:
                break
        best = min(best, elapsed / calls)
    return best


@dataclass(frozen=True)
class Rate:
    name: str
    flops: int  # per call
    seconds: float  # per call
    items: int = 1  # images (or pairs) per call

    @property
    def gflops_per_second(self) -> float:
        return self.flops / self.seconds / 1e9

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds


def measure(name: str, step: Callable[[], object], items: int = 1, **timing) -> Rate:
    return Rate(name, count_flops(step), seconds_per_call(step, **timing), items)


def matmul_kernel(size: int, dtype: torch.dtype) -> Callable[[], object]:
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    return lambda: a @ b


def conv3x3_kernel(batch: int, channels: int, height: int, width: int, dtype: torch.dtype,
                   channels_last: bool) -> Callable[[], object]:
    """Forward of a channels -> channels 3x3 convolution (padding 1) in ``dtype``."""
    conv = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False).to(dtype)
    x = torch.randn(batch, channels, height, width, dtype=dtype)
    if channels_last:
        conv, x = conv.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)

    @torch.no_grad()
    def step():
        return conv(x)

    return step


def share_of_peak(rate: Rate, peak_gflops: float) -> float:
    return rate.gflops_per_second / peak_gflops


# (name, batch, channels, height, width): ResNet34's stages on a 128x96 crop (layer4 at output
# stride 16, as configured), and the generator's convolution on the 8x6 map.
CONVOLUTIONS = [("ResNet34 layer1 3x3", 64, 64, 32, 24), ("ResNet34 layer2 3x3", 64, 128, 16, 12),
                ("ResNet34 layer3 3x3", 64, 256, 8, 6), ("layer4 / mask generator 3x3", 64, 512, 8, 6)]


def kernel_rates(bf16: bool, timing: dict) -> list[dict]:
    rows = []
    dtypes = [("fp32", torch.float32, False)] + ([("bf16", torch.bfloat16, True)] if bf16 else [])
    for precision, dtype, channels_last in dtypes:
        rate = measure(f"matmul 2048^3 {precision}", matmul_kernel(2048, dtype), **timing)
        rows.append({"kind": "kernel", "name": rate.name, "precision": precision,
                     "gflops_per_second": rate.gflops_per_second})
        for name, *shape in CONVOLUTIONS:
            rate = measure(f"{name} {precision}", conv3x3_kernel(*shape, dtype, channels_last), **timing)
            rows.append({"kind": "kernel", "name": rate.name, "precision": precision,
                         "gflops_per_second": rate.gflops_per_second})
    return rows


def training_steps(config: dict, device) -> dict:
    """Stage name -> (one step's callable, images per step): the three trainings' steps as
    train_throughput.py builds them, and the frozen base CNN's embedding of a batch."""
    steps = {f"{job} training step" + (" (pairs)" if job == "mask generator" else ""):
             make_step(job, config, device, compiled=False) for job in ("base CNN", "segmenter", "mask generator")}
    frozen = device.model(BaseCNN(158, config["base_cnn"]["output_stride"])).eval()
    eval_images = device.images(torch.randn(256, 3, 128, 96))

    @torch.no_grad()
    def embed_step():
        with device.autocast():
            frozen(eval_images)

    return {**steps, "base CNN embedding (validation, feature maps)": (embed_step, 256)}


# The Snakemake rules whose job times are each stage's on LFW (results/lfw/seed*/benchmarks).
STAGE_RULES = {"base CNN training step": ["base_cnn"], "segmenter training step": ["segmenter"],
               "mask generator training step (pairs)": ["mask_generator"],
               "base CNN embedding (validation, feature maps)": ["feature_maps"]}


def recorded_minutes(rules: list[str]) -> float | None:
    """The rules' summed job minutes in the longest committed LFW seed (a resumed training's
    benchmark covers only its last part, so the longest seed is the whole one)."""
    totals = []
    for folder in sorted((REPO / "results" / "lfw").glob("seed*/benchmarks")):
        paths = [p for rule in rules for p in folder.glob(f"{rule}*.tsv") if p.stem == rule or p.stem.startswith(rule + "_")]
        if paths:
            totals.append(sum(float(pd.read_csv(p, sep="\t")["s"].iloc[-1]) for p in paths) / 60)
    return max(totals, default=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short timing round per measurement (a smoke run; its numbers are not representative)")
    parser.add_argument("--output", type=Path, help="CSV to write (default: results/compute_limits/{capability}.csv)")
    args = parser.parse_args()
    timing = {"warmup": 1, "repeats": 1, "min_seconds": 0.0} if args.quick else {}
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    where = machine()
    device = choose_device(config["base_cnn"]["precision"])
    precision = "bf16" if device.bf16 else "fp32"
    print(f"machine: {where['description']}; torch {torch.__version__}; stages run in {precision}"
          f"{' channels_last' if device.channels_last else ''}")
    rows = kernel_rates(where["cpu_bf16"], timing)
    peak = {p: max(r["gflops_per_second"] for r in rows if r["precision"] == p) for p in {r["precision"] for r in rows}}
    print("kernels (GFLOP/s):")
    for row in rows:
        print(f"  {row['name']:<40} {row['gflops_per_second']:8.1f}")
    print(f"peak: " + ", ".join(f"{p} {v:.1f} GFLOP/s" for p, v in sorted(peak.items())))
    print(f"{'stage':<46} {'GFLOP/img':>9} {'img/s':>8} {'GFLOP/s':>8} {'of peak':>8} {'LFW min':>8}")
    for name, (step, items) in training_steps(config, device).items():
        rate = measure(name, step, items, **timing)
        minutes = recorded_minutes(STAGE_RULES[name])
        row = {"kind": "stage", "name": name, "precision": precision, "gflops_per_second": rate.gflops_per_second,
               "gflops_per_image": rate.flops / items / 1e9, "images_per_second": rate.items_per_second,
               "share_of_peak": rate.gflops_per_second / peak[precision], "lfw_minutes": minutes}
        rows.append(row)
        print(f"  {name:<44} {row['gflops_per_image']:9.2f} {row['images_per_second']:8.1f} "
              f"{row['gflops_per_second']:8.1f} {100 * row['share_of_peak']:7.1f}% "
              f"{'' if minutes is None else f'{minutes:8.1f}'}")
    table = pd.DataFrame(rows).assign(machine=where["description"], torch=torch.__version__)
    output = args.output or compute_limits_csv(where["cpu_capability"], REPO)
    write_csv(output, table)
    print(f"written: {output}")


if __name__ == "__main__":
    main()
