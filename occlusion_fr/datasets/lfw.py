"""Labeled Faces in the Wild: fetch, verify, extract safely, keep people with enough images.

The archive is the official deep-funneled ``lfw-deepfunneled.tgz`` whose members are
``lfw-deepfunneled/NAME/NAME_000N.jpg``. It is read from a local path when that exists,
otherwise downloaded from a configured URL; either way it must match the configured sha256.
"""

from __future__ import annotations

import logging
import re
import shutil
import tarfile
import urllib.request
from collections import Counter
from pathlib import Path, PurePosixPath

import pandas as pd
from tqdm import tqdm

from occlusion_fr.io import atomic_path, sha256_of, write_csv
from occlusion_fr.unusable import require_usable

log = logging.getLogger(__name__)

_MEMBER = re.compile(r"^[^/]+/(?P<identity>[^/]+)/(?P=identity)_\d{4}\.jpg$")
LAYOUT = "archive members TOP/NAME/NAME_000N.jpg (lfw-deepfunneled/Aaron_Peirsol/Aaron_Peirsol_0001.jpg)"


class UnsafeArchiveError(ValueError):
    """An archive member would escape the target folder or is not a plain file/folder."""


class ChecksumError(ValueError):
    pass


def fetch_archive(path: str | None, url: str | None, sha256: str, download_to) -> Path:
    """Return a verified local archive: ``path`` if it exists, else a download of ``url``."""
    if path and Path(path).is_file():
        source = Path(path)
    elif url:
        source = Path(download_to)
        if not source.is_file() or sha256_of(source) != sha256:
            log.info("downloading %s to %s", url, source)
            with atomic_path(source) as tmp, urllib.request.urlopen(url, timeout=120) as response:
                with open(tmp, "wb") as out:
                    shutil.copyfileobj(response, out)
    else:
        raise FileNotFoundError(
            f"LFW archive not found at datasets.lfw.archive={path!r} and no datasets.lfw.url is set"
        )
    actual = sha256_of(source)
    if actual != sha256:
        raise ChecksumError(f"{source}: sha256 {actual} does not match datasets.lfw.sha256 {sha256}")
    return source


def check_member(member: tarfile.TarInfo) -> None:
    """Refuse absolute paths, ``..`` components, links and special files, naming the member."""
    name = member.name
    parts = PurePosixPath(name).parts
    if name.startswith("/") or PurePosixPath(name).is_absolute() or re.match(r"^[A-Za-z]:", name):
        raise UnsafeArchiveError(f"archive member {name!r} has an absolute path")
    if ".." in parts:
        raise UnsafeArchiveError(f"archive member {name!r} has a '..' component")
    if member.issym() or member.islnk():
        raise UnsafeArchiveError(f"archive member {name!r} is a link")
    if not (member.isfile() or member.isdir()):
        raise UnsafeArchiveError(f"archive member {name!r} is a special file")


def select_people(names, min_images: int) -> tuple[dict[str, str], pd.DataFrame]:
    """Pick the LFW image members of people with at least ``min_images`` images.

    Returns ({member name: identity}, the files not kept with their reason: wrong name pattern,
    or too few images of that person).
    """
    images, skipped = {}, []
    for name in names:
        match = _MEMBER.match(name)
        if match:
            images[name] = match["identity"]
        else:
            skipped.append({"file": name, "reason": "wrong name pattern: not TOP/NAME/NAME_000N.jpg"})
    counts = Counter(images.values())
    skipped += [{"file": name, "reason": f"too few images: {ident} has {counts[ident]} (min_images {min_images})"}
                for name, ident in images.items() if counts[ident] < min_images]
    keep = {name: ident for name, ident in images.items() if counts[ident] >= min_images}
    return keep, pd.DataFrame(skipped, columns=["file", "reason"])


def extract_people(archive, out_dir, min_images: int) -> pd.DataFrame:
    """Extract the images of people with at least ``min_images`` images.

    Every member is checked (:func:`check_member`) before anything is written. Returns an
    index with columns image (path relative to ``out_dir``) and identity. Files that do not
    follow the LFW naming are reported in the log and not extracted; an archive with no usable
    image fails, counting the reasons.
    """
    out_dir = Path(out_dir)
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        for member in members:
            check_member(member)
        keep, skipped = select_people([m.name for m in members if m.isfile()], min_images)
        require_usable(len(keep), skipped, f"LFW archive {archive}", f"{LAYOUT}, at least min_images per person")
        unexpected = skipped.loc[skipped["reason"].str.startswith("wrong name pattern"), "file"].tolist()
        if unexpected:
            log.warning("ignored %d archive files outside the LFW layout, e.g. %s", len(unexpected), unexpected[:3])
        rows = []
        for member in tqdm(members, desc="extract", unit="member"):
            if member.name not in keep:
                continue
            identity = keep[member.name]
            rel = f"{identity}/{PurePosixPath(member.name).name}"
            with atomic_path(out_dir / rel) as tmp, tar.extractfile(member) as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
            rows.append({"image": rel, "identity": identity})
    index = pd.DataFrame(rows, columns=["image", "identity"]).sort_values("image", ignore_index=True)
    log.info("kept %d images of %d people with >= %d images (archive: %d files)",
             len(index), index["identity"].nunique(), min_images, sum(m.isfile() for m in members))
    return index


def archive_images(archive) -> pd.DataFrame:
    """Every image member of the archive as (image ``NAME/NAME_000N.jpg``, identity), after
    checking every member as :func:`extract_people` does."""
    rows = []
    with tarfile.open(archive, "r:*") as tar:
        for member in tar.getmembers():
            check_member(member)
            match = _MEMBER.match(member.name)
            if match and member.isfile():
                rows.append({"image": f"{match['identity']}/{PurePosixPath(member.name).name}",
                             "identity": match["identity"]})
    return pd.DataFrame(rows, columns=["image", "identity"]).drop_duplicates("image").sort_values("image",
                                                                                                 ignore_index=True)


def extract_images(archive, names, out_dir) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Extract the images ``NAME/NAME_000N.jpg`` listed in ``names`` (e.g. those a pairs file
    needs, of any person): (index of image and identity, names not in the archive with the
    reason). Every member is checked first, as in :func:`extract_people`."""
    wanted = set(names)
    out_dir = Path(out_dir)
    rows = []
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        for member in members:
            check_member(member)
        for member in tqdm(members, desc="extract", unit="member"):
            match = _MEMBER.match(member.name)
            rel = f"{match['identity']}/{PurePosixPath(member.name).name}" if match and member.isfile() else None
            if rel not in wanted:
                continue
            with atomic_path(out_dir / rel) as tmp, tar.extractfile(member) as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
            rows.append({"image": rel, "identity": match["identity"]})
    index = pd.DataFrame(rows, columns=["image", "identity"]).drop_duplicates("image").sort_values("image",
                                                                                                  ignore_index=True)
    missing = sorted(wanted - set(index["image"]))
    return index, pd.DataFrame({"file": missing, "reason": [f"no file: not in the archive {archive}"] * len(missing)},
                               columns=["file", "reason"], dtype=str)


def prepare_lfw(archive_path, url, sha256, download_to, out_dir, index_csv, min_images: int) -> pd.DataFrame:
    archive = fetch_archive(archive_path, url, sha256, download_to)
    index = extract_people(archive, out_dir, min_images)
    write_csv(index_csv, index)
    return index
