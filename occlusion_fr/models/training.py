"""What every training run needs: device and precision, seeds, safe checkpoints that resume.

A run keeps ``last.pt`` (everything needed to continue) in its checkpoint folder after each
epoch. Rerunning the same configuration continues from it; a different configuration
(another fingerprint) starts afresh. Files are written atomically and read with
``torch.load(weights_only=True)``, which refuses pickled objects.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from occlusion_fr.io import atomic_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Device:
    device: torch.device
    bf16: bool
    channels_last: bool

    def autocast(self):
        if self.bf16:
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def images(self, batch: torch.Tensor) -> torch.Tensor:
        batch = batch.to(self.device, non_blocking=True)
        return batch.contiguous(memory_format=torch.channels_last) if self.channels_last else batch

    def model(self, module: torch.nn.Module) -> torch.nn.Module:
        module = module.to(self.device)
        return module.to(memory_format=torch.channels_last) if self.channels_last else module


def choose_device(precision: str = "auto") -> Device:
    """CUDA when present; on CPU, bf16 autocast with channels_last when the CPU supports bf16
    (benchmarks/train_throughput.py measured 2.3-2.5x over fp32 on this project's CPU)."""
    if torch.cuda.is_available():
        return Device(torch.device("cuda"), precision in ("auto", "bf16"), True)
    bf16 = precision == "bf16" or (precision == "auto" and torch.backends.mkldnn.is_available()
                                   and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return Device(torch.device("cpu"), bf16, bf16)


def machine() -> dict:
    """Where a training ran (recorded beside its metrics, so reported times name their machine)."""
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    threads = torch.get_num_threads()
    description = f"{threads} CPU threads ({cpu})" + (f" and a {gpu}" if gpu else ", no GPU")
    return {"cpu": cpu, "torch_threads": threads, "gpu": gpu, "description": description}


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def fingerprint(settings: dict) -> str:
    """Identifies a configuration, so a checkpoint is only resumed by the run that wrote it."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]


def data_digest(*tensors: torch.Tensor) -> str:
    """Digest of the training data itself: files rewritten under the same names (a moved
    occlusion, another crop margin) must not resume a checkpoint trained on the old ones."""
    digest = hashlib.sha256()
    for tensor in tensors:
        digest.update(tensor.contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def save_checkpoint(path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_weights(path, map_location="cpu") -> dict:
    """Load a state dict (or checkpoint) with ``weights_only=True``; pickled objects are refused."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises UnpicklingError (and others) for non-weight content
        raise ValueError(f"{path}: not a plain weights file ({type(error).__name__}: {error})") from error


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


class Checkpointer:
    """``last.pt`` for resuming and ``best.pt`` (model weights only) in one folder."""

    def __init__(self, folder, run_fingerprint: str):
        self.folder = Path(folder)
        self.fingerprint = run_fingerprint

    @property
    def last(self) -> Path:
        return self.folder / "last.pt"

    @property
    def best(self) -> Path:
        return self.folder / "best.pt"

    def resume_into(self, parts: dict) -> tuple[list, int]:
        """Restore ``parts`` (objects with ``load_state_dict``: model, optimiser, schedule,
        stopper) and the random state from ``last.pt`` of this configuration, if any.
        Returns (history so far, first epoch to run)."""
        if not self.last.is_file():
            return [], 0
        state = load_weights(self.last)
        if state.get("fingerprint") != self.fingerprint:
            log.info("checkpoint %s belongs to another configuration: starting afresh", self.last)
            return [], 0
        for name, part in parts.items():
            part.load_state_dict(state[name])
        torch.set_rng_state(state["torch_rng"])
        log.info("resuming from %s after epoch %d", self.last, state["epoch"] + 1)
        return list(state["history"]), int(state["epoch"]) + 1

    def save(self, parts: dict, history: list, epoch: int, best_weights: dict | None) -> None:
        """Write ``best.pt`` (when there are new best weights) and then ``last.pt``."""
        if best_weights is not None:
            save_checkpoint(self.best, best_weights)
        state = {name: part.state_dict() for name, part in parts.items()}
        save_checkpoint(self.last, {**state, "torch_rng": torch.get_rng_state(), "history": history, "epoch": epoch,
                                    "fingerprint": self.fingerprint})
