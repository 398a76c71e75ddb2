"""The occlusion segmenter (paper sections 4.2 and 5.2): a U-Net that marks occluded pixels.

It trains on the occluded training sets and on the clean training crops (whose label is
empty, so that it learns to leave unoccluded faces alone), selects its weights on the
validation sets by the IoU of the occluded class, and is scored on the test sets per
occlusion type: pixel accuracy and occluded-class IoU against the derived labels and
against the renderers' exact masks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm import tqdm

from occlusion_fr.io import fingerprint
from occlusion_fr.markdown import markdown_table
from occlusion_fr.models.checkpoints import Checkpointer, data_digest
from occlusion_fr.models.data import load_images, load_masks, normalise
from occlusion_fr.models.epochs import optimisation_step, train_epochs
from occlusion_fr.models.segmenter import build_segmenter, predict
from occlusion_fr.models.training import Device, EarlyStopping, choose_device, seed_everything

log = logging.getLogger(__name__)
CLEAN = "clean"


@dataclass
class SegmentationData:
    images: torch.Tensor  # (N, 3, H, W) uint8
    labels: torch.Tensor  # (N, 1, H, W) float 0/1 (training target)
    exact: torch.Tensor | None  # renderer masks where known (evaluation)
    occlusion: np.ndarray  # occlusion name per row ("clean" for unoccluded crops)


def load_sets(split_table: pd.DataFrame, split: str, occlusions: list[str], sets_dir, crops_dir,
              label_source: str, with_exact: bool = False) -> SegmentationData:
    """Occluded crops of ``split`` for each occlusion plus the clean crops (empty labels).

    ``label_source``: "derived" (|original - occluded| labels, as the paper) or "exact"."""
    sets_dir = Path(sets_dir)
    images, labels, exact, names = [], [], [], []
    for occlusion in occlusions:
        index = pd.read_csv(sets_dir / split / f"{occlusion}.csv", keep_default_na=False)
        folder = sets_dir / split / occlusion
        images.append(load_images(folder / "images", index["occluded"], desc=f"{split}/{occlusion}"))
        exact_labels = label_source == "exact"
        labels.append(load_masks(folder / ("exact" if exact_labels else "labels"),
                                 index["exact" if exact_labels else "label"]))
        if with_exact:
            known = index["exact"].astype(bool).all()
            exact.append(load_masks(folder / "exact", index["exact"]) if known else torch.full_like(labels[-1], -1))
        names += [occlusion] * len(index)
    crops = split_table.loc[split_table["split"] == split, "crop"]
    images.append(load_images(crops_dir, crops, desc=f"{split}/clean"))
    labels.append(torch.zeros(len(crops), 1, *images[-1].shape[2:]))
    if with_exact:
        exact.append(labels[-1].clone())
    names += [CLEAN] * len(crops)
    return SegmentationData(torch.cat(images), torch.cat(labels), torch.cat(exact) if with_exact else None,
                            np.array(names))


def pixel_scores(predicted: torch.Tensor, truth: torch.Tensor) -> dict:
    """Pixel accuracy and occluded-class IoU, pooled over all pixels (IoU undefined without
    occluded pixels, as on clean crops: there ``predicted_share`` is the false-positive rate)."""
    truth = truth > 0.5
    union = (predicted | truth).sum().item()
    return {"pixel_accuracy": (predicted == truth).float().mean().item(),
            "iou": (predicted & truth).sum().item() / union if truth.any() else float("nan"),
            "predicted_share": predicted.float().mean().item(), "true_share": truth.float().mean().item()}


def _loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy plus soft Dice (keeps small occlusions from being ignored)."""
    logits = logits.float()
    probability = torch.sigmoid(logits)
    dice = 1 - (2 * (probability * target).sum() + 1) / (probability.sum() + target.sum() + 1)
    return F.binary_cross_entropy_with_logits(logits, target) + dice


def train_segmenter(split_table: pd.DataFrame, sets_dir, crops_dir, occlusion_sets: dict, settings: dict, seed: int,
                    checkpoint_dir, device: Device | None = None) -> dict:
    device = device or choose_device(settings["precision"])
    seed_everything(seed)
    train = load_sets(split_table, "train", occlusion_sets["train"], sets_dir, crops_dir, settings["labels"])
    val = load_sets(split_table, "val", occlusion_sets["val"], sets_dir, crops_dir, settings["labels"])
    pick = np.random.default_rng(seed).permutation(len(val.images))[:settings["val_samples"]]
    val_images, val_labels = val.images[pick], val.labels[pick]

    model = device.model(build_segmenter(settings["encoder"]))
    epochs, batch_size = settings["max_epochs"], settings["batch_size"]
    steps = max(1, min(settings["samples_per_epoch"], len(train.images)) // batch_size)
    optimiser = torch.optim.AdamW(model.parameters(), lr=settings["lr"], weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=settings["lr"], total_steps=epochs * steps,
                                                   pct_start=0.1)
    stopper = EarlyStopping(settings["patience"])
    run = Checkpointer(checkpoint_dir, {
        "settings": fingerprint({"settings": settings, "seed": seed, "sets": occlusion_sets}),
        "data": data_digest(train.images, train.labels, val_images, val_labels)})
    parts_of_run = {"model": model, "optimiser": optimiser, "schedule": schedule, "stopper": stopper}
    with run:
        history = _train(model, run, parts_of_run, train, val_images, val_labels, device, settings, seed, steps)
        run.load_best_into(model)
    return {"history": history, "best_epoch": stopper.best_epoch + 1, "val_iou": stopper.best,
            "encoder": settings["encoder"], "device": str(device.device), "precision": device.precision,
            "model": model}


def _train(model, run: Checkpointer, parts_of_run: dict, train: SegmentationData, val_images: torch.Tensor,
           val_labels: torch.Tensor, device: Device, settings: dict, seed: int, steps: int) -> list[dict]:
    """The epochs still to run (all, unless an unfinished training resumes); returns the
    history. The best weights are in ``run.best_weights``."""
    optimiser, schedule, stopper = parts_of_run["optimiser"], parts_of_run["schedule"], parts_of_run["stopper"]
    epochs, batch_size = settings["max_epochs"], settings["batch_size"]
    scaler = device.grad_scaler()
    images_of, labels_of = device.hold(train.images), device.hold(train.labels)

    def train_epoch(epoch: int) -> dict:
        model.train()
        generator = torch.Generator().manual_seed(seed * 1000 + epoch)
        order = torch.randperm(len(train.images), generator=generator)[:steps * batch_size]
        total = 0.0
        progress = tqdm(range(steps), desc=f"epoch {epoch + 1}/{epochs}", unit="batch")
        for step in progress:
            index = order[step * batch_size:(step + 1) * batch_size].to(images_of.device)
            images, target = normalise(images_of[index]), labels_of[index]
            flip = (torch.rand(len(index), generator=generator) < 0.5).to(images.device)
            images = torch.where(flip[:, None, None, None], images.flip(3), images)
            target = torch.where(flip[:, None, None, None], target.flip(3), target)
            with device.autocast():
                logits = model(device.images(images))
            loss = _loss(logits, target.to(device.device))
            optimisation_step(optimiser, loss, schedule, scaler)
            total += loss.item()
            progress.set_postfix(loss=f"{total / (step + 1):.3f}")
        return {"loss": total / steps}

    def validate() -> tuple[float, dict]:
        scores = pixel_scores(predict(model, val_images, device), val_labels)
        return scores["iou"], {"val_iou": scores["iou"], "val_pixel_accuracy": scores["pixel_accuracy"]}

    history, start_epoch = run.resume_into(parts_of_run)
    return train_epochs(
        stopper, epochs, train_epoch, validate, start_epoch=start_epoch, history=history,
        extra=lambda: {"lr": schedule.get_last_lr()[0]},
        describe=lambda h: f"loss {h['loss']:.3f}, val IoU {h['val_iou']:.4f}, pixel accuracy {h['val_pixel_accuracy']:.4f}",
        after_epoch=lambda epoch, history, improved: run.save(parts_of_run, history, epoch, improved))


def evaluate_segmenter(model, split_table: pd.DataFrame, sets_dir, crops_dir, occlusions: list[str],
                       device: Device) -> tuple[pd.DataFrame, SegmentationData, torch.Tensor]:
    """Per test occlusion (and clean crops): scores against derived labels and exact masks."""
    test = load_sets(split_table, "test", occlusions, sets_dir, crops_dir, "derived", with_exact=True)
    predicted = predict(model, test.images, device)
    rows = []
    for occlusion in [*occlusions, CLEAN]:
        rows_of = torch.from_numpy(test.occlusion == occlusion)
        derived = pixel_scores(predicted[rows_of], test.labels[rows_of])
        exact = test.exact[rows_of]
        vs_exact = pixel_scores(predicted[rows_of], exact) if (exact >= 0).all() else {}
        rows.append({"occlusion": occlusion, "images": int(rows_of.sum()),
                     "pixel_accuracy": derived["pixel_accuracy"], "iou": derived["iou"],
                     "pixel_accuracy_exact": vs_exact.get("pixel_accuracy", float("nan")),
                     "iou_exact": vs_exact.get("iou", float("nan")),
                     "predicted_share": derived["predicted_share"], "true_share": derived["true_share"]})
    occluded = torch.from_numpy(test.occlusion != CLEAN)
    overall = pixel_scores(predicted[occluded], test.labels[occluded])
    rows.append({"occlusion": "all occluded", "images": int(occluded.sum()), **{
        k: overall[k] for k in ("pixel_accuracy", "iou", "predicted_share", "true_share")},
        "pixel_accuracy_exact": float("nan"), "iou_exact": float("nan")})
    return pd.DataFrame(rows), test, predicted


def segmenter_markdown(scores: pd.DataFrame, dataset: str) -> str:
    lines = [f"# Segmenter on the test split ({dataset})", "",
             "Pixel accuracy and IoU of the occluded class, pooled over each set's pixels, against the derived "
             "labels (as the paper) and against the renderers' exact masks. The paper reports 90.49% pixel "
             "accuracy.", ""]
    cells = [[r.occlusion, r.images, *(f"{100 * v:.2f}%" if not np.isnan(v) else "n/a"
                                       for v in (r.pixel_accuracy, r.iou, r.pixel_accuracy_exact, r.iou_exact,
                                                 r.predicted_share))] for r in scores.itertuples(index=False)]
    header = ["occlusion", "images", "pixel accuracy", "IoU", "pixel accuracy (exact)", "IoU (exact)", "predicted share"]
    return "\n".join([*lines, markdown_table(header, cells)]) + "\n"
