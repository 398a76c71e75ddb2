"""The people outside a recognition dataset, for the open-set protocol: everyone the source
holds with fewer than ``min_images`` images (so never in any run's split). People with two or
more images are enrolled and probed; people with a single image are impostor probes.

LFW: every person of the archive below ``min_images`` (1,522 people with 2-9 images and 4,069
with one, at ``min_images`` 10). Synthetic: the ``unseen_identities`` people beyond
``identities``, person j with 1 + (j mod ``images_per_identity``) images, so that both kinds
occur.
"""

from __future__ import annotations

import pandas as pd

from occlusion_fr.datasets.lfw import archive_images, fetch_archive
from occlusion_fr.datasets.synthetic import identity_name

COLUMNS = ["image", "identity"]


def lfw_outsiders(settings: dict) -> pd.DataFrame:
    archive = fetch_archive(settings["archive"], settings["url"], settings["sha256"], settings["download_to"])
    images = archive_images(archive)
    counts = images["identity"].map(images["identity"].value_counts())
    return images[counts < settings["min_images"]].reset_index(drop=True)


def synthetic_outsiders(settings: dict) -> pd.DataFrame:
    rows = []
    for j in range(settings["unseen_identities"]):
        name = identity_name(settings["identities"] + j)
        rows += [{"image": f"{name}/{name}_{k:04d}.jpg", "identity": name}
                 for k in range(1, 2 + j % settings["images_per_identity"])]
    return pd.DataFrame(rows, columns=COLUMNS)


OUTSIDERS = {"lfw_archive": lfw_outsiders, "synthetic": synthetic_outsiders}
# The dataset settings each source's outsiders depend on.
OUTSIDER_KEYS = {"lfw_archive": ("archive", "url", "sha256", "min_images"),
                 "synthetic": ("seed", "identities", "images_per_identity", "unseen_identities")}


def outsider_images(source: str, settings: dict) -> pd.DataFrame:
    """(image, identity) of every image of the people outside the dataset."""
    if source not in OUTSIDERS:
        raise ValueError(f"datasets.*.source: {source!r} has no open-set protocol (sources with one: "
                         f"{', '.join(OUTSIDERS)})")
    return OUTSIDERS[source](settings)
