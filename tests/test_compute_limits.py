"""The limit benchmark's arithmetic: floating-point work counted by torch matches the formulas for
the kernels it times, forward and backward, and rates follow from work and time."""

import torch

from occlusion_fr_tooling.compute_limits import Rate, conv3x3_kernel, count_flops, matmul_kernel, seconds_per_call


def test_kernel_work_is_two_flops_per_multiply_add():
    assert count_flops(matmul_kernel(64, torch.float32)) == 2 * 64 ** 3
    batch, channels, height, width = 2, 8, 6, 4
    expected = 2 * batch * channels * channels * 9 * height * width
    assert count_flops(conv3x3_kernel(batch, channels, height, width, torch.float32, channels_last=True)) == expected


def test_a_training_step_counts_forward_and_backward():
    layer = torch.nn.Linear(32, 16, bias=False)
    x = torch.randn(4, 32)
    forward = count_flops(lambda: layer(x))
    both = count_flops(lambda: layer(x).sum().backward())
    assert forward == 2 * 4 * 32 * 16 and both == 2 * forward  # weight gradient; x needs none


def test_rates_follow_from_work_and_time():
    rate = Rate("x", flops=4_000_000_000, seconds=0.5, items=8)
    assert rate.gflops_per_second == 8.0 and rate.items_per_second == 16.0
    assert 0 < seconds_per_call(lambda: sum(range(100)), warmup=0, repeats=2, min_seconds=0.01) < 0.01
