"""Render the README's results section from the committed results (`make readme`).

Writes the section between the results markers of README.md; with --check, only reports whether
README.md already holds what the results render (the test suite runs this check).
Usage: python scripts/render_readme.py [--dataset lfw] [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from occlusion_fr.io import write_text
from occlusion_fr.results_layout import dataset_dir
from tools.readme_results import render_results, replace_section
from tools.stage_times import stage_order

REPO = Path(__file__).resolve().parents[1]


def rendered_readme(dataset: str) -> tuple[str, str]:
    """(current README, README with the section rendered from results/{dataset})."""
    readme = (REPO / "README.md").read_text()
    section = render_results(dataset_dir(dataset, REPO), pd.read_csv(REPO / "resources" / "paper_table1.csv"),
                             pd.read_csv(REPO / "resources" / "paper_models.csv"), REPO / "rules",
                             stage_order(REPO / "Snakefile"))
    return readme, replace_section(readme, section)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="lfw")
    parser.add_argument("--check", action="store_true", help="fail if README.md differs from the rendering")
    args = parser.parse_args()
    current, rendered = rendered_readme(args.dataset)
    if args.check:
        if current != rendered:
            sys.exit("README.md's results section differs from results/: run `make readme`")
        print("README.md's results section matches results/")
    elif current != rendered:
        write_text(REPO / "README.md", rendered)
        print("README.md: results section rendered")


if __name__ == "__main__":
    main()
