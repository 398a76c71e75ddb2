"""``occlusion-fr``: identify, verify and enroll photos with a trained run's bundle.

    occlusion-fr identify results/lfw/seed0/bundle photo.jpg [--layout lm2] [--top-k 5] [--json]
    occlusion-fr verify results/lfw/seed0/bundle a.jpg b.jpg
    occlusion-fr enroll results/lfw/seed0/bundle people/ -o gallery.npz

Every photo that cannot be used is reported with why (missing, not an image, unreadable, no
face found); the exit status is 1 only when no input could be processed, 2 for a bad bundle
or gallery.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from occlusion_fr.api import Gallery, PhotoError, Recognizer, image_files
from occlusion_fr.bundle import BundleError


def _threshold(threshold: float | None, far: float | None) -> str:
    return "none (no pairs file in the run)" if threshold is None else f"{threshold:.3f} at FAR {far:g}"


def _regions(regions: list[str]) -> str:
    return ", ".join(regions) if regions else "none"


def identify(args, recognizer: Recognizer) -> int:
    gallery = Gallery.load(args.gallery) if args.gallery else None
    photos = image_files(args.photo) if Path(args.photo).is_dir() else [Path(args.photo)]
    results = []
    for photo in photos:
        try:
            face = recognizer.face(photo)
            result = recognizer.identify(photo, args.layout, args.top_k, gallery, face=face, far=args.far)
            if args.explain:
                from occlusion_fr.explain import explain

                explain(recognizer, face, args.layout, args.explain if len(photos) == 1 else
                        Path(args.explain).with_name(f"{Path(args.explain).stem}_{photo.stem}.png"))
        except PhotoError as error:
            result = {"file": str(photo), "error": str(error)}
        results.append(result)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for result in results:
            if "error" in result:
                print(f"{result['file']}: error: {result['error']}")
                continue
            print(f"{result['file']}: {result['identity']} (score {result['score']:.3f}, threshold "
                  f"{_threshold(result['threshold'], result['far'])}; layout {result['layout']}, discarded regions: "
                  f"{_regions(result['discarded_regions'])})")
            for rank, candidate in enumerate(result["top"], start=1):
                print(f"  {rank}. {candidate['identity']} {candidate['score']:.3f}")
    return 0 if any("error" not in r for r in results) else 1


def verify(args, recognizer: Recognizer) -> int:
    try:
        result = recognizer.verify(args.photo1, args.photo2, args.layout, args.far)
    except PhotoError as error:
        result = {"files": [args.photo1, args.photo2], "error": str(error)}
    if args.json:
        print(json.dumps(result, indent=2))
    elif "error" in result:
        print(f"error: {result['error']}")
    elif result["verified"] is None:
        print(f"no verdict: score {result['score']:.3f}, and the bundle has no threshold (its run had no pairs file); "
              f"layout {result['layout']}, discarded regions: {_regions(result['discarded_regions'])}")
    else:
        verdict = "same person" if result["verified"] else "different people"
        relation = ">" if result["verified"] else "<="
        threshold = _threshold(result["threshold"], result["far"])
        print(f"{verdict} (score {result['score']:.3f} {relation} threshold {threshold}; layout "
              f"{result['layout']}, discarded regions: {_regions(result['discarded_regions'])})")
    return 1 if "error" in result else 0


def enroll(args, recognizer: Recognizer) -> int:
    gallery, problems = recognizer.enroll(args.folder)
    if len(gallery.images):
        gallery.save(args.output)
    summary = {"output": args.output if len(gallery.images) else None, "images": len(gallery.images),
               "identities": len(set(gallery.identities)), "left_out": problems}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"enrolled {summary['images']} images of {summary['identities']} identities"
              + (f" into {args.output}" if summary["output"] else " (nothing written)"))
        for problem in problems:
            print(f"  left out {problem['error']}")
    return 0 if len(gallery.images) else 1


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="occlusion-fr", description=__doc__.split("\n\n")[0])
    commands = main.add_subparsers(dest="command", required=True)

    def command(name, help_text):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("bundle", help="a run's bundle folder (results/<dataset>/seed<N>/bundle)")
        sub.add_argument("--json", action="store_true", help="print JSON instead of text")
        sub.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
        if name != "enroll":
            sub.add_argument("--far", type=float, help="the false accept rate whose threshold decides (one the bundle "
                                                       "was calibrated at; default: its lowest)")
        return sub

    sub = command("identify", "top-k identities of a photo (or every photo in a folder), or unknown")
    sub.add_argument("photo", help="an image file or a folder of them")
    sub.add_argument("--gallery", help="a gallery from `enroll` (default: the run's training split)")
    sub.add_argument("--layout", help="masking layout, or none for no FDM (default: the bundle's)")
    sub.add_argument("--top-k", type=int, default=5)
    sub.add_argument("--explain", help="write a figure: crop, predicted occlusion, discarded regions, saliency")
    sub.set_defaults(run=identify)

    sub = command("verify", "whether two photos show the same person")
    sub.add_argument("photo1")
    sub.add_argument("photo2")
    sub.add_argument("--layout", help="masking layout, or none for no FDM (default: the bundle's)")
    sub.set_defaults(run=verify)

    sub = command("enroll", "embed a folder of <identity>/<images> as a gallery")
    sub.add_argument("folder")
    sub.add_argument("-o", "--output", required=True, help="gallery file to write (.npz)")
    sub.set_defaults(run=enroll)
    return main


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        recognizer = Recognizer.from_bundle(args.bundle, args.precision)
        return args.run(args, recognizer)
    except (BundleError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
