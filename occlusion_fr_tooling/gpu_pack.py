"""What a GPU check carries to a machine that has no internet and no copy of LFW (`make gpu-pack`).

The device machine takes at most 64 MiB per call, the repository's tracked files included, so
the LFW images of the people with at least ``min_images`` images (37.8 MB) and the Python wheels
the GPU image lacks (Snakemake, segmentation-models-pytorch, facenet-pytorch and what they need)
travel in parts, one per call, each under a byte budget; `occlusion_fr_tooling/gpu_check.sh`
joins them on the device (`make gpu-check`).

As a command, writes `.gpu/part1/` (the wheels of occlusion_fr_tooling/gpu_wheels.txt for Python
3.12 and LFW people) and `.gpu/part2/` (the other LFW people), each within what one device call
carries beside the repository's tracked files, plus `.gpu/part1/gpu_check.yaml` (the config
overlay). Usage:
python -m occlusion_fr_tooling.gpu_pack [--archive ../shared/data/lfw/lfw-deepfunneled.tgz]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
from collections import defaultdict
from pathlib import Path, PurePosixPath

import yaml

from occlusion_fr.io import write_text

REPO = Path(__file__).resolve().parents[1]
DEVICE_STORE = "/tmp/gpu_check"  # where occlusion_fr_tooling/gpu_check.sh joins the parts on the device
CALL_LIMIT = 64 * 2**20  # bytes one device call carries, tracked files included
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64"]


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


def tracked_bytes() -> int:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, stdout=subprocess.PIPE, check=True).stdout
    return sum((REPO / name).stat().st_size for name in names.decode().split("\0") if name and (REPO / name).is_file())


def download_wheels(folder: Path) -> int:
    requirements = [line.strip() for line in (REPO / "occlusion_fr_tooling" / "gpu_wheels.txt").read_text().splitlines()
                    if line.strip() and not line.startswith("#")]
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                    "--python-version", "3.12", "--implementation", "cp",
                    *[arg for platform in PLATFORMS for arg in ("--platform", platform)], "-d", str(folder),
                    *requirements], check=True)
    return sum(path.stat().st_size for path in folder.glob("*.whl"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=REPO.parent / "shared" / "data" / "lfw" / "lfw-deepfunneled.tgz")
    args = parser.parse_args()
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    out = REPO / ".gpu"
    shutil.rmtree(out, ignore_errors=True)
    wheels = download_wheels(out / "part1" / "wheels")
    room = CALL_LIMIT - tracked_bytes() - 2**20  # a MiB to spare for untracked files
    people = people_members(args.archive, config["datasets"]["lfw"]["min_images"])
    sizes = {name: sum(member.size for member in members) for name, members in people.items()}
    parts = split_by_size(sizes, [room - wheels, room])
    for number, names in enumerate(parts, start=1):
        written = extract_people(args.archive, people, names, out / f"part{number}" / "lfw_min10")
        print(f".gpu/part{number}: {len(names)} people, {written / 1e6:.1f} MB of images"
              + (f" and {wheels / 1e6:.1f} MB of wheels" if number == 1 else "") + f" (room {room / 1e6:.1f} MB)")
    write_gpu_config(out / "part1" / "gpu_check.yaml", f"{DEVICE_STORE}/lfw_min10", config)
    print(f"{sum(len(p) for p in parts)} people, {sum(len(m) for m in people.values())} images; next: the two "
          "device calls in occlusion_fr_tooling/gpu_check.sh")


if __name__ == "__main__":
    main()
