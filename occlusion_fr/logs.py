"""Logging for workflow jobs: to the rule's log file and to the console.

A job's log is appended to, never truncated: each attempt starts with a header line
(:data:`ATTEMPT`), so the lines of an earlier attempt (a killed job, or an orphan still
running) survive a rerun and the last attempt is easy to find.
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


def last_attempt(text: str) -> str:
    """The part of a job log written by its latest attempt."""
    return text[text.rfind(ATTEMPT):] if ATTEMPT in text else text


@contextlib.contextmanager
def job_logging(log_path):
    """Send ``logging`` to ``log_path`` (appended, after an attempt header) and stderr; record
    an exception before re-raising it."""
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a") as handle:
        handle.write(attempt_header() + "\n")
    handlers = [logging.FileHandler(log_path, mode="a"), logging.StreamHandler(sys.stderr)]
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
