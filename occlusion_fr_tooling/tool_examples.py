"""The README's tool examples, run for real through the installed console script on a run's bundle.

- identify: the first test image (by name) of the run's face-mask test set whose masked photo
  MTCNN finds a face in: the set's own rendered mask pasted back into the original LFW photo
  (written to results/{dataset}/seed{N}/tool_examples/, not committed), identified against the
  training split.
- verify: the first genuine pair (pairs-file order) of the folds that did not calibrate the
  thresholds whose clean photos the tool accepts; how many genuine pairs came before it, all
  rejected, is printed too (at FAR 1e-3 many genuine pairs are rejected).

Writes results/{dataset}/seed{N}/tool_examples.md (commands and their printed answers), which
`make readme` renders into the README.
Usage: python -m occlusion_fr_tooling.tool_examples [--dataset lfw] [--seed 0]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd
from PIL import Image

from occlusion_fr.api import PhotoError, Recognizer
from occlusion_fr.crop import paste_into_photo
from occlusion_fr.datasets.pairs import read_pairs
from occlusion_fr.evaluation.tool_benchmark import held_out_pairs
from occlusion_fr.io import read_rgb, write_text
from occlusion_fr.results_layout import dataset_dir

REPO = Path(__file__).resolve().parents[1]
COMMAND = Path(sys.executable).parent / "occlusion-fr"


def console(*args) -> str:
    """What the console script prints, run from the repository root."""
    result = subprocess.run([str(COMMAND), *map(str, args)], capture_output=True, text=True, cwd=REPO, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"occlusion-fr {' '.join(map(str, args))} failed: {result.stderr}")
    return result.stdout.strip()


def masked_photo(recognizer: Recognizer, results: Path, seed_dir: Path, out_dir: Path) -> tuple[Path, int]:
    """(the first face-mask test photo the tool finds a face in, photos skipped before it)."""
    index = pd.read_csv(seed_dir / "occlusions" / "test" / "face_mask.csv").sort_values("image")
    faces = pd.read_csv(results / "faces" / "faces.csv").set_index("image")
    folder = seed_dir / "occlusions" / "test" / "face_mask"
    for skipped, row in enumerate(index.itertuples(index=False)):
        face = faces.loc[row.image]
        photo = paste_into_photo(read_rgb(results / "raw" / "images" / row.image), read_rgb(folder / "images" / row.occluded),
                                 read_rgb(folder / "exact" / row.exact)[..., 0] > 127,
                                 (face.crop_x0, face.crop_y0, face.crop_x1, face.crop_y1))
        path = out_dir / f"face_mask_{Path(row.image).stem}.png"
        Image.fromarray(photo).save(path)
        try:
            recognizer.face(path)
            return path, skipped
        except PhotoError:
            path.unlink()
    raise SystemExit(f"{folder}: MTCNN finds no face in any masked photo")


def accepted_genuine_pair(recognizer: Recognizer, results: Path, pairs_file: Path) -> tuple[tuple[Path, Path], int]:
    """(the first held-out clean genuine pair the tool verifies, genuine pairs rejected before it)."""
    faces = pd.read_csv(results / "pairs" / "faces.csv")
    pairs = held_out_pairs(recognizer, read_pairs(pairs_file), faces)
    photos = results / "pairs" / "raw"
    for rejected, pair in enumerate(pairs[pairs["same"]].itertuples(index=False)):
        first, second = photos / pair.image1, photos / pair.image2
        if recognizer.verify(first, second)["verified"]:
            return (first, second), rejected
    raise SystemExit("no held-out genuine pair is verified")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="lfw")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pairs", default="resources/lfw/pairs.txt", help="the run's pairs file")
    args = parser.parse_args()
    results = dataset_dir(args.dataset, REPO)
    seed_dir = results / f"seed{args.seed}"
    bundle = seed_dir / "bundle"
    out_dir = seed_dir / "tool_examples"
    out_dir.mkdir(exist_ok=True)
    recognizer = Recognizer.from_bundle(bundle)
    photo, skipped = masked_photo(recognizer, results, seed_dir, out_dir)
    (first, second), rejected = accepted_genuine_pair(recognizer, results, REPO / args.pairs)
    relative = [p.relative_to(REPO) for p in (bundle, photo, first, second)]
    identify = f"occlusion-fr identify {relative[0]} {relative[1]} --top-k 3"
    verify = f"occlusion-fr verify {relative[0]} {relative[2]} {relative[3]}"
    lines = [f"# The tool on {args.dataset} seed {args.seed}'s bundle", "",
             f"identify: a test photo with the face-mask test set's own render pasted back in ({skipped} photos before "
             f"it in name order had no face MTCNN could find); verify: the first genuine pair of the folds that did "
             f"not calibrate the threshold that the tool accepts ({rejected} genuine pairs before it were rejected).",
             "", "```console", f"$ {identify}", console(*identify.split()[1:]), f"$ {verify}",
             console(*verify.split()[1:]), "```", ""]
    write_text(seed_dir / "tool_examples.md", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
