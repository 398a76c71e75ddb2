"""Stratified train/validation/test split: every identity appears in all three splits."""

from __future__ import annotations

import logging
import math
import zlib

import numpy as np
import pandas as pd

from occlusion_fr.unusable import require_usable

log = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")


def split_counts(n: int, train: float, val: float, test: float) -> tuple[int, int, int]:
    """Images of one identity per split.

    train = floor(train * n) (on LFW this gives the paper's 2,959 training images); the rest
    is shared between validation and test in proportion, validation rounded down; each split
    gets at least one image.
    """
    if n < 3:
        raise ValueError(f"{n} images cannot fill three splits")
    n_train = min(max(1, math.floor(train * n)), n - 2)
    rest = n - n_train
    n_val = min(max(1, math.floor(rest * val / (val + test))), rest - 1)
    return n_train, n_val, rest - n_val


def stratified_split(faces: pd.DataFrame, train: float, val: float, test: float, seed: int):
    """Assign a split to each row. Returns (table with a ``split`` column, dropped identities).

    Each identity is shuffled by its own generator seeded from (seed, crc32(identity)), so
    adding or removing one person does not reshuffle the others. Identities with fewer than
    three usable images cannot appear in all splits: they are dropped and returned.
    """
    parts, dropped = [], []
    for identity, group in faces.groupby("identity", sort=True):
        if len(group) < 3:
            dropped.append(identity)
            continue
        n_train, n_val, n_test = split_counts(len(group), train, val, test)
        rng = np.random.default_rng([seed, zlib.crc32(identity.encode())])
        order = group.sort_values("image").iloc[rng.permutation(len(group))]
        labels = ["train"] * n_train + ["val"] * n_val + ["test"] * n_test
        parts.append(order.assign(split=labels))
    if dropped:
        log.warning("dropped %d identities with fewer than 3 usable images: %s", len(dropped), dropped)
    too_few = pd.DataFrame({"identity": dropped, "reason": [
        f"too few images: {(faces['identity'] == name).sum()} usable, 3 needed" for name in dropped]})
    require_usable(len(parts), too_few, "split", "at least 3 usable images of a person, so that every split has one")
    table = pd.concat(parts).sort_values("image", ignore_index=True)
    columns = ["image", "identity", "split"] + [c for c in table.columns if c not in ("image", "identity", "split")]
    return table[columns], dropped


def split_summary(table: pd.DataFrame, dropped: list[str], seed: int) -> dict:
    counts = table["split"].value_counts()
    return {
        "seed": seed,
        "images": int(len(table)),
        "identities": int(table["identity"].nunique()),
        "images_per_split": {s: int(counts.get(s, 0)) for s in SPLITS},
        "identities_per_split": {s: int(table.loc[table["split"] == s, "identity"].nunique()) for s in SPLITS},
        "dropped_identities": dropped,
    }


def identities_by_image(split_csv) -> dict[str, str]:
    """Each image's identity, from a run's split.csv (every split)."""
    return dict(pd.read_csv(split_csv)[["image", "identity"]].itertuples(index=False))
