"""The extended table (issue 29): the plain base against the training variants, from committed
run seeds: results/<plain dataset>/table_beyond.{csv,md} (`make table-beyond`).

Each variant is a run of its own dataset name (experiments/*.yaml); the variants without any
finished seed are listed and left out, and so are seeds a variant lacks (the caption names the
seeds of every variant). A seed run only to its no-FDM identification gives the no-FDM column.
Usage: python -m occlusion_fr_tooling.table_beyond [--seeds 0,1,2] [--variant NAME=DATASET ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from occlusion_fr.evaluation.beyond import SeedResults, beyond_markdown, beyond_table
from occlusion_fr.io import write_csv, write_text
from occlusion_fr.results_layout import dataset_dir, seed_dir

REPO = Path(__file__).resolve().parents[1]
PLAIN = "plain"
# The columns, by name: the plain base first, then each issue-29 experiment's dataset. (lfw_pooled's
# committed seed predates the centred test-time method, so its FDM columns would not compare.)
VARIANTS = {PLAIN: "lfw", "augmented": "lfw_augmented", "upper_face": "lfw_upper_face", "lower_face": "lfw_lower_face",
            "any_block_segmenter": "lfw_any_block", "aligned": "lfw_aligned"}


def finished_seeds(dataset: str, seeds: list[int], root: Path) -> dict[int, SeedResults]:
    found = {}
    for seed in seeds:
        folder = seed_dir(dataset_dir(dataset, root), seed)
        if SeedResults.available(folder):
            found[seed] = SeedResults.read(folder)
    return found


def render(variants: dict[str, str], seeds: list[int], root: Path = REPO) -> tuple[Path, list[str]]:
    """Write the table beside the plain base's results; returns (its folder, what was left out)."""
    runs, left_out = {}, []
    for name, dataset in variants.items():
        found = finished_seeds(dataset, seeds, root)
        missing = [s for s in seeds if s not in found]
        if not found:
            left_out.append(f"{name} ({dataset}): no finished seed of {seeds}")
            continue
        if missing:
            left_out.append(f"{name} ({dataset}): seeds {missing} not finished")
        runs[name] = found
    if PLAIN not in runs:
        raise FileNotFoundError(f"the plain base ({variants[PLAIN]}) has no finished seed of {seeds}")
    table, layouts = beyond_table(runs, PLAIN)
    folder = dataset_dir(variants[PLAIN], root)
    write_csv(folder / "table_beyond.csv", table)
    text = beyond_markdown(table, layouts, {name: sorted(found) for name, found in runs.items()})
    notes = "".join(f"\n- left out: {line}" for line in left_out)
    write_text(folder / "table_beyond.md", f"{text}\n{notes}\n" if notes else f"{text}\n")
    return folder, left_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2", help="run seeds, comma separated")
    parser.add_argument("--variant", action="append", metavar="NAME=DATASET",
                        help=f"a column and its dataset (default: {', '.join(f'{k}={v}' for k, v in VARIANTS.items())})")
    args = parser.parse_args()
    variants = dict(v.split("=", 1) for v in args.variant) if args.variant else VARIANTS
    if PLAIN not in variants:
        parser.error(f"--variant {PLAIN}=DATASET is needed: the base every column is tested against")
    folder, left_out = render(variants, [int(s) for s in args.seeds.split(",")])
    for line in left_out:
        print(f"left out: {line}")
    print(f"{(folder / 'table_beyond.md').relative_to(REPO)} written")


if __name__ == "__main__":
    main()
