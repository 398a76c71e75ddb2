"""Dataset sources, by ``datasets.<name>.source``: where a dataset's named images come from.

A source materialises images named ``IDENTITY/IDENTITY_000N.jpg`` (the names a pairs file
gives) under a folder and returns (index of image and identity, plus ground-truth boxes and
landmarks where the source has them; names it could not provide, with the reason). Adding a
source is one function here and its block in the config schema.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from occlusion_fr.datasets.image_folder import check_image
from occlusion_fr.datasets.lfw import extract_images, fetch_archive
from occlusion_fr.datasets.synthetic import render_named
from occlusion_fr.io import atomic_path

NamedImages = Callable[[dict, list[str], Path], tuple[pd.DataFrame, pd.DataFrame]]


def lfw_archive_images(settings: dict, names: list[str], out_dir: Path):
    """From the checksummed LFW archive (any person, not only those with ``min_images``)."""
    archive = fetch_archive(settings["archive"], settings["url"], settings["sha256"], settings["download_to"])
    return extract_images(archive, names, out_dir)


def synthetic_images(settings: dict, names: list[str], out_dir: Path):
    """Rendered from the dataset seed (people beyond ``identities`` were never trained on)."""
    return render_named(names, settings["seed"], out_dir)


def image_folder_images(settings: dict, names: list[str], out_dir: Path):
    """Copied from the folder, where the pairs file's names are paths under ``root``."""
    root, rows, skipped = Path(settings["root"]), [], []
    for name in names:
        reason = check_image(root / name) if (root / name).is_file() else f"no file: not in {root}"
        if reason:
            skipped.append({"file": name, "reason": reason})
            continue
        with atomic_path(out_dir / name) as tmp:
            shutil.copyfile(root / name, tmp)
        rows.append({"image": name, "identity": Path(name).parts[0]})
    return pd.DataFrame(rows, columns=["image", "identity"]), pd.DataFrame(skipped, columns=["file", "reason"])


NAMED_IMAGES: dict[str, NamedImages] = {"lfw_archive": lfw_archive_images, "synthetic": synthetic_images,
                                        "image_folder": image_folder_images}
# The dataset settings each source reads (others, e.g. min_images, must not rerun its jobs).
SOURCE_KEYS = {"lfw_archive": ("archive", "url", "sha256"), "synthetic": ("seed",), "image_folder": ("root",)}


def named_images(source: str, settings: dict, names, out_dir) -> tuple[pd.DataFrame, pd.DataFrame]:
    if source not in NAMED_IMAGES:
        raise ValueError(f"datasets.*.source: unknown source {source!r} (known: {', '.join(NAMED_IMAGES)})")
    return NAMED_IMAGES[source](settings, sorted(set(names)), Path(out_dir))
