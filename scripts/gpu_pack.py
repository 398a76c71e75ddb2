"""Prepare `.gpu/` for `make gpu-check` on the device machine (`make gpu-pack` runs this here).

Writes `.gpu/part1/` (the wheels of benchmarks/gpu_wheels.txt for Python 3.12 and LFW people)
and `.gpu/part2/` (the other LFW people), each within what one device call carries beside the
repository's tracked files, plus `.gpu/part1/gpu_check.yaml` (the config overlay). Usage:
python scripts/gpu_pack.py [--archive ../shared/data/lfw/lfw-deepfunneled.tgz]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tools.gpu_pack import DEVICE_STORE, extract_people, people_members, split_by_size, write_gpu_config

REPO = Path(__file__).resolve().parents[1]
CALL_LIMIT = 64 * 2**20  # bytes one device call carries, tracked files included
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64"]


def tracked_bytes() -> int:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, stdout=subprocess.PIPE, check=True).stdout
    return sum((REPO / name).stat().st_size for name in names.decode().split("\0") if name and (REPO / name).is_file())


def download_wheels(folder: Path) -> int:
    requirements = [line.strip() for line in (REPO / "benchmarks" / "gpu_wheels.txt").read_text().splitlines()
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
          "device calls in benchmarks/gpu_check.sh")


if __name__ == "__main__":
    main()
