"""Checkpoints that resume only what they should: an unfinished training of the same code,
settings and data.

A training keeps ``last.pt`` in its checkpoint folder, written atomically after each epoch:
everything needed to continue, the best weights so far included (one file, so that the two can
never disagree), and holds the folder's lock while it runs. The job that uses the training
marks it finished (:func:`mark_finished`) once its outputs are written. A rerun continues from
``last.pt`` only when that training was not marked finished and ran the same library code,
settings and data: a finished training is never reused (Snakemake reruns a training job
because its outputs are wanted anew: ``--forcerun``, edited code, lost outputs), while a job
that died after training but before its outputs were written resumes with no epochs left and
evaluates again. Every decision is logged. Files are read with ``torch.load(weights_only=True)``,
which refuses pickled objects.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from pathlib import Path

import torch

import occlusion_fr
from occlusion_fr.folder_lock import FolderLock
from occlusion_fr.io import write_json
from occlusion_fr.models.training import load_weights, save_checkpoint

log = logging.getLogger(__name__)


def data_digest(*tensors: torch.Tensor) -> str:
    """Digest of the training data itself: files rewritten under the same names (a moved
    occlusion, another crop margin) must not resume a checkpoint trained on the old ones."""
    digest = hashlib.sha256()
    for tensor in tensors:
        tensor = tensor.detach().cpu().contiguous()
        if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16: digest the raw words
            tensor = tensor.view(torch.int16)
        digest.update(tensor.numpy().tobytes())
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


def mark_finished(checkpoint_dir) -> None:
    """Record that the training in ``checkpoint_dir`` is finished and used: a later run of its
    job trains afresh."""
    write_json(Path(checkpoint_dir) / "finished.json", {"finished": time.strftime("%Y-%m-%d %H:%M:%S")})


class Checkpointer:
    """``last.pt``, the finished mark and the lock of one training's checkpoint folder.

    ``identity`` names what the training is (digests of its settings and its data); the
    library's code digest is added. Use as a context manager: it holds the folder's lock.
    ``best_weights`` holds the best weights so far (restored by :meth:`resume_into`)."""

    def __init__(self, folder, identity: dict[str, str]):
        self.folder = Path(folder)
        self.identity = {**identity, "code": code_digest()}
        self.lock = FolderLock(self.folder, "training")
        self.best_weights: dict | None = None

    @property
    def last(self) -> Path:
        return self.folder / "last.pt"

    @property
    def finished(self) -> Path:
        return self.folder / "finished.json"

    def __enter__(self):
        self.lock.acquire()
        return self

    def __exit__(self, *exc):
        self.lock.release()

    def resume_into(self, parts: dict) -> tuple[list, int]:
        """Restore ``parts`` (objects with ``load_state_dict``: model, optimiser, schedule,
        stopper), the best weights and the random state from ``last.pt`` when it holds an
        unfinished training of this identity; otherwise discard the folder's checkpoint.
        Returns (history so far, first epoch to run)."""
        if self.finished.is_file():
            log.info("%s holds a finished training (%s): training afresh (this job reruns because its outputs "
                     "are wanted anew; a finished training never stands in for a new one)", self.folder,
                     self.finished.read_text().strip())
            return self._afresh()
        if not self.last.is_file():
            log.info("no checkpoint in %s: training from scratch", self.folder)
            return self._afresh()
        try:
            state = load_weights(self.last)
        except ValueError as error:
            raise ValueError(f"{error} Delete {self.last} to restart this training from scratch.") from None
        written_by = state.get("identity")
        if not isinstance(written_by, dict):
            log.info("%s was written by an older version of this pipeline (no identity recorded): training afresh",
                     self.last)
            return self._afresh()
        differs = [part for part, digest in self.identity.items() if written_by.get(part) != digest]
        if differs:
            log.info("%s was written by another %s: training afresh", self.last, " and ".join(differs))
            return self._afresh()
        for name, part in parts.items():
            part.load_state_dict(state[name])
        self.best_weights = state["best_weights"]
        torch.set_rng_state(state["torch_rng"])
        log.info("resuming from %s after epoch %d (an unfinished training of the same code, settings and data)",
                 self.last, int(state["epoch"]) + 1)
        return list(state["history"]), int(state["epoch"]) + 1

    def _afresh(self) -> tuple[list, int]:
        self.last.unlink(missing_ok=True)
        self.finished.unlink(missing_ok=True)
        self.best_weights = None
        return [], 0

    def save(self, parts: dict, history: list, epoch: int, improved: bool) -> None:
        """Write ``last.pt`` after ``epoch``; ``improved``: the model's weights are the best so far."""
        if improved:
            self.best_weights = {k: v.detach().cpu().clone() for k, v in parts["model"].state_dict().items()}
        state = {name: part.state_dict() for name, part in parts.items()}
        save_checkpoint(self.last, {**state, "best_weights": self.best_weights, "torch_rng": torch.get_rng_state(),
                                    "history": history, "epoch": epoch, "identity": self.identity})

    def load_best_into(self, model: torch.nn.Module) -> None:
        if self.best_weights is None:
            raise ValueError(f"{self.folder}: no epoch improved the validation metric (was it never finite?)")
        model.load_state_dict(self.best_weights)
