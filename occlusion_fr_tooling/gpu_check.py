"""One LFW seed on a CUDA GPU with the pipeline's GPU settings, and its stage times.

First a preflight: the device and precision `choose_device` picks (bf16 autocast where the GPU
has bf16, else fp16 with loss scaling; channels_last; cuDNN's autotuner) and the images per
second of one training step of the base CNN, the segmenter and a mask generator there. Then the
Snakemake workflow for one seed of the config overlay (by `make gpu-pack`: LFW's 158 people as
the image-folder dataset lfw_gpu), stopped after --minutes; then the stage times of the jobs
that finished (their Snakemake benchmark files), printed and written to OUT/gpu_stage_times.csv.
Usage (occlusion_fr_tooling/gpu_check.sh calls it): python -m occlusion_fr_tooling.gpu_check --configfile F [--minutes 8]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import torch
import yaml

from occlusion_fr.models.training import choose_device, machine
from occlusion_fr.results_layout import dataset_dir, seed_dir
from occlusion_fr_tooling.stage_times import benchmark_table, rule_stages, stage_order, stage_summary
from occlusion_fr_tooling.train_throughput import make_step, timed_steps

REPO = Path(__file__).resolve().parents[1]


def preflight(config: dict) -> None:
    device = choose_device("auto")
    print(f"{machine()['description']}; torch {torch.__version__}; {device.device} {device.precision}, "
          f"channels_last {device.channels_last}, cudnn.benchmark {torch.backends.cudnn.benchmark}")
    for job in ("base CNN", "segmenter", "mask generator"):
        step, items = make_step(job, config, device, compiled=False)
        first, seconds = timed_steps(lambda: (step(), torch.cuda.synchronize()), steps=20, warmup=5)
        print(f"  {job:<15} {items / seconds:9.1f} img/s (first step {first:.2f} s)")


def run_workflow(configfile: Path, minutes: float) -> int:
    command = [sys.executable, "-m", "snakemake", "--cores", str(os.cpu_count()), "--scheduler", "greedy",
               "--configfile", str(configfile), "--keep-going"]
    print("running:", " ".join(command), flush=True)
    started = time.time()
    process = subprocess.Popen(command, cwd=REPO)
    try:
        code = process.wait(timeout=minutes * 60)
    except subprocess.TimeoutExpired:
        process.terminate()
        code = process.wait()
        print(f"stopped after {minutes} min, as asked")
    print(f"workflow: exit {code} after {(time.time() - started) / 60:.1f} min")
    return code


def stage_times(dataset: str, seed: int, out: Path) -> None:
    stages = rule_stages(REPO / "rules")
    folders = [dataset_dir(dataset, REPO) / "benchmarks", seed_dir(dataset_dir(dataset, REPO), seed) / "benchmarks"]
    tables = [benchmark_table(folder, stages) for folder in folders if folder.is_dir()]
    if not tables:
        print("no job finished")
        return
    table = pd.concat(tables, ignore_index=True)
    print(f"{len(table)} jobs finished, {table['seconds'].sum() / 60:.1f} min of job time:")
    for row in stage_summary(table, stage_order(REPO / "Snakefile")).itertuples(index=False):
        print(f"  {row.stage:<12} {row.jobs:>3} jobs {row.seconds / 60:6.1f} min   slowest {row.slowest_job} "
              f"{row.slowest_seconds:.0f} s")
    out.mkdir(parents=True, exist_ok=True)
    table.assign(machine=machine()["description"]).to_csv(out / "gpu_stage_times.csv", index=False)
    print(f"written: {out / 'gpu_stage_times.csv'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", type=Path, required=True, help="the config overlay (make gpu-pack)")
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--out", type=Path, default=REPO / "results" / "gpu_check")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("gpu_check: torch sees no CUDA GPU here; this check is for a machine with one")
    overlay = yaml.safe_load(args.configfile.read_text())
    config = {**yaml.safe_load((REPO / "config.yaml").read_text()), **overlay}
    preflight(config)
    run_workflow(args.configfile, args.minutes)
    stage_times(overlay["dataset"], overlay["seeds"][0], args.out)


if __name__ == "__main__":
    main()
