"""Checkpoints that resume only what they should: an unfinished training of the same code,
settings and data.

A training keeps ``last.pt`` (everything needed to continue) and ``best.pt`` (the best weights
so far) in its checkpoint folder, and holds the folder's lock while it runs. A rerun
continues from ``last.pt`` only when that training was interrupted and was run by the same
library code, settings and data; a finished training is never reused (Snakemake reruns a
training job because its outputs are wanted anew: ``--forcerun``, edited code, lost outputs),
and every decision is logged. Files are written atomically and read with
``torch.load(weights_only=True)``, which refuses pickled objects.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from pathlib import Path

import torch

import occlusion_fr
from occlusion_fr.folder_lock import FolderLock
from occlusion_fr.models.training import load_weights, save_checkpoint

log = logging.getLogger(__name__)


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


@functools.cache
def code_digest() -> str:
    """Digest of the library's source (every ``occlusion_fr/**/*.py``): an edit of the library
    must not resume a training that older code began."""
    package = Path(occlusion_fr.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


class Checkpointer:
    """``last.pt``, ``best.pt`` and the lock of one training's checkpoint folder.

    ``identity`` names what the training is (digests of its settings and its data); the
    library's code digest is added. Use as a context manager: it holds the folder's lock."""

    def __init__(self, folder, identity: dict[str, str]):
        self.folder = Path(folder)
        self.identity = {**identity, "code": code_digest()}
        self.lock = FolderLock(self.folder, "training")

    @property
    def last(self) -> Path:
        return self.folder / "last.pt"

    @property
    def best(self) -> Path:
        return self.folder / "best.pt"

    def __enter__(self):
        self.lock.acquire()
        return self

    def __exit__(self, *exc):
        self.lock.release()

    def resume_into(self, parts: dict) -> tuple[list, int]:
        """Restore ``parts`` (objects with ``load_state_dict``: model, optimiser, schedule,
        stopper) and the random state from ``last.pt`` when it holds an unfinished training of
        this identity; otherwise discard the folder's checkpoints. Returns (history so far,
        first epoch to run)."""
        if not self.last.is_file():
            log.info("no checkpoint in %s: training from scratch", self.folder)
            return self._afresh()
        try:
            state = load_weights(self.last)
        except ValueError as error:
            raise ValueError(f"{error}. Delete {self.last} to restart this training from scratch.") from error
        if state.get("finished"):
            log.info("%s holds a finished training (%d epochs): training afresh (this job reruns because its "
                     "outputs are wanted anew; a finished training never stands in for a new one)", self.last,
                     int(state["epoch"]) + 1)
            return self._afresh()
        written_by = state.get("identity") if isinstance(state.get("identity"), dict) else {}
        differs = [part for part, digest in self.identity.items() if written_by.get(part) != digest]
        if differs:
            log.info("%s was written by another %s: training afresh", self.last, " and ".join(differs))
            return self._afresh()
        for name, part in parts.items():
            part.load_state_dict(state[name])
        torch.set_rng_state(state["torch_rng"])
        log.info("resuming from %s after epoch %d (an unfinished training of the same code, settings and data)",
                 self.last, int(state["epoch"]) + 1)
        return list(state["history"]), int(state["epoch"]) + 1

    def _afresh(self) -> tuple[list, int]:
        self.best.unlink(missing_ok=True)
        self.last.unlink(missing_ok=True)
        return [], 0

    def save(self, parts: dict, history: list, epoch: int, best_weights: dict | None, finished: bool = False) -> None:
        """Write ``best.pt`` (when there are new best weights) and then ``last.pt``."""
        if best_weights is not None:
            save_checkpoint(self.best, best_weights)
        state = {name: part.state_dict() for name, part in parts.items()}
        save_checkpoint(self.last, {**state, "torch_rng": torch.get_rng_state(), "history": history, "epoch": epoch,
                                    "identity": self.identity, "finished": finished})

    def finish(self, parts: dict, history: list) -> None:
        """Mark the training finished: a later run of the job trains afresh."""
        self.save(parts, history, len(history) - 1, None, finished=True)
        log.info("training finished after %d epochs (%s marked finished)", len(history), self.last)
