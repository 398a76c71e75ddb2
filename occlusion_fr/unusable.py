"""Images that cannot be used: skipped with a reason, and fatal only when none is left.

A reason reads ``kind: detail`` (``unreadable: OSError: ...``, ``no face detected``); the kind
is what gets counted. A set, split or dataset left with no usable image fails with one message
that counts the kinds and names the expected layout, after every file's reason has gone to the
job's log (Snakemake deletes a failed job's outputs, such as the skipped-image tables, but
keeps its log).
"""

from __future__ import annotations

import logging
from collections import Counter

import pandas as pd

log = logging.getLogger(__name__)


class NoUsableImagesError(ValueError):
    """Nothing usable was left; the message counts the reasons."""


def reason_kind(reason: str) -> str:
    return str(reason).split(":", 1)[0].strip()


def reason_counts(reasons) -> dict[str, int]:
    """Skipped files per kind of reason, most frequent first."""
    return dict(Counter(map(reason_kind, reasons)).most_common())


def require_usable(kept: int, problems: pd.DataFrame, what: str, expected: str) -> None:
    """Fail when ``kept`` is 0: log each problem (columns: the file or image first, ``reason``)
    and raise one error counting the reasons; otherwise do nothing."""
    if kept:
        return
    for row in problems.itertuples(index=False):
        log.error("%s: skipped %s: %s", what, row[0], row.reason)
    counts = ", ".join(f"{kind} {n}" for kind, n in reason_counts(problems["reason"]).items()) or "no files at all"
    raise NoUsableImagesError(f"{what}: no usable image ({len(problems)} skipped: {counts}). Expected {expected}. "
                              "Each skipped file and its reason is listed in this job's log.")
