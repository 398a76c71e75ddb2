"""What `make gpu-pack` prepares for the device machine: the LFW people split into parts that fit
its per-call budget, extracted safely, and a config overlay the schema accepts."""

import io
import tarfile

import pytest
import yaml

from occlusion_fr.config import check_references, validate_config
from occlusion_fr_tooling.gpu_pack import extract_people, gpu_config, people_members, split_by_size

from conftest import REPO, SCHEMA


def lfw_like_archive(path, counts: dict[str, int], size: int = 100):
    with tarfile.open(path, "w:gz") as tar:
        for name, count in counts.items():
            for i in range(1, count + 1):
                data = bytes([i % 256]) * size
                member = tarfile.TarInfo(f"lfw/{name}/{name}_{i:04d}.jpg")
                member.size = len(data)
                tar.addfile(member, io.BytesIO(data))
        readme = tarfile.TarInfo("lfw/README.txt")
        readme.size = 2
        tar.addfile(readme, io.BytesIO(b"hi"))
    return path


def test_people_below_min_images_are_left_out_and_parts_respect_their_budgets(tmp_path):
    archive = lfw_like_archive(tmp_path / "a.tgz", {"Ann": 4, "Bob": 2, "Cid": 3, "Dee": 5})
    people = people_members(archive, min_images=3)
    assert sorted(people) == ["Ann", "Cid", "Dee"] and len(people["Dee"]) == 5
    sizes = {name: sum(m.size for m in members) for name, members in people.items()}  # 400, 300, 500
    first, second = split_by_size(sizes, [800, 500])
    assert sorted(first + second) == ["Ann", "Cid", "Dee"]
    assert sum(sizes[n] for n in first) <= 800 and sum(sizes[n] for n in second) <= 500
    with pytest.raises(ValueError, match="Dee .*fits none"):
        split_by_size(sizes, [450, 450])
    written = extract_people(archive, people, first, tmp_path / "out")
    assert written == sum(sizes[n] for n in first)
    assert sorted(p.parent.name for p in (tmp_path / "out").glob("*/*.jpg")).count(first[0]) == len(people[first[0]])


def test_the_overlay_is_a_valid_config_with_lfw_s_detector_and_epochs():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    overlay = gpu_config("/tmp/gpu_check/lfw_min10", config["datasets"]["lfw"])
    merged = validate_config({**config, **overlay, "datasets": {**config["datasets"], **overlay["datasets"]}}, SCHEMA)
    check_references(merged)
    dataset = merged["datasets"]["lfw_gpu"]
    assert dataset["source"] == "image_folder" and dataset["min_images"] == 10 and dataset["detector"] == "mtcnn"
    assert dataset["max_epochs"] == config["datasets"]["lfw"]["max_epochs"] and merged["seeds"] == [0]
