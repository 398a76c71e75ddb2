"""What every training run needs: device and precision, seeds, early stopping, weights files.

Weights are written atomically and read with ``torch.load(weights_only=True)``, which refuses
pickled objects. Resumable checkpoints: ``occlusion_fr.models.checkpoints``.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from occlusion_fr.io import atomic_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Device:
    """Where tensors live and in which precision the convolutions run: ``dtype`` is the autocast
    dtype (None: fp32); weights, optimiser state and losses stay float32 in every case."""

    device: torch.device
    dtype: torch.dtype | None = None
    channels_last: bool = False

    @property
    def bf16(self) -> bool:
        return self.dtype == torch.bfloat16

    @property
    def precision(self) -> str:
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]

    def autocast(self):
        if self.dtype is not None:
            return torch.autocast(self.device.type, dtype=self.dtype)
        return contextlib.nullcontext()

    def grad_scaler(self) -> torch.amp.GradScaler:
        """fp16 gradients underflow without loss scaling; for fp32 and bf16 the scaler is off (a
        pass-through)."""
        return torch.amp.GradScaler(self.device.type, enabled=self.dtype == torch.float16)

    def hold(self, data: torch.Tensor) -> torch.Tensor:
        """A training set kept where the steps run: on a GPU the whole (uint8) set goes to GPU
        memory once, so batches are indexed there instead of copied each step; on the CPU it
        stays as it is."""
        return data.to(self.device) if self.device.type == "cuda" else data

    def images(self, batch: torch.Tensor) -> torch.Tensor:
        batch = batch.to(self.device, non_blocking=True)
        return batch.contiguous(memory_format=torch.channels_last) if self.channels_last else batch

    def model(self, module: torch.nn.Module) -> torch.nn.Module:
        module = module.to(self.device)
        return module.to(memory_format=torch.channels_last) if self.channels_last else module


PRECISIONS = ("auto", "bf16", "fp16", "fp32")


def choose_device(precision: str = "auto") -> Device:
    """A CUDA GPU when present: bf16 autocast where the GPU has bf16 (Ampere and newer), else fp16
    with loss scaling, channels_last, cuDNN's autotuner. On a CPU, bf16 autocast with
    channels_last when the CPU supports bf16 and runs it at least ``BF16_MIN_SPEEDUP`` times as
    fast as fp32 (``cpu_bf16_speedup``; occlusion_fr_tooling/train_throughput.py measured 2.3-2.5x
    with AMX, 1.75x on AMD's avx512_bf16, 0.53-0.80x on an Intel CPU with AMX hidden), else fp32."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if torch.cuda.is_available():
        torch.backends.cudnn.benchmark = True  # fixed 128x96 shapes: autotuning pays after a few batches
        dtype = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}.get(
            precision, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
        return Device(torch.device("cuda"), dtype, True)
    if precision == "fp16":
        raise ValueError("precision fp16 needs a CUDA GPU; on a CPU use auto, bf16 or fp32")
    bf16 = precision == "bf16" or (precision == "auto" and cpu_bf16_supported() and cpu_bf16_pays_off())
    return Device(torch.device("cpu"), torch.bfloat16 if bf16 else None, bf16)


def cpu_bf16_supported() -> bool:
    return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


BF16_MIN_SPEEDUP = 1.2  # bf16 autocast must beat fp32 by this much to be chosen


@functools.lru_cache(maxsize=1)
def cpu_bf16_speedup(repeats: int = 5) -> float:
    """fp32 time over bf16-autocast time of one 3x3 convolution of the base CNN's deeper stages
    (256 channels on a 16x12 map, batch 32), best of ``repeats``; timed once per process.

    Supporting bf16 is not running it fast: with AMX, and on AMD's avx512_bf16, bf16 trained
    the stages 1.75x and more faster than fp32, but on an Intel Xeon whose AMX the hypervisor
    hides (oneDNN on AVX 10.1) it trained them at 0.53-0.80x (occlusion_fr_tooling/train_throughput.py)."""
    conv = torch.nn.Conv2d(256, 256, 3, padding=1)
    x = torch.randn(32, 256, 16, 12)
    settings = {"fp32": (conv, x, contextlib.nullcontext),
                "bf16": (copy.deepcopy(conv).to(memory_format=torch.channels_last),  # .to is in place: a copy
                         x.contiguous(memory_format=torch.channels_last),
                         lambda: torch.autocast("cpu", dtype=torch.bfloat16))}
    timings = {}
    for name, (model, data, context) in settings.items():
        best = float("inf")
        with torch.no_grad(), context():
            model(data)  # warm-up: oneDNN picks and caches its kernel
            for _ in range(repeats):
                start = time.perf_counter()
                model(data)
                best = min(best, time.perf_counter() - start)
        timings[name] = best
    return timings["fp32"] / timings["bf16"]


def cpu_bf16_pays_off() -> bool:
    speedup = cpu_bf16_speedup()
    log.info("bf16 autocast against fp32 on this CPU: %.2fx (chosen from %.1fx)", speedup, BF16_MIN_SPEEDUP)
    return speedup >= BF16_MIN_SPEEDUP


def machine() -> dict:
    """Where a training ran (recorded beside its metrics and run times, so reported times name
    their machine). The CPU's vector capability decides the speed: with AVX2 only there is no
    native bf16 and training runs in fp32, about 3x slower than on a CPU with avx512_bf16 or AMX.
    AMX is named apart (the ``amx_bf16`` CPU flag): the same "Intel(R) Xeon(R) Processor" name
    and capability AVX512 trained the base CNN at 44-48 s per epoch with AMX and ~204 s where
    the hypervisor hid it (oneDNN then runs AVX 10.1)."""
    cpu, flags = "unknown CPU", set()
    with contextlib.suppress(OSError):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
        cpu = names[0] if names else cpu
        flags = set(next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), []))
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    threads = torch.get_num_threads()
    capability, bf16, amx = torch.backends.cpu.get_cpu_capability(), cpu_bf16_supported(), "amx_bf16" in flags
    description = (f"{threads} CPU threads ({cpu}; {capability}{' + AMX' if amx else ''}, "
                   f"{'bf16' if bf16 else 'no bf16'})" + (f" and a {gpu}" if gpu else ", no GPU"))
    return {"cpu": cpu, "torch_threads": threads, "cpu_capability": capability, "cpu_amx": amx, "cpu_bf16": bf16,
            "gpu": gpu, "description": description}


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def save_checkpoint(path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_weights(path, map_location="cpu") -> dict:
    """Load a state dict (or checkpoint) with ``weights_only=True``; pickled objects are refused."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: no such weights file")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises UnpicklingError (and others) for non-weight content
        # torch's message advises weights_only=False, which would run the file's code: only its
        # diagnosis is quoted.
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        diagnosis = next((line for line in lines if line.startswith("WeightsUnpickler error")),
                         lines[0] if lines and "weights_only" not in lines[0] else "")
        raise ValueError(f"{path}: not a plain weights file ({type(error).__name__}"
                         f"{': ' + diagnosis if diagnosis else ''}). It is damaged, or it holds pickled Python "
                         "objects, which are never loaded (they could run code); recreate it with this "
                         "pipeline.") from None


def load_into(module: torch.nn.Module, path, map_location="cpu") -> torch.nn.Module:
    """Load the weights file ``path`` into ``module``; a file of another model or shape is
    refused with an error naming the file and what does not fit."""
    state = load_weights(path, map_location)
    try:
        module.load_state_dict(state)
    except RuntimeError as error:
        problems = " ".join(str(error).split())
        raise ValueError(f"{path}: these weights do not fit a {type(module).__name__} ({problems[:600]}); "
                         "is it another model's file, or one of another configuration?") from None
    return module


@dataclass
class EarlyStopping:
    """Stop after ``patience`` epochs without improving the validation metric by ``min_delta``."""

    patience: int
    min_delta: float = 1e-4
    best: float = -float("inf")
    best_epoch: int = -1
    history: list = field(default_factory=list)

    def update(self, epoch: int, metric: float) -> bool:
        """Record an epoch; True when it is the best so far."""
        improved = metric > self.best + self.min_delta
        if improved:
            self.best, self.best_epoch = metric, epoch
        return improved

    def should_stop(self, epoch: int) -> bool:
        """Asked before running ``epoch``: have ``patience`` epochs passed without improving?"""
        return epoch - self.best_epoch - 1 >= self.patience

    def epochs(self, start: int, stop: int):
        """Epoch numbers from ``start`` until ``stop`` or until patience runs out."""
        for epoch in range(start, stop):
            if self.best_epoch >= 0 and self.should_stop(epoch):
                return
            yield epoch

    def state_dict(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.best_epoch = float(state["best"]), int(state["best_epoch"])
