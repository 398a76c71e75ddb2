"""Mask-generator training throughput: how the pairs' feature maps are stored and laid out.

The generators train on cached (clean, occluded) feature-map pairs. This times PDSN training
steps on random 512x8x6 maps with the chosen device's bf16 autocast, with the maps (a) stored as
bfloat16 and cast per batch to float32 channels_last (as before), (b) stored as float32 in the
default layout (what `train_mask_generator` does), and prints pairs per second and the ratio;
on a CPU with bf16, also (c): (b) under fp32 eager, whether bf16 autocast pays for this stage here.
Usage: python -m occlusion_fr_tooling.mask_generator_throughput [--pairs 640]
"""

from __future__ import annotations

import argparse
import time

import torch

from occlusion_fr.masking.generator import MaskGenerator, pdsn_loss
from occlusion_fr.models.base_cnn import BaseCNN
from occlusion_fr.models.training import choose_device, machine


def pairs_per_second(base, clean, occluded, labels, to_batch, channels_last: bool, device, batch: int = 64,
                     rounds: int = 2) -> float:
    torch.manual_seed(0)
    generator = MaskGenerator(clean.shape[1])
    if channels_last:
        generator = generator.to(memory_format=torch.channels_last)
    optimiser = torch.optim.Adam(generator.parameters(), lr=1e-3)
    best = 0.0
    for round_ in range(rounds + 1):  # the first round warms up
        started = time.perf_counter()
        for start in range(0, len(labels), batch):
            with device.autocast():
                terms = pdsn_loss(base, generator, to_batch(clean[start:start + batch]),
                                  to_batch(occluded[start:start + batch]), labels[start:start + batch], 10.0)
            optimiser.zero_grad()
            terms["loss"].backward()
            optimiser.step()
        if round_:
            best = max(best, len(labels) / (time.perf_counter() - started))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=640)
    args = parser.parse_args()
    device = choose_device("auto")
    base = BaseCNN(158).eval()
    for parameter in base.parameters():
        parameter.requires_grad_(False)
    clean = torch.randn(args.pairs, 512, 8, 6).relu().bfloat16()
    occluded = torch.randn(args.pairs, 512, 8, 6).relu().bfloat16()
    labels = torch.randint(0, 158, (args.pairs,))
    before = pairs_per_second(base.to(memory_format=torch.channels_last), clean, occluded, labels,
                              lambda x: x.float().contiguous(memory_format=torch.channels_last), True, device)
    after = pairs_per_second(base.to(memory_format=torch.contiguous_format), clean.float(), occluded.float(), labels,
                             lambda x: x, False, device)
    print(f"mask generator ({device.device}, {device.precision}): bf16 maps -> channels_last batches "
          f"{before:.0f} pairs/s, float32 maps in the default layout {after:.0f} pairs/s, ratio {after / before:.2f}x")
    if device.bf16:  # precision auto chose bf16 autocast: is it worth it for this stage on this CPU?
        fp32 = pairs_per_second(base, clean.float(), occluded.float(), labels, lambda x: x, False,
                                choose_device("fp32"))
        print(f"mask generator, float32 maps in the default layout: fp32 eager {fp32:.0f} pairs/s, "
              f"{device.precision} autocast {after:.0f} pairs/s, ratio {after / fp32:.2f}x ({machine()['description']})")


if __name__ == "__main__":
    main()
