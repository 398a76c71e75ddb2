"""What a GPU check carries to a machine that has no internet and no copy of LFW.

The device machine takes at most 64 MiB per call, the repository's tracked files included, so
the LFW images of the people with at least ``min_images`` images (37.8 MB) and the Python wheels
the GPU image lacks (Snakemake, segmentation-models-pytorch, facenet-pytorch and what they need)
travel in parts, one per call, each under a byte budget; `benchmarks/gpu_check.sh` joins them.
"""

from __future__ import annotations

import tarfile
from collections import defaultdict
from pathlib import Path, PurePosixPath

import yaml

from occlusion_fr.io import write_text

DEVICE_STORE = "/tmp/gpu_check"  # where benchmarks/gpu_check.sh joins the parts on the device


def people_members(archive: Path, min_images: int) -> dict[str, list[tarfile.TarInfo]]:
    """{identity: its .jpg members} of an LFW-layout archive (``<top>/<identity>/<image>.jpg``),
    for the identities with at least ``min_images`` images."""
    members = defaultdict(list)
    with tarfile.open(archive) as tar:
        for member in tar:
            parts = PurePosixPath(member.name).parts
            if member.isfile() and len(parts) == 3 and parts[2].lower().endswith(".jpg"):
                members[parts[1]].append(member)
    return {name: found for name, found in sorted(members.items()) if len(found) >= min_images}


def split_by_size(sizes: dict[str, int], budgets: list[int]) -> list[list[str]]:
    """Assign each item (largest first) to the first part whose budget it still fits; an item that
    fits none is an error naming it and the budgets."""
    parts: list[list[str]] = [[] for _ in budgets]
    left = list(budgets)
    for name in sorted(sizes, key=lambda n: (-sizes[n], n)):
        target = next((i for i, room in enumerate(left) if sizes[name] <= room), None)
        if target is None:
            raise ValueError(f"{name} ({sizes[name]:,} bytes) fits none of the parts (room left: {left})")
        parts[target].append(name)
        left[target] -= sizes[name]
    return [sorted(part) for part in parts]


def extract_people(archive: Path, people: dict[str, list[tarfile.TarInfo]], names: list[str], folder: Path) -> int:
    """Write ``folder/<identity>/<image>.jpg`` for ``names``; returns bytes written. Only regular
    files named by the layout are read, never extracted by their archive paths."""
    written = 0
    wanted = {member.name: name for name in names for member in people[name]}
    with tarfile.open(archive) as tar:
        for member in tar:
            if member.name in wanted:
                target = folder / wanted[member.name] / PurePosixPath(member.name).name
                target.parent.mkdir(parents=True, exist_ok=True)
                data = tar.extractfile(member).read()
                target.write_bytes(data)
                written += len(data)
    return written


def gpu_config(root: str, lfw: dict, seed: int = 0) -> dict:
    """A config overlay that runs LFW's people (from an image folder) as the dataset ``lfw_gpu``
    with LFW's detector and epoch limits."""
    return {"dataset": "lfw_gpu", "seeds": [seed],
            "datasets": {"lfw_gpu": {"source": "image_folder", "root": root, "detector": lfw["detector"],
                                     "min_images": lfw["min_images"], "max_epochs": dict(lfw["max_epochs"])}}}


def write_gpu_config(path: Path, root: str, config: dict) -> None:
    write_text(path, yaml.safe_dump(gpu_config(root, config["datasets"]["lfw"]), sort_keys=False))
