"""Checkpoints resume only an unfinished training of the same code, settings and data; one
training per checkpoint folder; weights files that do not fit are refused by name."""

import logging
import os
import signal
import subprocess
import sys

import pytest
import torch

from occlusion_fr.folder_lock import FolderLock, FolderLockedError
from occlusion_fr.logs import attempts_path, job_logging, last_attempt
from occlusion_fr.models.base_cnn import BaseCNN
from occlusion_fr.models.checkpoints import Checkpointer, data_digest, mark_finished
from occlusion_fr.models.segmenter import build_segmenter
from occlusion_fr.models.training import load_into, load_weights, save_checkpoint


def saved_run(folder, identity, finished=False):
    model = torch.nn.Linear(2, 1)
    with Checkpointer(folder, identity) as run:
        run.save({"model": model}, history=[{"epoch": 1}], epoch=0, improved=True)
    if finished:
        mark_finished(folder)  # as the job does once its outputs are written
    return model


def test_an_unfinished_training_of_the_same_identity_resumes(tmp_path, caplog):
    saved = saved_run(tmp_path, {"settings": "a", "data": "b"})
    model = torch.nn.Linear(2, 1)
    with caplog.at_level(logging.INFO), Checkpointer(tmp_path, {"settings": "a", "data": "b"}) as run:
        assert run.resume_into({"model": model}) == ([{"epoch": 1}], 1)
        run.load_best_into(model)
    torch.testing.assert_close(model.weight, saved.weight)  # the best weights travel inside last.pt
    assert "resuming from" in caplog.text and "unfinished training of the same code" in caplog.text


def test_a_finished_training_never_stands_in_for_a_new_one(tmp_path, caplog):
    saved_run(tmp_path, {"settings": "a"}, finished=True)
    with caplog.at_level(logging.INFO), Checkpointer(tmp_path, {"settings": "a"}) as run:
        assert run.resume_into({"model": torch.nn.Linear(2, 1)}) == ([], 0)
        assert not run.last.exists() and not run.finished.exists() and run.best_weights is None
        with pytest.raises(ValueError, match="no epoch improved"):
            run.load_best_into(torch.nn.Linear(2, 1))  # the old best weights cannot leak in
    assert "holds a finished training" in caplog.text and "training afresh" in caplog.text


def test_a_checkpoint_of_the_older_format_is_not_resumed(tmp_path, caplog):
    save_checkpoint(tmp_path / "last.pt", {"epoch": 3, "fingerprint": "0123456789abcdef"})
    with caplog.at_level(logging.INFO), Checkpointer(tmp_path, {}) as run:
        assert run.resume_into({}) == ([], 0)
    assert "older version of this pipeline (no identity recorded): training afresh" in caplog.text


@pytest.mark.parametrize("part", ["data", "code"])
def test_a_checkpoint_of_other_data_or_code_is_not_resumed(tmp_path, caplog, monkeypatch, part):
    images = torch.zeros(4, 3, 8, 8, dtype=torch.uint8)
    saved_run(tmp_path, {"data": data_digest(images)})
    if part == "data":
        images[0, 0, 0, 0] = 1  # same files, other pixels
    else:
        monkeypatch.setattr("occlusion_fr.models.checkpoints.code_digest", lambda: "edited library")
    with caplog.at_level(logging.INFO), Checkpointer(tmp_path, {"data": data_digest(images)}) as run:
        assert run.resume_into({"model": torch.nn.Linear(2, 1)}) == ([], 0)
    assert f"written by another {part}: training afresh" in caplog.text


def test_a_corrupt_checkpoint_says_that_deleting_it_restarts(tmp_path):
    (tmp_path / "last.pt").write_bytes(b"truncated")
    with Checkpointer(tmp_path, {}) as run, pytest.raises(ValueError) as error:
        run.resume_into({})
    assert "last.pt: not a plain weights file" in str(error.value) and ".." not in str(error.value)
    assert str(error.value).endswith(f"Delete {tmp_path / 'last.pt'} to restart this training from scratch.")


def test_one_training_per_folder_and_a_dead_owner_s_lock_is_taken_over(tmp_path, caplog):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from occlusion_fr.folder_lock import FolderLock\n"
        f"lock = FolderLock({str(tmp_path)!r}, 'training'); lock.acquire(); print('held', flush=True); "
        "time.sleep(600)")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        os.kill(holder.pid, signal.SIGSTOP)  # stopped, as alive as ever
        with pytest.raises(FolderLockedError, match=f"another training \\(pid {holder.pid} on .*still running.*"
                                                    f"kill {holder.pid}"):
            Checkpointer(tmp_path, {}).__enter__()
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    with caplog.at_level(logging.WARNING), FolderLock(tmp_path, "training") as lock:
        assert lock.owner()["pid"] == os.getpid()
        with pytest.raises(FolderLockedError):  # not even the same process gets it twice
            FolderLock(tmp_path, "training").acquire()
    assert f"taking over the lock of pid {holder.pid}" in caplog.text
    assert lock.owner() == {}  # released cleanly: the next owner has nothing to take over
    caplog.clear()
    with caplog.at_level(logging.WARNING), FolderLock(tmp_path, "training"):
        pass
    assert "taking over" not in caplog.text


def test_a_lock_file_of_another_host_is_free_unless_held(tmp_path, caplog):
    (tmp_path / "lock").write_text('{"pid": 1, "host": "elsewhere", "since": "2026-01-01 00:00:00"}')
    with caplog.at_level(logging.WARNING), FolderLock(tmp_path, "training"):
        pass
    assert "taking over the lock of pid 1 on elsewhere" in caplog.text


def test_pickled_weights_are_refused_without_advising_to_unpickle(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    torch.save({"payload": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(ValueError) as error:
        load_weights(tmp_path / "evil.pt")
    assert "evil.pt: not a plain weights file (UnpicklingError: WeightsUnpickler error" in str(error.value)
    assert "weights_only=False" not in str(error.value) and "will likely succeed" not in str(error.value)
    with pytest.raises(FileNotFoundError, match="missing.pt: no such weights file"):
        load_weights(tmp_path / "missing.pt")


def test_weights_of_another_model_are_refused_naming_the_file(tmp_path):
    save_checkpoint(tmp_path / "segmenter.pt", build_segmenter("resnet18").state_dict())
    with pytest.raises(ValueError, match=r"segmenter.pt: these weights do not fit a BaseCNN \(.*Missing key"):
        load_into(BaseCNN(classes=3, output_stride=32), tmp_path / "segmenter.pt")


def test_job_logs_keep_every_attempt_even_when_the_log_is_deleted(tmp_path):
    log_path = tmp_path / "logs" / "job.log"
    for attempt in ("first", "second"):
        log_path.unlink(missing_ok=True)  # as Snakemake does before running a job
        with job_logging(log_path) as log:
            log.info("%s attempt's line", attempt)
    assert "second attempt's line" in log_path.read_text() and "first" not in log_path.read_text()
    text = attempts_path(log_path).read_text()
    assert attempts_path(log_path) == tmp_path / "logs" / "attempts" / "job.log"
    assert text.count("==== attempt started") == 2 and "first attempt's line" in text
    assert "second attempt's line" in last_attempt(text) and "first" not in last_attempt(text)
