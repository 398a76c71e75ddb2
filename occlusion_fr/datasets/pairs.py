"""Pairs files (LFW ``pairs.txt``, View 2): 10 folds of matched and mismatched pairs, and the
pairs a run may score: a run trains on LFW people whose images appear in many pairs, so a pair
is kept only when neither identity is in the run's splits, counted per fold."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

PAIR_COLUMNS = ["fold", "image1", "identity1", "image2", "identity2", "same"]


def lfw_image(identity: str, number: str) -> str:
    """The archive-relative image path of ``identity``'s ``number``-th image."""
    return f"{identity}/{identity}_{int(number):04d}.jpg"


def read_pairs(path) -> pd.DataFrame:
    """Pairs of an LFW ``pairs.txt``: a header ``FOLDS N``, then per fold N matched lines
    ``NAME I J`` and N mismatched lines ``NAME1 I NAME2 J``. Errors name the file and line."""
    path = Path(path)
    lines = [line.split() for line in path.read_text().splitlines()]
    try:
        folds, per_fold = map(int, lines[0])
    except (IndexError, ValueError):
        raise ValueError(f"{path}:1: expected a header 'FOLDS PAIRS_PER_FOLD' (LFW: '10 300')") from None
    expected = 1 + folds * 2 * per_fold
    body = [fields for fields in lines[1:] if fields]
    if len(body) + 1 != expected:
        raise ValueError(f"{path}: {len(body)} pair lines, but the header promises {folds} folds of "
                         f"{per_fold} matched and {per_fold} mismatched pairs ({expected - 1})")
    rows = []
    for number, fields in enumerate(body):
        fold, position = divmod(number, 2 * per_fold)
        same = position < per_fold
        if same and len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit():
            name, first, second = fields
            rows.append((fold, lfw_image(name, first), name, lfw_image(name, second), name, True))
        elif not same and len(fields) == 4 and fields[1].isdigit() and fields[3].isdigit():
            rows.append((fold, lfw_image(fields[0], fields[1]), fields[0], lfw_image(fields[2], fields[3]),
                         fields[2], False))
        else:
            form = "NAME I J (a matched pair)" if same else "NAME1 I NAME2 J (a mismatched pair)"
            raise ValueError(f"{path}:{number + 2}: expected {form}, got {' '.join(fields)!r}")
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def identity_disjoint(pairs: pd.DataFrame, seen_identities) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the pairs with neither identity in ``seen_identities``, kept and dropped pairs per fold)."""
    seen = set(seen_identities)
    dropped = pairs["identity1"].isin(seen) | pairs["identity2"].isin(seen)
    counts = pd.DataFrame({"fold": pairs["fold"], "kept": ~dropped, "dropped": dropped}).groupby("fold").sum()
    return pairs[~dropped].reset_index(drop=True), counts.reset_index()
