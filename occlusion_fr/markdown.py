"""Markdown tables: the one renderer of the result tables' cells."""

from __future__ import annotations


def markdown_table(header: list[str], rows: list[list[str]], align_first_left: bool = True) -> str:
    """A pipe table: the first column left-aligned (names), the others right-aligned (numbers)."""
    rule = ["---" if align_first_left and i == 0 else "---:" for i in range(len(header))]
    lines = [header, rule, *rows]
    return "\n".join("| " + " | ".join(str(cell) for cell in line) + " |" for line in lines)
