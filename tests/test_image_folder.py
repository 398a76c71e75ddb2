"""A folder of one's own photos as a dataset: every file kept or listed with its reason."""

import io
import shutil
import tarfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from occlusion_fr.datasets.image_folder import prepare_image_folder
from occlusion_fr.detect import usable_people
from occlusion_fr.unusable import NoUsableImagesError

from conftest import SHARED_LFW, needs_lfw, snakemake, write_config

PEOPLE = {"Adrien_Brody": 12, "Ari_Fleischer": 13, "Bill_McBride": 10}


def jpeg(value: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((40, 30, 3), value, np.uint8)).save(buffer, format="JPEG")
    return buffer.getvalue()


def junk_folder(root):
    """Three people of small real-looking files plus one file of each kind of junk."""
    for offset, (person, count) in enumerate({"ann": 4, "bo": 3, "cy": 2}.items()):
        for k in range(count):
            (root / person).mkdir(parents=True, exist_ok=True)
            (root / person / f"{k}.jpg").write_bytes(jpeg(10 * k + 60 * offset + 5))
    (root / "ann" / "notes.txt").write_text("hello")
    (root / "ann" / "empty.jpg").write_bytes(b"")
    (root / "ann" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    shutil.copyfile(root / "bo" / "0.jpg", root / "bo" / "copy.jpg")
    (root / "stray.jpg").write_bytes(jpeg(3))
    Image.fromarray(np.full((40, 30, 3), 9, np.uint8)).save(root / "ann" / "0.png")  # crop name of ann/0.jpg
    (root / ".hidden").mkdir()
    (root / ".hidden" / "x.jpg").write_bytes(jpeg(4))
    return root


def test_every_file_is_kept_or_listed_with_its_reason(tmp_path):
    root = junk_folder(tmp_path / "photos")
    index = prepare_image_folder(root, None, tmp_path / "raw", tmp_path / "index.csv", tmp_path / "skipped.csv",
                                 min_images=3)
    assert index["image"].tolist() == [f"ann/{k}.jpg" for k in range(4)] + [f"bo/{k}.jpg" for k in range(3)]
    assert (tmp_path / "raw" / "bo" / "2.jpg").read_bytes() == (root / "bo" / "2.jpg").read_bytes()
    skipped = pd.read_csv(tmp_path / "skipped.csv").set_index("file")["reason"]
    assert skipped["ann/notes.txt"].startswith("not an image: suffix .txt")
    assert skipped["ann/empty.jpg"] == "empty file: 0 bytes"
    assert skipped["ann/broken.png"].startswith("unreadable:")
    assert skipped["bo/copy.jpg"] == "duplicate: same content as bo/0.jpg"
    assert skipped["stray.jpg"].startswith("wrong layout")
    assert skipped["cy/0.jpg"].startswith("too few images: cy has 2 usable")
    assert skipped["ann/0.png"].startswith("duplicate name: same name without suffix as ann/0.jpg")
    assert len(skipped) == 8 and ".hidden/x.jpg" not in skipped.index


def test_a_manifest_lists_the_images_and_missing_files_are_named(tmp_path):
    root = junk_folder(tmp_path / "photos")
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame({"image": ["ann/0.jpg", "ann/1.jpg", "ann/2.jpg", "ann/9.jpg", "bo/0.jpg"],
                  "identity": ["Ann", "Ann", "Ann", "Ann", "Bo"]}).to_csv(manifest, index=False)
    index = prepare_image_folder(root, manifest, tmp_path / "raw", tmp_path / "index.csv", tmp_path / "skipped.csv",
                                 min_images=3)
    assert index["image"].tolist() == ["Ann/0.jpg", "Ann/1.jpg", "Ann/2.jpg"]
    skipped = pd.read_csv(tmp_path / "skipped.csv").set_index("file")["reason"]
    assert skipped["ann/9.jpg"].startswith("no file") and skipped["bo/0.jpg"].startswith("too few images")


def test_a_folder_with_nothing_usable_fails_counting_the_reasons(tmp_path):
    (tmp_path / "photos" / "ann").mkdir(parents=True)
    (tmp_path / "photos" / "ann" / "a.txt").write_text("x")
    with pytest.raises(NoUsableImagesError, match="not an image"):
        prepare_image_folder(tmp_path / "photos", None, tmp_path / "raw", tmp_path / "i.csv", tmp_path / "s.csv", 3)


def test_people_left_below_min_images_after_detection_are_listed():
    faces = pd.DataFrame({"image": ["a/1", "a/2", "a/3", "b/1", "b/2"], "identity": ["a", "a", "a", "b", "b"]})
    failures = pd.DataFrame({"image": ["b/3"], "identity": ["b"], "reason": ["no face detected"]})
    kept, failures = usable_people(faces, failures, min_images=3)
    assert kept["image"].tolist() == ["a/1", "a/2", "a/3"]
    assert failures["reason"].tolist() == ["no face detected"] + ["too few images: b has 2 with a face (min_images 3)"] * 2


@pytest.mark.slow
@needs_lfw
def test_lfw_people_and_junk_run_the_data_stage(workdir):
    root = workdir / "photos"
    with tarfile.open(SHARED_LFW) as archive:
        for member in archive.getmembers():
            person = member.name.split("/")[1] if member.name.count("/") == 2 else None
            if person in PEOPLE and member.isfile():
                (root / person).mkdir(parents=True, exist_ok=True)
                (root / person / member.name.split("/")[-1]).write_bytes(archive.extractfile(member).read())
    junk_folder(root / "junk")  # one level too deep (wrong layout), but junk/stray.jpg is a person "junk"
    (root / "Adrien_Brody" / "notes.txt").write_text("not a photo")
    (root / "Adrien_Brody" / "empty.jpg").write_bytes(b"")
    shutil.copyfile(root / "Adrien_Brody" / "Adrien_Brody_0001.jpg", root / "Adrien_Brody" / "again.jpg")
    Image.fromarray(np.full((250, 250, 3), 128, np.uint8)).save(root / "Ari_Fleischer" / "grey.png")
    # Bill McBride's 10th image does not decode: 9 usable, below min_images.
    (root / "Bill_McBride" / "Bill_McBride_0010.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")

    config = write_config(workdir / "mine.yaml", {"dataset": "mine", "datasets": {"mine": {
        "source": "image_folder", "root": str(root), "min_images": 10}}})
    snakemake(workdir, "--cores", "2", "--configfile", str(config), "--", "results/mine/seed0/split.csv")
    skipped = pd.read_csv(workdir / "results" / "mine" / "raw" / "skipped.csv")
    kinds = skipped["reason"].str.split(":").str[0].value_counts().to_dict()
    assert kinds == {"wrong layout": 14, "too few images": 9 + 1, "not an image": 1, "empty file": 1,
                     "duplicate": 1, "unreadable": 1}
    assert set(skipped.loc[skipped["reason"].str.startswith("too few"), "identity"]) == {"Bill_McBride", "junk"}
    failures = pd.read_csv(workdir / "results" / "mine" / "faces" / "failures.csv")
    assert failures["image"].tolist() == ["Ari_Fleischer/grey.png"] and failures["reason"][0] == "no face detected"
    split = pd.read_csv(workdir / "results" / "mine" / "seed0" / "split.csv")
    assert split.groupby("identity").size().to_dict() == {"Adrien_Brody": 12, "Ari_Fleischer": 13}
