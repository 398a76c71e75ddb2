"""Render the results sections of README.md and docs/ from the committed results (`make readme`).

Writes the section between the results markers of every page in ``readme_results.PAGES``
(README.md: the headline numbers; docs/results.md: every result table; docs/performance.md: job
times, peak memory, rerun costs, compute limits); with --check, only reports whether every page
already holds what the results render (the test suite runs this check).
Usage: python -m occlusion_fr_tooling.render_readme [--dataset lfw] [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from occlusion_fr.io import write_text
from occlusion_fr.results_layout import dataset_dir
from occlusion_fr_tooling.readme_results import render_pages, replace_section
from occlusion_fr_tooling.stage_times import stage_order

REPO = Path(__file__).resolve().parents[1]


def rendered_pages(dataset: str, repo: Path = REPO) -> dict[str, tuple[str, str]]:
    """{page: (its current text, its text with the section rendered from results/{dataset})}."""
    sections = render_pages(dataset_dir(dataset, repo), pd.read_csv(repo / "resources" / "paper_table1.csv"),
                            pd.read_csv(repo / "resources" / "paper_models.csv"), repo / "rules",
                            stage_order(repo / "Snakefile"))
    pages = {}
    for page, section in sections.items():
        current = (repo / page).read_text()
        try:
            pages[page] = (current, replace_section(current, section))
        except ValueError as error:
            raise SystemExit(f"{page}: {error}") from None
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="lfw")
    parser.add_argument("--check", action="store_true", help="fail if a page differs from the rendering")
    args = parser.parse_args()
    pages = rendered_pages(args.dataset)
    stale = [page for page, (current, rendered) in pages.items() if current != rendered]
    if args.check:
        if stale:
            sys.exit(f"{', '.join(stale)}: the results section differs from results/: run `make readme`")
        print(f"{', '.join(pages)}: the results sections match results/")
        return
    for page in stale:
        write_text(REPO / page, pages[page][1])
        print(f"{page}: results section rendered")


if __name__ == "__main__":
    main()
