"""One process at a time in a folder: an exclusive ``flock`` on ``folder/lock``.

A workflow manager killed with ``kill -9`` leaves its jobs running as orphans; a rerun of the
same job must not write into the folder the orphan still writes into. The kernel holds the
lock for as long as its owner's process lives (a stopped or orphaned process included) and
drops it when the process ends, however it ends, so a crash leaves nothing to remove by hand
and a reused pid cannot pass for the owner; on NFS the lock is a POSIX lock that every client
sees. The file also records the owner's pid, host and start, for the refusal message and for
the log line of whoever takes over from a process that died holding it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import time
from pathlib import Path

log = logging.getLogger(__name__)


class FolderLockedError(RuntimeError):
    """Another live process holds the folder."""


class FolderLock:
    """``with FolderLock(folder, "training"):`` holds ``folder/lock`` for the block."""

    def __init__(self, folder, purpose: str):
        self.folder, self.purpose = Path(folder), purpose
        self.path = self.folder / "lock"
        self._handle = None

    def acquire(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read_owner(handle)
            handle.close()
            raise FolderLockedError(self._refusal(owner)) from None
        previous = _read_owner(handle)
        if previous:  # a clean release empties the file: the previous owner died holding the lock
            log.warning("%s: taking over the lock of pid %s on %s (since %s), which ended without releasing it",
                        self.path, previous.get("pid", "?"), previous.get("host", "?"), previous.get("since", "?"))
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "since": time.strftime("%Y-%m-%d %H:%M:%S")}) + "\n")
        handle.flush()
        self._handle = handle

    def _refusal(self, owner: dict) -> str:
        who = f"pid {owner.get('pid', '?')} on {owner.get('host', '?')}, since {owner.get('since', '?')}"
        return (f"{self.folder} is in use: another {self.purpose} ({who}) is still running in it, for example one "
                f"orphaned by a killed Snakemake. Wait for it to end or end it (kill {owner.get('pid', '<pid>')}); "
                "the lock is free as soon as that process is gone.")

    def owner(self) -> dict:
        """Who holds (or last held without releasing) the lock; empty when nobody."""
        try:
            with open(self.path) as handle:
                return _read_owner(handle)
        except FileNotFoundError:
            return {}

    def release(self) -> None:
        if self._handle is None:
            return
        self._handle.seek(0)
        self._handle.truncate()  # empty: released, not abandoned
        self._handle.flush()
        self._handle.close()  # closing drops the flock
        self._handle = None

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()


def _read_owner(handle) -> dict:
    handle.seek(0)
    try:
        return json.loads(handle.read() or "{}")
    except ValueError:
        return {"pid": "?", "host": "?", "since": "unknown (unreadable lock file)"}
