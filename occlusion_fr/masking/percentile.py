"""Where a layout's mask dictionary is cut (paper section 4.2 fixes 25/20/30): a configured
percentile, or under ``validation`` the one with the best mean validation rank-1 of the
layout's percentile sweep (``occlusion_fr.evaluation.percentile_sweep``)."""

from __future__ import annotations

import pandas as pd

VALIDATION = "validation"  # a layout's `percentile` setting: chosen on its sweep
DICTIONARY_KEYS = ("percentile", "paper_percentile")  # a layout's keys that only the dictionary and sweep read


def fixed_percentiles(layout: dict) -> list:
    """A layout's fixed percentiles (its paper's, a numeric `percentile`) as configured: always
    swept, so that each can be compared with the chosen one."""
    values = (layout.get("paper_percentile"), layout.get("percentile"))
    return sorted({v for v in values if v is not None and v != VALIDATION})


def choose_percentile(sweep: pd.DataFrame) -> float:
    """The percentile with the best mean validation rank-1 over the occlusions (the lowest on
    ties); the sweep's test rows are never read."""
    val = sweep[sweep["split"] == "val"]
    if val.empty:
        raise ValueError("the sweep has no validation rows to choose from")
    mean = val.groupby("percentile")["rank1"].mean()
    return float(mean[mean == mean.max()].index.min())


def dictionary_percentile(setting, sweep: pd.DataFrame | None) -> float:
    """The percentile a layout's mask dictionary is cut at: ``setting`` itself, or for
    `validation` the one its sweep chooses."""
    if setting != VALIDATION:
        return float(setting)
    if sweep is None:
        raise ValueError("percentile 'validation' needs the layout's percentile sweep")
    return choose_percentile(sweep)
