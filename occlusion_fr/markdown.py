"""Markdown tables: the one renderer of the result tables (per seed, across seeds, README)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from occlusion_fr.method.selection import NO_FDM


def markdown_table(header: list[str], rows: list[list[str]], left: int = 1, align: str | None = None) -> str:
    """A pipe table: the first ``left`` columns left-aligned (names), the rest right-aligned;
    ``align`` (one letter per column, l or r) says it column by column instead."""
    align = align or "l" * left + "r" * (len(header) - left)
    if len(align) != len(header) or set(align) - {"l", "r"}:
        raise ValueError(f"align {align!r}: one of l, r per column of {header}")
    rule = "|" + "".join("---|" if a == "l" else "---:|" for a in align)
    return "\n".join(["| " + " | ".join(header) + " |", rule,
                      *("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)])


def strategy_grid(rows: list[str], strategies: list[str], value: Callable[[str, str], float],
                  text: Callable[[str, str, float, bool], str], unbolded_rows=()) -> str:
    """Table 1's shape: a row per occlusion, a column per masking strategy (``none`` shown as
    no FDM). ``value(row, strategy)`` ranks the cells (NaN: an empty cell); ``text(row,
    strategy, value, best)`` writes one, ``best`` when it has the row's highest value (rows in
    ``unbolded_rows`` have none)."""
    lines = []
    for row in rows:
        values = [value(row, strategy) for strategy in strategies]
        finite = [v for v in values if not np.isnan(v)]
        top = max(finite) if finite and row not in unbolded_rows else None
        lines.append([row, *("" if np.isnan(v) else text(row, s, v, v == top) for s, v in zip(strategies, values))])
    return markdown_table(["occlusion", *("no FDM" if s == NO_FDM else s for s in strategies)], lines)


def bold(text: str, best: bool) -> str:
    return f"**{text}**" if best else text
