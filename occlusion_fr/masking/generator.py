"""Mask generators trained in a pairwise differential Siamese network (PDSN, paper section 3.2).

For one region of a layout, a pair is a clean crop x and the same crop with that region
filled by a uniform block, x_occ. The frozen base CNN gives feature maps f(x) and f(x_occ);
the generator sees |f(x) - f(x_occ)| and outputs a mask M in (0, 1) of the map's shape.
Both masked maps go through the frozen embedding and LMCL head:

    loss = (CE(head(M f(x)), y) + CE(head(M f(x_occ)), y)) / 2 + lambda * mean |M f(x) - M f(x_occ)|

The classification term keeps the elements that identify people; the difference term
pushes the elements the block corrupts towards zero. Selection uses the validation loss,
which combines both (the paper trains "until the validation accuracy and MAE stagnate").

A layout's generators train in one job (:func:`train_layout_generators`), one region after the
other: the job loads the base CNN, the cached clean maps and the crops once, each region keeps
its own seed, checkpoint folder and outputs, so the results are those of one job per region
without its start-up cost (imports, model and data loading: most of a small run's time).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from occlusion_fr.io import fingerprint
from occlusion_fr.models.base_cnn import BaseCNN
from occlusion_fr.models.checkpoints import Checkpointer, data_digest
from occlusion_fr.models.data import load_images
from occlusion_fr.models.epochs import optimisation_step, train_epochs
from occlusion_fr.models.features import feature_maps
from occlusion_fr.models.training import Device, EarlyStopping, seed_everything
from occlusion_fr.occlusions.blocks import render_block

log = logging.getLogger(__name__)


class MaskGenerator(nn.Module):
    """Convolution (C -> C), PReLU, batch norm, sigmoid (paper section 3.2)."""

    def __init__(self, channels: int, kernel_size: int = 3):
        super().__init__()
        self.layers = nn.Sequential(nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2),
                                    nn.PReLU(channels), nn.BatchNorm2d(channels), nn.Sigmoid())

    def forward(self, difference: torch.Tensor) -> torch.Tensor:
        return self.layers(difference)


def pdsn_loss(base: BaseCNN, generator: MaskGenerator, clean: torch.Tensor, occluded: torch.Tensor,
              labels: torch.Tensor, lambda_diff: float) -> dict[str, torch.Tensor]:
    """Loss terms for a batch of float feature-map pairs; ``correct`` counts occluded probes
    classified right (cosine without margin)."""
    mask = generator((clean - occluded).abs())
    masked_clean, masked_occluded = mask * clean, mask * occluded
    logits_clean = base.head(base.embed(masked_clean), labels).float()
    logits_occluded = base.head(base.embed(masked_occluded), labels).float()
    classification = (F.cross_entropy(logits_clean, labels) + F.cross_entropy(logits_occluded, labels)) / 2
    difference = (masked_clean - masked_occluded).float().abs().mean()
    correct = (logits_occluded.argmax(1) == labels).sum()  # the margin only lowers the true class
    return {"loss": classification + lambda_diff * difference, "classification": classification,
            "mae": difference, "correct": correct, "mask": mask}


def block_images(crops: torch.Tensor, rows: pd.DataFrame) -> torch.Tensor:
    """uint8 crops (N, 3, H, W) with each row's block drawn (rows align with crops)."""
    out = np.empty_like(crops.numpy())
    for i, (grey, *box) in enumerate(rows[["grey", "x0", "y0", "x1", "y1"]].itertuples(index=False)):
        crop = np.ascontiguousarray(crops[i].permute(1, 2, 0).numpy())
        out[i] = render_block(crop, box, int(grey))[0].transpose(2, 0, 1)
    return torch.from_numpy(out)


def region_seed(seed: int, layout: str, region: str) -> int:
    return seed * 1_000_003 + zlib.crc32(f"{layout}/{region}".encode()) % 1_000_003


def _batches(n: int, batch_size: int, generator: torch.Generator | None):
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def _run_epoch(base, generator, pairs, settings, device: Device, optimiser=None, shuffle=None, scaler=None) -> dict:
    clean, occluded, labels = pairs
    training = optimiser is not None
    generator.train(training)
    totals = {"loss": 0.0, "classification": 0.0, "mae": 0.0, "correct": 0}
    with torch.set_grad_enabled(training):
        for index in _batches(len(labels), settings["batch_size"], shuffle):
            if training and len(index) < 2:  # batch norm needs two samples
                continue
            batch_clean = clean[index].to(device.device, non_blocking=True)
            batch_occluded = occluded[index].to(device.device, non_blocking=True)
            with device.autocast():
                terms = pdsn_loss(base, generator, batch_clean, batch_occluded, labels[index].to(device.device),
                                  settings["lambda_diff"])
            if training:
                optimisation_step(optimiser, terms["loss"], scaler=scaler)
            for key in ("loss", "classification", "mae"):
                totals[key] += terms[key].item() * len(index)
            totals["correct"] += int(terms["correct"])
    n = max(len(labels), 1)
    return {"loss": totals["loss"] / n, "classification": totals["classification"] / n, "mae": totals["mae"] / n,
            "accuracy": totals["correct"] / n}


class _Shuffle:
    """The training order's random stream, checkpointed with the training (a resumed training
    draws the batches the uninterrupted one would have)."""

    def __init__(self, seed: int):
        self.generator = torch.Generator().manual_seed(seed)

    def state_dict(self) -> dict:
        return {"state": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["state"])


def train_mask_generator(base: BaseCNN, train_pairs, val_pairs, settings: dict, seed: int, device: Device,
                         checkpoint_dir) -> dict:
    """Train one generator on (clean maps, occluded maps, labels) pairs; keep the weights with
    the lowest validation loss. ``checkpoint_dir`` holds its resumable checkpoint
    (occlusion_fr.models.checkpoints). Returns the record: history, best epoch, generator."""
    seed_everything(seed)
    run = Checkpointer(checkpoint_dir, {"settings": fingerprint({"settings": settings, "seed": seed}),
                                        "data": data_digest(*train_pairs, *val_pairs)})
    # float32 maps in the default memory format train 1.2-1.3x faster than bf16 maps cast per
    # batch to channels_last (occlusion_fr_tooling/mask_generator_throughput.py; the values are the same).
    train_pairs, val_pairs = ((device.hold(clean.float()), device.hold(occluded.float()), device.hold(labels))
                              for clean, occluded, labels in (train_pairs, val_pairs))
    generator = MaskGenerator(base.map_shape[0], settings["kernel_size"]).to(device.device)
    optimiser = torch.optim.Adam(generator.parameters(), lr=settings["lr"])
    stopper = EarlyStopping(settings["patience"])
    shuffle = _Shuffle(seed)
    parts_of_run = {"model": generator, "optimiser": optimiser, "stopper": stopper, "shuffle": shuffle}
    scaler = device.grad_scaler()

    def validate() -> tuple[float, dict]:
        val = _run_epoch(base, generator, val_pairs, settings, device)
        return -val["loss"], {f"val_{k}": v for k, v in val.items()}

    with run:
        history, start_epoch = run.resume_into(parts_of_run)
        history = train_epochs(
            stopper, settings["max_epochs"],
            lambda epoch: {f"train_{k}": v for k, v in
                           _run_epoch(base, generator, train_pairs, settings, device, optimiser, shuffle.generator,
                                      scaler).items()},
            validate, start_epoch=start_epoch, history=history,
            after_epoch=lambda epoch, history, improved: run.save(parts_of_run, history, epoch, improved),
            describe=lambda h: (f"train loss {h['train_loss']:.4f} (cls {h['train_classification']:.4f}, MAE "
                                f"{h['train_mae']:.4f}, acc {h['train_accuracy']:.3f}); val loss {h['val_loss']:.4f} "
                                f"(cls {h['val_classification']:.4f}, MAE {h['val_mae']:.4f}, acc "
                                f"{h['val_accuracy']:.3f})"))
        if run.best_weights is None:
            raise ValueError(f"mask generator: the validation loss was never finite over {len(history)} epochs "
                             "(check the base CNN's feature maps and mask_generator.lr)")
        run.load_best_into(generator)
    return {"history": history, "best_epoch": stopper.best_epoch + 1, "val_loss": -stopper.best,
            "val_accuracy": history[stopper.best_epoch]["val_accuracy"],
            "val_mae": history[stopper.best_epoch]["val_mae"], "generator": generator}


@torch.no_grad()
def mean_mask(generator: MaskGenerator, clean: torch.Tensor, occluded: torch.Tensor, device: Device,
              batch_size: int = 256) -> np.ndarray:
    """Mean of the generator's outputs over pairs, each output min-max normalised first
    (paper section 3.3). float32 array of the feature map's shape."""
    generator.eval()
    total = None
    for start in range(0, len(clean), batch_size):
        difference = (clean[start:start + batch_size].float() - occluded[start:start + batch_size].float()).abs()
        with device.autocast():
            masks = generator(device.images(difference)).float().cpu()
        flat = masks.flatten(1)
        low, high = flat.min(1, keepdim=True).values, flat.max(1, keepdim=True).values
        normalised = ((flat - low) / (high - low).clamp_min(1e-12)).view_as(masks)
        total = normalised.sum(0) if total is None else total + normalised.sum(0)
    return (total / len(clean)).numpy().astype(np.float32)


def split_crops(blocks: pd.DataFrame, split: str, crops_dir) -> tuple[dict[str, int], torch.Tensor]:
    """The crops of the ``split`` images that have blocks, loaded once for all of a layout's
    regions: (position by crop file name, uint8 crops (N, 3, H, W))."""
    names = list(dict.fromkeys(blocks.loc[blocks["split"] == split, "crop"]))
    return {name: i for i, name in enumerate(names)}, load_images(crops_dir, names, desc=f"{split} crops")


def region_pairs(model: BaseCNN, blocks: pd.DataFrame, split: str, region: str, clean_names: np.ndarray,
                 clean_maps: torch.Tensor, crops: tuple[dict[str, int], torch.Tensor], identities: list[str],
                 device: Device):
    """(clean maps, occluded maps, labels) for the ``split`` images of one region's blocks:
    the clean maps come from the shared cache, the occluded ones are computed here from
    ``crops`` (:func:`split_crops`)."""
    rows = blocks[(blocks["split"] == split) & (blocks["region"] == region)].reset_index(drop=True)
    if rows.empty:
        raise ValueError(f"no {split} blocks for region {region!r}")
    position = {name: i for i, name in enumerate(clean_names)}
    missing = sorted(set(rows["image"]) - set(position))
    if missing:
        raise ValueError(f"{len(missing)} {split} images have blocks but no cached feature map, e.g. {missing[0]}")
    label_of = {name: i for i, name in enumerate(identities)}
    crop_position, crop_pixels = crops
    region_crops = crop_pixels[torch.as_tensor([crop_position[name] for name in rows["crop"]])]
    occluded = feature_maps(model, block_images(region_crops, rows), device)
    clean = clean_maps[torch.as_tensor([position[name] for name in rows["image"]])]
    labels = torch.tensor([label_of[name] for name in rows["identity"]])
    return clean, occluded, labels


def train_layout_generators(base: BaseCNN, identities: list[str], blocks: pd.DataFrame, clean_maps: dict, crops_dir,
                            layout: str, regions: list[str], settings: dict, seed: int, device: Device,
                            checkpoints_dir) -> Iterator[tuple[str, dict, MaskGenerator, np.ndarray]]:
    """Train the generator of each of a layout's ``regions`` in turn; yield (region, record,
    generator, mean mask) as each finishes. ``clean_maps``: split -> (names, cached clean maps)
    for train and val; ``seed``: the run seed (each region derives its own, :func:`region_seed`);
    each region checkpoints in ``checkpoints_dir / region``."""
    crops = {split: split_crops(blocks, split, crops_dir) for split in ("train", "val")}
    for region in regions:
        pairs = {split: region_pairs(base, blocks, split, region, *clean_maps[split], crops[split], identities, device)
                 for split in ("train", "val")}
        own_seed = region_seed(seed, layout, region)
        log.info("%s/%s: %d training, %d validation pairs (seed %d)", layout, region, len(pairs["train"][2]),
                 len(pairs["val"][2]), own_seed)
        record = train_mask_generator(base, pairs["train"], pairs["val"], settings, own_seed, device,
                                      Path(checkpoints_dir) / region)
        generator = record.pop("generator")
        mean = mean_mask(generator, pairs["train"][0], pairs["train"][1], device)
        log.info("%s/%s: mean mask over %d training pairs: min %.3f, median %.3f, max %.3f", layout, region,
                 len(pairs["train"][2]), mean.min(), np.median(mean), mean.max())
        yield region, {"seed": own_seed, "train_pairs": len(pairs["train"][2]), "val_pairs": len(pairs["val"][2]),
                       **record}, generator, mean
