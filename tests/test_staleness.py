"""No silent staleness, made for real: a killed Snakemake's orphaned training, a forced rerun,
a face-mask folder whose files change, and sets left with no usable image."""

import json
import os
import re
import signal
import subprocess
import time
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from occlusion_fr.folder_lock import FolderLock
from occlusion_fr_tooling.rerun_cost import downstream, matching, parse_dry_run

from conftest import REPO, SNAKEMAKE, TINY, TINY_TRAINING, SnakemakeFailed, snakemake, write_config
from test_workflow import planned_jobs, planned_wildcards

pytestmark = pytest.mark.slow
SEED0 = "results/synthetic/seed0"


def wait_for(condition, what: str, seconds: float = 600):
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_an_orphaned_training_is_not_raced_and_a_forced_rerun_retrains(workdir):
    """kill -9 of Snakemake leaves its training running: a rerun is refused while that process
    lives, takes over once it is gone and resumes the unfinished training; the log keeps every
    attempt. Then --forcerun trains afresh instead of reusing the finished checkpoint."""
    epochs = 3
    config = write_config(workdir / "tiny.yaml", {
        **TINY_TRAINING, "base_cnn": {**TINY_TRAINING["base_cnn"], "patience": epochs},
        "datasets": {"synthetic": {"identities": 4, "images_per_identity": 5,
                                   "max_epochs": {"base_cnn": epochs, "segmenter": 1}}}})
    target = f"{SEED0}/models/base_cnn/metrics.json"
    folder = workdir / SEED0 / "models/base_cnn/checkpoints"
    log_path = workdir / SEED0 / "logs/base_cnn.log"
    attempts = workdir / SEED0 / "logs/attempts/base_cnn.log"  # Snakemake deletes log_path before each run
    command = [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory", str(workdir), target, "--cores", "1",
               "--configfile", str(config)]
    manager = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: (folder / "lock").exists() and (folder / "last.pt").exists() or manager.poll() is not None,
             "the first checkpoint")
    orphan = json.loads((folder / "lock").read_text())["pid"]
    os.kill(orphan, signal.SIGSTOP)  # alive but held still, so that it cannot finish during the test
    manager.kill()  # kill -9 of Snakemake alone: its training job lives on
    manager.wait()
    try:
        snakemake(workdir, "--unlock", "--configfile", str(config))
        with pytest.raises(SnakemakeFailed):
            snakemake(workdir, target, "--cores", "1", "--configfile", str(config))
        refused = log_path.read_text().rsplit("==== attempt", 1)[1]
        assert f"another training (pid {orphan} on" in refused and f"kill {orphan}" in refused
    finally:
        os.kill(orphan, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(f"/proc/{orphan}") or
             open(f"/proc/{orphan}/stat").read().rsplit(")", 1)[1].split()[0] == "Z", "the orphan to end")

    snakemake(workdir, target, "--cores", "1", "--configfile", str(config))
    text = attempts.read_text()
    assert text.count("==== attempt started") == 3  # the orphan's, the refused one, this one
    assert "epoch 1: loss" in text.split("==== attempt")[1]  # the orphan's lines survive the reruns
    last = text.rsplit("==== attempt", 1)[1]
    assert last in log_path.read_text()
    assert f"taking over the lock of pid {orphan}" in last
    resumed_after = int(re.search(r"resuming from \S+ after epoch (\d+) \(an unfinished training", last)[1])
    assert 1 <= resumed_after < epochs
    history = json.loads((workdir / target).read_text())["history"]
    assert [h["epoch"] for h in history] == list(range(1, epochs + 1))
    assert FolderLock(folder, "training").owner() == {}  # released

    snakemake(workdir, target, "--cores", "1", "--configfile", str(config), "--forcerun", "base_cnn")
    forced = log_path.read_text().rsplit("==== attempt", 1)[1]
    assert "holds a finished training" in forced and "training afresh" in forced and "resuming" not in forced
    assert [int(e) for e in re.findall(r"epoch (\d+): loss", forced)] == list(range(1, epochs + 1))


def masktheface_like(raw, images, folder, suffix="surgical"):
    """MaskTheFace-named copies (NAME/NAME_000N_<suffix>.jpg) of raw images, the lower half
    covered by a flat 'mask'."""
    for image in images:
        pixels = np.asarray(Image.open(raw / image).convert("RGB")).copy()
        pixels[pixels.shape[0] // 2:] = (70, 110, 160)
        target = folder / image.split("/")[0] / f"{image.split('/')[1][:-4]}_{suffix}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(target)


def test_a_face_mask_folder_is_an_input_and_a_set_without_images_fails_with_its_reasons(workdir):
    default_test = ["forehead", "eyes", "nose", "mouth", "chin", "nose_mouth_chin", "face_mask", "sunglasses"]
    masks = {name: {"type": "face_mask", "source": "directory", "directory": name}
             for name in ("real_mask", "empty_mask", "broken_mask", "stray_mask")}
    config = write_config(workdir / "tiny.yaml", {**TINY, "occlusions": masks,
                                                  "occlusion_sets": {"test": [*default_test, "real_mask"]}})
    run = ("--cores", "2", "--configfile", str(config))
    snakemake(workdir, *run, "--", f"{SEED0}/split.csv")
    split = pd.read_csv(workdir / SEED0 / "split.csv")
    test_images = split.loc[split["split"] == "test", "image"].tolist()
    raw, folder = workdir / "results/synthetic/raw/images", workdir / "real_mask"
    masktheface_like(raw, test_images, folder)  # made for the test split only, as MaskTheFace runs often are

    real_set = f"{SEED0}/occlusions/test/real_mask.csv"
    snakemake(workdir, *run, "--", real_set)
    index = pd.read_csv(workdir / SEED0 / "occlusions/test/real_mask.csv")
    assert sorted(index["image"]) == sorted(test_images)
    assert "Nothing to be done" in snakemake(workdir, "-n", *run, "--", real_set)

    def rerun_after(change):
        change()
        output = snakemake(workdir, "-n", *run, "--", real_set)
        assert planned_jobs(output) == {"occlusion_set": 1}, output
        assert planned_wildcards(output, "occlusion_set") == ["dataset=synthetic, seed=0, split=test, "
                                                              "occlusion=real_mask"]
        snakemake(workdir, *run, "--", real_set)
        return pd.read_csv(workdir / SEED0 / "occlusions/test/real_mask_skipped.csv", keep_default_na=False)

    first = next(folder.rglob("*_surgical.jpg"))
    # Added: a second file for an image (reported as a duplicate).
    added = rerun_after(lambda: masktheface_like(raw, test_images[:1], folder, suffix="cloth"))
    assert added["reason"].str.startswith("duplicate").sum() == 1

    def replace_keeping_size_and_time():  # another mask in the same file: same size, old time stamp
        stat, content = first.stat(), bytearray(first.read_bytes())
        content[-3] ^= 0xFF  # a byte of the image data changes; its size does not
        first.write_bytes(bytes(content))
        os.utime(first, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert first.stat().st_size == stat.st_size
    rerun_after(replace_keeping_size_and_time)
    removed = rerun_after(lambda: first.unlink())
    assert "no file: no MaskTheFace file for this image" in set(removed["reason"])

    # Everything downstream of the set depends on it (the folder's sets feed the segmenter and Table 1).
    dag = parse_dry_run(snakemake(workdir, "-n", "--forceall", "--configfile", str(config)))
    after = Counter(dag[i].rule for i in downstream(dag, matching(dag, "occlusion_set", occlusion="real_mask")))
    assert {"segmenter", "occlusion_masks", "identification", "table1", "across_seeds"} <= set(after)
    assert "base_cnn" not in after and "mask_generator" not in after

    # Sets with no usable image fail with one message counting the reasons; every file's reason
    # stays in the job's log (Snakemake deletes the failed job's skipped-image table).
    (workdir / "empty_mask").mkdir()
    for image in test_images:  # named right, but not images
        path = workdir / "broken_mask" / image.split("/")[0] / f"{image.split('/')[1][:-4]}_surgical.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xff\xd8 not really a JPEG")
    (workdir / "stray_mask" / "Nobody").mkdir(parents=True)
    Image.new("RGB", (250, 250)).save(workdir / "stray_mask" / "Nobody" / "Nobody_0001_surgical.jpg")
    (workdir / "stray_mask" / "IMG_1234.JPG").write_bytes(b"x")
    failing = {"train/real_mask": f"no file {(split['split'] == 'train').sum()}, duplicate 1",
               "test/empty_mask": f"no file {len(test_images)}",
               "test/broken_mask": f"unreadable {len(test_images)}",
               "test/stray_mask": f"no file {len(test_images)}, unmatched 2"}
    # (face masks and sunglasses stay listed for training: the segmenter trains on them)
    sets = {"train": ["real_mask", "face_mask", "sunglasses"],
            "test": [*default_test, "empty_mask", "broken_mask", "stray_mask"]}
    config = write_config(workdir / "failing.yaml", {**TINY, "occlusion_sets": sets, "occlusions": masks})
    with pytest.raises(SnakemakeFailed) as failure:
        snakemake(workdir, "--cores", "2", "--keep-going", "--configfile", str(config), "--",
                  *[f"{SEED0}/occlusions/{name}.csv" for name in failing])
    assert "Number of columns" not in str(failure.value)
    for name, counts in failing.items():
        split_name, occlusion = name.split("/")
        log = (workdir / SEED0 / f"logs/occlusion_set_{split_name}_{occlusion}.log").read_text()
        assert f"occlusion set {name}: no usable image" in log and f"skipped: {counts})" in log, log[-2000:]
        assert f"Expected MaskTheFace output in {occlusion}" in log
        assert log.count(f"occlusion set {name}: skipped ") == sum(map(int, re.findall(r"\d+", counts)))
        assert not (workdir / SEED0 / f"occlusions/{name}_skipped.csv").exists()
