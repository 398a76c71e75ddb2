"""Training the base CNN on clean crops, model selection on validation rank-1.

Validation rank-1 (probes: validation crops, gallery: training crops, cosine nearest
neighbour) drives early stopping and picks the kept weights; the test split is only
embedded once, after training, for the reported rank-1 and rank-5.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm import tqdm

from occlusion_fr.io import fingerprint
from occlusion_fr.metrics import rank_k_accuracy
from occlusion_fr.models.base_cnn import BaseCNN
from occlusion_fr.models.checkpoints import Checkpointer, data_digest
from occlusion_fr.models.data import augment, load_images, normalise
from occlusion_fr.models.epochs import optimisation_step, train_epochs
from occlusion_fr.models.occluders import TrainingOccluders, occluded_share
from occlusion_fr.models.training import Device, EarlyStopping, choose_device, seed_everything

log = logging.getLogger(__name__)
ARCHITECTURE_KEYS = ("output_stride", "head", "embedding_size", "dropout", "scale", "margin", "visible_rows")


def architecture(settings: dict) -> dict:
    """BaseCNN's arguments; a key left out of the settings (visible_rows of a whole-face model)
    takes BaseCNN's default, so weights recorded before the key existed still load."""
    return {key: settings[key] for key in ARCHITECTURE_KEYS if key in settings}


@torch.no_grad()
def embed(model: BaseCNN, images: torch.Tensor, device: Device, batch_size: int = 256, mask=None) -> np.ndarray:
    """Embeddings (float32) of uint8 images, in eval mode; ``mask`` multiplies the feature map."""
    model.eval()
    out = []
    for start in range(0, len(images), batch_size):
        batch = device.images(normalise(images[start:start + batch_size]))
        with device.autocast():
            out.append(model(batch, mask).float().cpu())
    return torch.cat(out).numpy()


def train_base_cnn(table: pd.DataFrame, crops_dir, settings: dict, seed: int, checkpoint_dir,
                   device: Device | None = None) -> dict:
    """Train, keep the best validation weights, evaluate on test. Returns the run's record:
    identities, architecture, per-epoch history, best epoch, test rank-1/rank-5, weights."""
    device = device or choose_device(settings["precision"])
    seed_everything(seed)
    identities = sorted(table["identity"].unique())
    label_of = {name: i for i, name in enumerate(identities)}
    parts = {s: table[table["split"] == s].reset_index(drop=True) for s in ("train", "val", "test")}
    images = {s: load_images(crops_dir, part["crop"], desc=f"load {s}") for s, part in parts.items()}
    occluders = None
    if settings.get("occluders", {}).get("rate", 0) > 0:
        occluders = TrainingOccluders.render(parts["train"], images["train"], settings["occluders"], seed)
        log.info("occluders: %s", occluders.summary())
    images = {s: device.hold(batch) for s, batch in images.items()}
    labels = {s: torch.tensor([label_of[i] for i in part["identity"]]) for s, part in parts.items()}

    model = device.model(BaseCNN(len(identities), **architecture(settings)))
    batch_size = min(settings["batch_size"], len(images["train"]))
    steps = len(images["train"]) // batch_size
    epochs = settings["max_epochs"]
    optimiser = torch.optim.SGD(model.parameters(), lr=settings["lr"], momentum=0.9, nesterov=True,
                                weight_decay=settings["weight_decay"])
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=settings["lr"], total_steps=epochs * steps,
                                                   pct_start=0.15)
    stopper = EarlyStopping(settings["patience"])
    run = Checkpointer(checkpoint_dir, {
        "settings": fingerprint({"settings": settings, "seed": seed, "identities": identities}),
        "data": data_digest(images["train"], labels["train"], images["val"], labels["val"])})
    parts_of_run = {"model": model, "optimiser": optimiser, "schedule": schedule, "stopper": stopper}
    with run:
        history = _train(model, run, parts_of_run, images, labels, device, settings, seed, steps, batch_size,
                         occluders)
        run.load_best_into(model)
    gallery = embed(model, images["train"], device)
    test = rank_k_accuracy(embed(model, images["test"], device), labels["test"].numpy(), gallery,
                           labels["train"].numpy())
    log.info("best epoch %d: val rank-1 %.4f; test rank-1 %.4f rank-5 %.4f", stopper.best_epoch + 1, stopper.best,
             test[1], test[5])
    return {"identities": identities, "architecture": architecture(settings), "history": history,
            "best_epoch": stopper.best_epoch + 1, "val_rank1": stopper.best, "test_rank1": test[1],
            "test_rank5": test[5], "device": str(device.device), "precision": device.precision,
            **({"occluders": occluders.summary()} if occluders else {}),
            "weights": {k: v.detach().cpu() for k, v in model.state_dict().items()}}


def _train(model: BaseCNN, run: Checkpointer, parts_of_run: dict, images: dict, labels: dict, device: Device,
           settings: dict, seed: int, steps: int, batch_size: int,
           occluders: TrainingOccluders | None = None) -> list[dict]:
    """The epochs still to run (all, unless an unfinished training resumes); returns the
    history. The best weights are in ``run.best_weights``. With ``occluders``, each batch has
    some samples swapped for occluded renders (the history's ``occluded_share``)."""
    optimiser, schedule, stopper = parts_of_run["optimiser"], parts_of_run["schedule"], parts_of_run["stopper"]
    epochs = settings["max_epochs"]
    scaler = device.grad_scaler()

    def train_epoch(epoch: int) -> dict:
        model.train()
        order = torch.randperm(len(images["train"]), generator=torch.Generator().manual_seed(seed * 1000 + epoch))
        augmenter = torch.Generator().manual_seed(seed * 1000 + epoch + 1)
        occluder_draws = torch.Generator().manual_seed(seed * 1000 + epoch + 2)
        total_loss, correct, swapped = 0.0, 0, []
        progress = tqdm(range(steps), desc=f"epoch {epoch + 1}/{epochs}", unit="batch")
        for step in progress:
            index = order[step * batch_size:(step + 1) * batch_size]
            batch = images["train"][index.to(images["train"].device)]
            if occluders is not None:
                batch, swap = occluders.apply(index, batch, occluder_draws)
                swapped.append(swap)
            batch = device.images(augment(normalise(batch), augmenter))
            target = labels["train"][index].to(device.device)
            with device.autocast():
                logits = model.head(model(batch), target)
            loss = F.cross_entropy(logits.float(), target)
            optimisation_step(optimiser, loss, schedule, scaler)
            total_loss += loss.item()
            correct += (logits.argmax(1) == target).sum().item()
            progress.set_postfix(loss=f"{total_loss / (step + 1):.3f}")
        return {"loss": total_loss / steps, "train_accuracy": correct / (steps * batch_size),
                **({"occluded_share": occluded_share(swapped)} if occluders is not None else {})}

    def validate() -> tuple[float, dict]:
        gallery, probes = embed(model, images["train"], device), embed(model, images["val"], device)
        val = rank_k_accuracy(probes, labels["val"].numpy(), gallery, labels["train"].numpy())
        # The same probes against the LMCL class weights as prototypes: no gallery to embed (a
        # fifth of the validation's cost). Recorded beside the selection metric, so that runs show
        # whether it selects the same epoch before it may replace it (issue: speed).
        prototypes = model.head.weight.detach().float().cpu().numpy()
        by_prototype = rank_k_accuracy(probes, labels["val"].numpy(), prototypes, np.arange(len(prototypes)))
        return val[1], {"val_rank1": val[1], "val_rank5": val[5], "val_rank1_prototypes": by_prototype[1]}

    history, start_epoch = run.resume_into(parts_of_run)
    return train_epochs(
        stopper, epochs, train_epoch, validate, start_epoch=start_epoch, history=history,
        extra=lambda: {"lr": schedule.get_last_lr()[0]},
        describe=lambda h: (f"loss {h['loss']:.3f}, train acc {h['train_accuracy']:.3f}, val rank-1 "
                            f"{h['val_rank1']:.4f} rank-5 {h['val_rank5']:.4f}"),
        after_epoch=lambda epoch, history, improved: run.save(parts_of_run, history, epoch, improved))
