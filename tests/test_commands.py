"""The `occlusion-fr` console script and the Python API on a tiny synthetic run's bundle,
copied away from its run folder (as on another machine)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from occlusion_fr.api import PhotoError, Recognizer
from occlusion_fr.bundle import BundleError, read_bundle
from occlusion_fr.evaluation.pair_verification import tool_thresholds
from conftest import snakemake

pytestmark = pytest.mark.slow
COMMAND = Path(sys.executable).parent / "occlusion-fr"


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(COMMAND), *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def bundle(tiny_run, tmp_path_factory):
    copy = tmp_path_factory.mktemp("elsewhere") / "bundle"
    shutil.copytree(tiny_run / "results" / "synthetic" / "seed0" / "bundle", copy)
    return copy


@pytest.fixture(scope="module")
def people(tiny_run, tmp_path_factory):
    """Three people the run never saw (their photos come from the pairs file's images), plus
    junk of each kind beside them."""
    folder = tmp_path_factory.mktemp("people")
    raw = tiny_run / "results" / "synthetic" / "pairs" / "raw"
    for person in sorted(p.name for p in raw.iterdir())[-3:]:
        shutil.copytree(raw / person, folder / person)
    junk = folder / "person_junk"
    junk.mkdir()
    (junk / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (junk / "empty.png").write_bytes(b"")
    (junk / "notes.txt").write_text("not a photo")
    Image.fromarray(np.full((160, 160, 3), 127, np.uint8)).save(junk / "grey.png")
    return folder


def test_enroll_identify_and_verify_through_the_console_script(bundle, people, tmp_path):
    gallery = tmp_path / "gallery.npz"
    enrolled = run("enroll", bundle, people, "-o", gallery, "--json")
    assert enrolled.returncode == 0, enrolled.stderr
    summary = json.loads(enrolled.stdout)
    reasons = {Path(p["file"]).name: p["error"] for p in summary["left_out"]}
    assert "unreadable image" in reasons["corrupt.jpg"] and "empty file" in reasons["empty.png"]  # JPEG, truncated
    assert "not an image" in reasons["notes.txt"] and "no face found" in reasons["grey.png"]
    real = [p for p in people.rglob("*.jpg") if p.parent.name != "person_junk"]
    faceless = [p["file"] for p in summary["left_out"] if Path(p["file"]).parent.name != "person_junk"]
    assert all("no face found" in p["error"] for p in summary["left_out"] if p["file"] in faceless)
    assert summary["images"] == len(real) - len(faceless) and len(summary["left_out"]) == 4 + len(faceless)
    assert summary["images"] > 0 and summary["identities"] >= 1 and gallery.is_file()

    identified = run("identify", bundle, people, "--gallery", gallery, "--top-k", "2", "--json")
    assert identified.returncode == 0, identified.stderr
    results = {Path(r["file"]).name: r for r in json.loads(identified.stdout)}
    assert "unreadable image" in results["corrupt.jpg"]["error"] and "no face found" in results["grey.png"]["error"]
    answered = [r for r in results.values() if "error" not in r]
    assert len(answered) == summary["images"]  # every enrolled photo is found again, the rest explained
    regions = set(json.loads((bundle / "layouts" / "lm2" / "regions.json").read_text())["regions"])
    for result in answered:
        scores = [c["score"] for c in result["top"]]
        assert len(scores) <= 2 and scores == sorted(scores, reverse=True) and -1.001 <= scores[0] <= 1.001
        assert result["identity"] in {"unknown", result["top"][0]["identity"]}
        assert (result["identity"] == "unknown") == (result["score"] <= result["threshold"])  # accepted above it
        assert set(result["discarded_regions"]) <= regions and result["layout"] == "lm2"

    foreign = tmp_path / "foreign.npz"  # the same gallery, stamped as another run's
    with np.load(gallery) as data:
        np.savez(foreign, **{k: data[k] for k in data.files if k != "made_by"}, made_by=np.asarray("0123456789abcdef"))
    refused = run("identify", bundle, people, "--gallery", foreign)
    assert refused.returncode == 2 and "enrolled with another run" in refused.stderr

    text = run("identify", bundle, people / "person_junk" / "corrupt.jpg")
    assert text.returncode == 1 and "corrupt.jpg: error:" in text.stdout and "unreadable image" in text.stdout

    photo = Path(answered[0]["file"])
    same = run("verify", bundle, photo, photo, "--layout", "none", "--json")
    answer = json.loads(same.stdout)
    # A photo against itself scores 1; the verdict is the threshold's (a 2-epoch model can have
    # impostor pairs at 1.0 as well, and then a threshold of 1.0 that nothing passes).
    assert same.returncode == 0 and answer["score"] == pytest.approx(1, abs=1e-3)
    assert answer["verified"] is (answer["score"] > answer["threshold"])
    assert answer["far"] == read_bundle(bundle)["open_set_far"] and answer["time"] > 0
    assert answer["facial_areas"]["img1"] == answer["facial_areas"]["img2"] and answer["facial_areas"]["img1"]["w"] > 0
    verdict = "same person" if answer["verified"] else "different people"
    assert verdict in run("verify", bundle, photo, photo, "--layout", "none").stdout
    fars = sorted(map(float, read_bundle(bundle)["open_set_thresholds_at_far"]))
    looser = json.loads(run("verify", bundle, photo, photo, "--layout", "none", "--far", str(fars[-1]),
                            "--json").stdout)
    assert looser["far"] == fars[-1] and looser["threshold"] <= answer["threshold"] + 1e-9
    uncalibrated = run("verify", bundle, photo, photo, "--far", "0.5")
    assert uncalibrated.returncode == 2 and "FAR 0.5 is not calibrated" in uncalibrated.stderr
    face_less = run("verify", bundle, photo, people / "person_junk" / "grey.png")
    assert face_less.returncode == 1 and "no face found" in face_less.stdout
    junk_gallery = tmp_path / "junk.npz"
    junk_gallery.write_text("not a gallery")
    refused = run("identify", bundle, photo, "--gallery", junk_gallery)
    assert refused.returncode == 2 and "not a gallery written by `enroll`" in refused.stderr
    assert "Traceback" not in refused.stderr

    # A bundle whose run had no pairs file has no threshold: scores without a verdict, explained.
    unthresholded = tmp_path / "unthresholded"
    shutil.copytree(bundle, unthresholded)
    manifest = json.loads((unthresholded / "bundle.json").read_text())
    manifest.update(open_set_far=None, open_set_thresholds=None, open_set_folds=None, open_set_thresholds_at_far=None)
    (unthresholded / "bundle.json").write_text(json.dumps(manifest))
    no_verdict = run("verify", unthresholded, photo, photo, "--layout", "none")
    assert no_verdict.returncode == 0 and "no verdict" in no_verdict.stdout and "no pairs file" in no_verdict.stdout
    named = json.loads(run("identify", unthresholded, photo, "--json").stdout)[0]
    assert named["threshold"] is None and named["identity"] == named["top"][0]["identity"]

    explained = tmp_path / "explain.png"
    default_gallery = run("identify", bundle, photo, "--explain", explained)
    assert default_gallery.returncode == 0 and f"{photo}: " in default_gallery.stdout
    assert explained.stat().st_size > 1000


def has_face(recognizer: Recognizer, photo: Path) -> bool:
    try:
        recognizer.face(photo)
        return True
    except PhotoError:
        return False


def test_the_api_answers_as_the_command(bundle, people):
    recognizer = Recognizer.from_bundle(bundle)
    photo = next(p for p in sorted(people.rglob("*.jpg")) if p.parent.name != "person_junk" and has_face(recognizer, p))
    command = json.loads(run("identify", bundle, photo, "--json", "--layout", "grid3x3").stdout)[0]
    answer = recognizer.identify(photo, layout="grid3x3")
    assert answer["top"][0]["identity"] == command["top"][0]["identity"]
    assert answer["score"] == pytest.approx(command["score"], abs=1e-4)
    with pytest.raises(ValueError, match="layout 'lm9' is not in the bundle"):
        recognizer.identify(photo, layout="lm9")


def test_a_bundle_matches_its_run_and_a_tampered_one_is_refused(tiny_run, bundle, tmp_path):
    manifest = read_bundle(bundle)
    run_dir = tiny_run / "results" / "synthetic" / "seed0"
    # The thresholds: calibrated on the verification's pair scores of folds 0-4, per FAR, strategy
    # and group (a region discarded or none).
    scores = pd.read_csv(run_dir / "verification" / "scores.csv.gz", keep_default_na=False)
    assert manifest["open_set_folds"] == [0, 1, 2, 3, 4]
    expected = pd.json_normalize(tool_thresholds(scores, [0.01, 0.001], range(5))).iloc[0].to_dict()
    assert pd.json_normalize(manifest["open_set_thresholds_at_far"]).iloc[0].to_dict() == pytest.approx(expected)
    assert manifest["open_set_thresholds_at_far"][f"{manifest['open_set_far']:g}"] == manifest["open_set_thresholds"]
    assert set(manifest["open_set_thresholds"]["lm2"]) == {"no_region", "regions"}
    assert set(manifest["layouts"]) == {"grid3x3", "lm1", "lm2"} and manifest["default_layout"] == "lm2"
    assert len([f for f in manifest["files"] if f.startswith("layouts/lm2/masks/")]) == 5
    for region_file in (run_dir / "masks" / "lm2").glob("*.npy"):
        assert np.array_equal(np.load(region_file), np.load(bundle / "layouts" / "lm2" / "masks" / region_file.name))

    tampered = tmp_path / "tampered"
    shutil.copytree(bundle, tampered)
    mask = tampered / "layouts" / "lm2" / "masks" / "mouth.npy"
    data = bytearray(mask.read_bytes())
    data[-1] ^= 1
    mask.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="mouth.npy: content differs"):
        Recognizer.from_bundle(tampered)
    refused = run("identify", tampered, "anything.jpg")
    assert refused.returncode == 2 and "mouth.npy: content differs" in refused.stderr

    shutil.copyfile(bundle / "layouts" / "lm2" / "masks" / "mouth.npy", mask)  # repaired; now one file gone
    (tampered / "segmenter.pt").unlink()
    with pytest.raises(BundleError, match="segmenter.pt: missing"):
        read_bundle(tampered)


def test_the_tool_benchmark_measures_the_bundle_on_pairs_that_never_set_its_thresholds(tiny_run):
    target = "results/synthetic/seed0/tool_benchmark/summary.md"
    snakemake(tiny_run, "--cores", "2", "--configfile", str(tiny_run / "tiny.yaml"), "--", target, timeout=900)
    out = tiny_run / "results" / "synthetic" / "seed0" / "tool_benchmark"
    manifest = read_bundle(tiny_run / "results" / "synthetic" / "seed0" / "bundle")
    verify = pd.read_csv(out / "verify.csv")
    assert set(verify["condition"]) == {"clean", "face_mask", "sunglasses"}
    assert set(verify["layout"]) == {"none", *manifest["layouts"]}
    assert sorted(verify["declared_far"].unique()) == sorted(map(float, manifest["open_set_thresholds_at_far"]))
    assert verify["measured_far"].between(0, 1).all() and verify["tar"].between(0, 1).all()
    # The CSV holds rates to 3 decimals (occlusion_fr.io.write_csv).
    assert np.allclose(verify["false_accepts"] / verify["impostor_pairs"], verify["measured_far"], atol=5e-4)
    # Only pairs of the folds that did not calibrate the thresholds: as many as those folds kept.
    kept = {f["fold"]: f["kept"] for f in json.loads((out.parent / "verification.json").read_text())["pairs_per_fold"]}
    clean = verify[verify["condition"] == "clean"].iloc[0]
    assert clean["impostor_pairs"] + clean["genuine_pairs"] == sum(
        n for fold, n in kept.items() if fold not in manifest["open_set_folds"])
    # The tool is the pipeline's method: its rank-1 on the test probes is Table 1's.
    identify = pd.read_csv(out / "identify.csv")
    assert set(identify["probe_set"]) == {"clean", "face_mask", "sunglasses"}
    assert (identify["difference_points"].abs() <= 0.5).all(), identify
    outsiders = pd.read_csv(out / "outsiders.csv")
    assert outsiders["named"].between(0, 1).all() and (outsiders["probes"] > 0).all()
    photos = pd.read_csv(out / "photos.csv", keep_default_na=False)
    assert len(photos) > 0 and "measured / declared" in (out / "summary.md").read_text()


def test_the_bundle_carries_a_model_card_stating_the_runs_own_numbers(tiny_run, bundle):
    run_dir = tiny_run / "results" / "synthetic" / "seed0"
    card = (bundle / "MODEL_CARD.md").read_text()
    assert card == (run_dir / "model_card.md").read_text()  # the report's copy
    assert "MODEL_CARD.md" in read_bundle(bundle)["files"]
    base = json.loads((run_dir / "models" / "base_cnn" / "metrics.json").read_text())
    assert f"clean test rank-1 {100 * base['test_rank1']:.1f}%" in card
    assert f"Trained on {len(base['identities'])} identities" in card and base["machine"]["description"] in card
    split = pd.read_csv(run_dir / "split.csv")
    assert f"| test | {(split['split'] == 'test').sum()} | {split[split['split'] == 'test']['identity'].nunique()} |" in card
    table = pd.read_csv(run_dir / "table1.csv")
    face_mask = table[(table["detector"] == "segmenter") & (table["occlusion"] == "face_mask")].set_index("strategy")
    row = next(line for line in card.splitlines() if line.startswith("| face_mask |"))
    assert f"| {100 * face_mask.loc['none', 'rank1']:.1f} | {100 * face_mask.loc['lm2', 'rank1']:.1f} |" in row
    thresholds = read_bundle(bundle)["open_set_thresholds_at_far"]["0.001"]["lm2"]
    assert f"| 0.001 | lm2 | {thresholds['no_region']:.3f} | {thresholds['regions']:.3f} |" in card
    assert "TAR at FAR 0.001" in card and "## Known limits" in card and "face_mask, sunglasses" in card
