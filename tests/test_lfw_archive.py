import hashlib
import io
import tarfile

import pytest
import yaml

from occlusion_fr.datasets.lfw import (ChecksumError, UnsafeArchiveError, extract_images, extract_people, fetch_archive,
                                       select_people)
from occlusion_fr.io import sha256_of
from occlusion_fr.unusable import NoUsableImagesError

from conftest import REPO, SHARED_LFW, needs_lfw


def make_tar(path, members):
    """members: list of (TarInfo kwargs, bytes or None)."""
    with tarfile.open(path, "w:gz") as tar:
        for info_kwargs, data in members:
            info = tarfile.TarInfo(info_kwargs.pop("name"))
            for key, value in info_kwargs.items():
                setattr(info, key, value)
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


@pytest.mark.parametrize("member, message", [
    ({"name": "lfw-deepfunneled/../../evil.jpg"}, "'..' component"),
    ({"name": "/etc/evil.jpg"}, "absolute path"),
    ({"name": "lfw-deepfunneled/A/A_0002.jpg", "type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}, "is a link"),
    ({"name": "lfw-deepfunneled/A/A_0003.jpg", "type": tarfile.LNKTYPE, "linkname": "lfw-deepfunneled/A/A_0001.jpg"},
     "is a link"),
    ({"name": "lfw-deepfunneled/A/fifo", "type": tarfile.FIFOTYPE}, "special file"),
])
def test_unsafe_members_are_refused_by_name(tmp_path, member, message):
    name = member["name"]
    is_file = member.get("type", tarfile.REGTYPE) == tarfile.REGTYPE
    archive = make_tar(tmp_path / "bad.tgz", [({"name": "lfw-deepfunneled/A/A_0001.jpg"}, b"x"),
                                               (dict(member), b"y" if is_file else None)])
    with pytest.raises(UnsafeArchiveError, match=message) as error:
        extract_people(archive, tmp_path / "out", min_images=1)
    assert name in str(error.value)
    assert not (tmp_path / "out").exists(), "nothing may be written before every member is checked"
    assert not (tmp_path / "evil.jpg").exists()


def test_extract_keeps_people_with_enough_images(tmp_path):
    members = [({"name": f"lfw-deepfunneled/Ann_Lee/Ann_Lee_{i:04d}.jpg"}, b"a%d" % i) for i in range(1, 4)]
    members += [({"name": "lfw-deepfunneled/Bo_Xu/Bo_Xu_0001.jpg"}, b"b"), ({"name": "lfw-deepfunneled/README"}, b"r")]
    archive = make_tar(tmp_path / "ok.tgz", members)
    index = extract_people(archive, tmp_path / "out", min_images=3)
    assert index["image"].tolist() == [f"Ann_Lee/Ann_Lee_{i:04d}.jpg" for i in range(1, 4)]
    assert set(index["identity"]) == {"Ann_Lee"}
    assert (tmp_path / "out" / "Ann_Lee" / "Ann_Lee_0002.jpg").read_bytes() == b"a2"
    assert not (tmp_path / "out" / "Bo_Xu").exists()


def test_fetch_checks_checksum_and_names_missing_source(tmp_path):
    archive = tmp_path / "a.tgz"
    archive.write_bytes(b"not really an archive")
    assert fetch_archive(str(archive), None, sha256_of(archive), tmp_path / "dl.tgz") == archive
    with pytest.raises(ChecksumError, match="datasets.lfw.sha256"):
        fetch_archive(str(archive), None, "0" * 64, tmp_path / "dl.tgz")
    with pytest.raises(FileNotFoundError, match="datasets.lfw.archive"):
        fetch_archive(str(tmp_path / "missing.tgz"), None, "0" * 64, tmp_path / "dl.tgz")


def test_fetch_downloads_from_url(tmp_path):
    source = tmp_path / "remote.tgz"
    source.write_bytes(b"archive bytes")
    got = fetch_archive(str(tmp_path / "missing.tgz"), source.as_uri(), sha256_of(source), tmp_path / "dl" / "a.tgz")
    assert got.read_bytes() == b"archive bytes"


@needs_lfw
def test_real_lfw_selection_gives_158_people_and_4324_images():
    with tarfile.open(SHARED_LFW, "r:gz") as tar:
        names = [m.name for m in tar if m.isfile()]
    assert len(names) == 13233
    keep, skipped = select_people(names, min_images=10)
    assert len(keep) == 4324 and len(set(keep.values())) == 158
    assert len(skipped) == 13233 - 4324 and skipped["reason"].str.startswith("too few images").all()


@needs_lfw
def test_dvc_file_and_config_pin_the_real_archive():
    """data/lfw/lfw-deepfunneled.tgz.dvc (what `dvc pull` fetches) and datasets.lfw.sha256 (what
    the pipeline checks) both describe the official archive."""
    entry = yaml.safe_load((REPO / "data/lfw/lfw-deepfunneled.tgz.dvc").read_text())["outs"][0]
    config = yaml.safe_load((REPO / "config.yaml").read_text())["datasets"]["lfw"]
    assert entry["size"] == SHARED_LFW.stat().st_size
    assert entry["md5"] == hashlib.md5(SHARED_LFW.read_bytes()).hexdigest()
    assert config["sha256"] == sha256_of(SHARED_LFW)
    assert config["archive"] == "data/lfw/" + entry["path"]


@pytest.mark.parametrize("names", [
    ["photos/alice/IMG_1.jpg", "photos/alice/IMG_2.jpg", "photos/bob/IMG_7.jpg"],  # not TOP/NAME/NAME_000N.jpg
    ["lfw/Ann_Lee/Ann_Lee_0001.JPG", "lfw/Ann_Lee/Ann_Lee_0002.png", "lfw/Ann_Lee/Ann_Lee_0003.jpeg"],
])
def test_an_archive_with_no_usable_image_fails_naming_the_layout(tmp_path, names):
    archive = make_tar(tmp_path / "photos.tgz", [({"name": name}, b"x") for name in names])
    with pytest.raises(NoUsableImagesError, match=rf"photos.tgz: no usable image \(3 skipped: wrong name pattern 3\)"
                                                  r"\. Expected archive members TOP/NAME/NAME_000N\.jpg"):
        extract_people(archive, tmp_path / "out", min_images=1)
    assert not (tmp_path / "out").exists()


def test_people_below_min_images_are_counted_when_nobody_is_left(tmp_path):
    archive = make_tar(tmp_path / "few.tgz", [({"name": f"lfw/Bo_Xu/Bo_Xu_000{i}.jpg"}, b"b") for i in (1, 2)])
    with pytest.raises(NoUsableImagesError, match=r"2 skipped: too few images 2"):
        extract_people(archive, tmp_path / "out", min_images=10)


def test_extract_images_takes_any_named_person_and_lists_the_missing(tmp_path):
    members = [({"name": f"lfw-deepfunneled/Ann_Lee/Ann_Lee_{i:04d}.jpg"}, b"a%d" % i) for i in range(1, 4)]
    members += [({"name": "lfw-deepfunneled/Bo_Xu/Bo_Xu_0001.jpg"}, b"b")]
    archive = make_tar(tmp_path / "ok.tgz", members)
    index, missing = extract_images(archive, ["Bo_Xu/Bo_Xu_0001.jpg", "Ann_Lee/Ann_Lee_0002.jpg",
                                              "Cy_Po/Cy_Po_0001.jpg"], tmp_path / "out")
    assert index.to_dict(orient="list") == {"image": ["Ann_Lee/Ann_Lee_0002.jpg", "Bo_Xu/Bo_Xu_0001.jpg"],
                                            "identity": ["Ann_Lee", "Bo_Xu"]}
    assert (tmp_path / "out" / "Bo_Xu" / "Bo_Xu_0001.jpg").read_bytes() == b"b"
    assert not (tmp_path / "out" / "Ann_Lee" / "Ann_Lee_0001.jpg").exists()
    assert missing["file"].tolist() == ["Cy_Po/Cy_Po_0001.jpg"] and "not in the archive" in missing["reason"][0]
    with pytest.raises(UnsafeArchiveError, match="'..' component"):
        extract_images(make_tar(tmp_path / "bad.tgz", [({"name": "x/../../Bo_Xu_0001.jpg"}, b"e")]),
                       ["Bo_Xu/Bo_Xu_0001.jpg"], tmp_path / "out2")
