"""The epoch loop the three trainers share (base CNN, segmenter, mask generators): train one
epoch, validate, keep the best, stop when validation stops improving, checkpoint."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import torch

from occlusion_fr.models.training import EarlyStopping

log = logging.getLogger(__name__)


def train_epochs(stopper: EarlyStopping, max_epochs: int, train_epoch: Callable[[int], dict],
                 validate: Callable[[], tuple[float, dict]], describe: Callable[[dict], str], *,
                 start_epoch: int = 0, history: list[dict] | None = None, extra: Callable[[], dict] | None = None,
                 after_epoch: Callable[[int, list[dict], bool], None] | None = None) -> list[dict]:
    """Run epochs ``start_epoch``.. until ``max_epochs`` or ``stopper``'s patience runs out.

    ``train_epoch(epoch)`` returns the epoch's training figures, ``validate()`` (the score to
    maximise, the validation figures); each epoch's history row is {epoch, training figures,
    validation figures, ``extra()`` (e.g. the learning rate), seconds}. ``after_epoch(epoch,
    history, improved)`` keeps the best weights or checkpoints. ``history`` continues a resumed
    training's."""
    history = list(history or [])
    for epoch in stopper.epochs(start_epoch, max_epochs):
        started = time.time()
        trained = train_epoch(epoch)
        score, validated = validate()
        improved = stopper.update(epoch, score)
        history.append({"epoch": epoch + 1, **trained, **validated, **(extra() if extra else {}),
                        "seconds": time.time() - started})
        log.info("epoch %d: %s (%.0f s)%s", epoch + 1, describe(history[-1]), history[-1]["seconds"],
                 " best" if improved else "")
        if after_epoch is not None:
            after_epoch(epoch, history, improved)
    return history


def optimisation_step(optimiser: torch.optim.Optimizer, loss: torch.Tensor, schedule=None,
                      scaler: torch.amp.GradScaler | None = None) -> None:
    """One step; with an enabled ``scaler`` (fp16 on a GPU) the loss is scaled and a step whose
    gradients overflowed is skipped."""
    optimiser.zero_grad(set_to_none=True)
    if scaler is not None and scaler.is_enabled():
        scaler.scale(loss).backward()
        scaler.step(optimiser)
        scaler.update()
    else:
        loss.backward()
        optimiser.step()
    if schedule is not None:
        schedule.step()
