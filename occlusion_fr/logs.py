"""Logging for workflow jobs: to the rule's log file and to the console."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path


@contextlib.contextmanager
def job_logging(log_path):
    """Send ``logging`` to ``log_path`` and stderr; record an exception before re-raising it."""
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    handlers = [logging.FileHandler(log_path, mode="w"), logging.StreamHandler(sys.stderr)]
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
