"""Logging for workflow jobs: to the rule's log file, to the job's attempt history and to the console.

Snakemake deletes a job's log before each run, which would lose the explanation of an earlier
failure and the lines of an orphaned job still running (a ``kill -9`` of Snakemake leaves its
jobs running). So every attempt's lines also go to ``attempts/<log name>`` beside the log,
which Snakemake leaves alone: it is appended to, each attempt starting with a header line
(:data:`ATTEMPT`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import time
from pathlib import Path

ATTEMPT = "==== attempt"


def attempt_header() -> str:
    return f"{ATTEMPT} started {time.strftime('%Y-%m-%d %H:%M:%S')} (pid {os.getpid()} on {socket.gethostname()}) ===="


def attempts_path(log_path) -> Path:
    """Where every attempt of the job logging to ``log_path`` is kept."""
    return Path(log_path).parent / "attempts" / Path(log_path).name


def last_attempt(text: str) -> str:
    """The part of a log written by its latest attempt."""
    return text[text.rfind(ATTEMPT):] if ATTEMPT in text else text


@contextlib.contextmanager
def job_logging(log_path):
    """Send ``logging`` to ``log_path`` and to the attempt history (both appended to, after an
    attempt header) and to stderr; record an exception before re-raising it."""
    files = [Path(log_path), attempts_path(log_path)]
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:
            handle.write(attempt_header() + "\n")
    handlers = [*(logging.FileHandler(path, mode="a") for path in files), logging.StreamHandler(sys.stderr)]
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        yield logging.getLogger("occlusion_fr")
    except BaseException:
        logging.getLogger("occlusion_fr").exception("job failed")
        raise
    finally:
        for handler in handlers:
            handler.close()
