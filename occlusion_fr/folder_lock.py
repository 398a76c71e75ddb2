"""One process at a time in a folder: a lock file holding the owner's pid, host and start time.

A workflow manager killed with ``kill -9`` leaves its jobs running as orphans; a rerun of the
same job must not write into the folder the orphan still writes into. The lock is refused
while its owner lives and taken over once the owner is gone (a crash leaves no stale lock that
needs a hand to remove it). An owner on another host cannot be checked from here: the lock is
refused, naming the file to delete once no process there uses the folder.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path

log = logging.getLogger(__name__)


class FolderLockedError(RuntimeError):
    """Another live process holds the folder."""


def process_start(pid: int) -> str | None:
    """Start time of a live process (clock ticks since boot), so that a reused pid is not taken
    for the owner; None when there is no such process or it is a zombie (ended, not reaped)."""
    if not Path("/proc/self/stat").exists():  # not Linux: the pid alone says whether it lives
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "unknown"
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else fields[19]  # state (field 3) and start time (field 22)


def _me() -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(), "process_start": process_start(os.getpid()),
            "since": time.strftime("%Y-%m-%d %H:%M:%S")}


class FolderLock:
    """``with FolderLock(folder, "training"):`` holds ``folder/lock`` for the block."""

    def __init__(self, folder, purpose: str):
        self.folder, self.purpose = Path(folder), purpose
        self.path = self.folder / "lock"

    def owner(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # unreadable: written by something else, treated as an owner that is gone

    def owner_lives(self, owner: dict) -> bool:
        if not owner or "pid" not in owner:
            return False
        if owner.get("host") != socket.gethostname():
            return True  # cannot be checked from here
        start = process_start(int(owner["pid"]))
        return start is not None and start in (owner.get("process_start"), "unknown")

    def acquire(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        me = _me()
        tmp = self.folder / f".lock.{me['pid']}"
        tmp.write_text(json.dumps(me) + "\n")
        try:
            for _ in range(5):
                try:
                    os.link(tmp, self.path)  # atomic: fails if a lock exists, never half-written
                    return
                except FileExistsError:
                    pass
                owner = self.owner()
                if owner is None:
                    continue  # released in between
                if self.owner_lives(owner):
                    raise FolderLockedError(self._refusal(owner))
                log.warning("%s: taking over the lock of pid %s on %s (since %s), which is gone", self.path,
                            owner.get("pid", "?"), owner.get("host", "?"), owner.get("since", "?"))
                self.path.unlink(missing_ok=True)
            raise FolderLockedError(f"{self.path}: could not take the lock (other processes keep taking it)")
        finally:
            tmp.unlink(missing_ok=True)

    def _refusal(self, owner: dict) -> str:
        where = f"pid {owner['pid']} on {owner.get('host')}, since {owner.get('since')}"
        if owner.get("host") != socket.gethostname():
            return (f"{self.folder} is locked for {self.purpose} by {where} (another host, so this process "
                    f"cannot tell whether it still runs). When no {self.purpose} runs there, delete {self.path}.")
        return (f"{self.folder} is in use: another {self.purpose} ({where}) is still running in it, for example "
                f"one orphaned by a killed Snakemake. Wait for it to end or end it (kill {owner['pid']}); the lock "
                "is taken over once that process is gone.")

    def release(self) -> None:
        owner = self.owner()
        if owner and owner.get("pid") == os.getpid() and owner.get("host") == socket.gethostname():
            self.path.unlink(missing_ok=True)

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
