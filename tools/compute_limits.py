"""How far a training stage runs from this machine's limit: the floating-point work of one step
(counted by torch's FlopCounterMode, forward and backward), the best rate of the kernels that
matter (large matmuls, the 3x3 convolutions of ResNet34 and of the mask generators), and the
rate a stage's steps achieve. Used by benchmarks/compute_limits.py (`make bench`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode


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
