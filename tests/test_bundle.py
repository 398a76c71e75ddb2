"""Bundles: every file checked against the manifest before use."""

import json

import pytest

from occlusion_fr.bundle import BundleError, read_bundle, write_bundle


@pytest.fixture
def bundle(tmp_path):
    (tmp_path / "a.pt").write_bytes(b"weights" * 100)
    (tmp_path / "r.json").write_text('{"regions": {}}')
    out = tmp_path / "run" / "bundle"
    write_bundle(out, {"base_cnn.pt": tmp_path / "a.pt", "layouts/lm2/regions.json": tmp_path / "r.json"},
                 {"dataset": "synthetic", "seed": 0})
    return out


def test_round_trip_lists_every_file_with_its_checksum(bundle):
    manifest = read_bundle(bundle)
    assert set(manifest["files"]) == {"base_cnn.pt", "layouts/lm2/regions.json"}
    assert manifest["files"]["base_cnn.pt"]["bytes"] == 700 and manifest["seed"] == 0
    assert not [p for p in bundle.parent.iterdir() if p.name.startswith(".")], "no staging folder left behind"


def test_rewriting_replaces_the_bundle_whole(bundle, tmp_path):
    (tmp_path / "b.pt").write_bytes(b"other")
    write_bundle(bundle, {"other.pt": tmp_path / "b.pt"}, {})
    assert set(read_bundle(bundle)["files"]) == {"other.pt"} and not (bundle / "base_cnn.pt").exists()


@pytest.mark.parametrize("damage, message", [
    (lambda b: (b / "base_cnn.pt").write_bytes(b"weights" * 99 + b"weighTs"), "base_cnn.pt: content differs"),
    (lambda b: (b / "base_cnn.pt").write_bytes(b"weights"), "base_cnn.pt: content differs"),
    (lambda b: (b / "layouts" / "lm2" / "regions.json").unlink(), "regions.json: missing"),
    (lambda b: (b / "bundle.json").unlink(), "bundle.json: no bundle manifest"),
    (lambda b: (b / "bundle.json").write_text("{"), "bundle.json: not a readable manifest"),
    (lambda b: (b / "bundle.json").write_text(json.dumps({"format": "x", "files": {}})), "format 'x'"),
    (lambda b: (b / "bundle.json").write_text(json.dumps(
        {"format": "occlusion-fr-bundle/1", "files": {"../a.pt": {"sha256": "", "bytes": 0}}})), "leaves the bundle"),
])
def test_a_damaged_bundle_is_refused_naming_the_file(bundle, damage, message):
    damage(bundle)
    with pytest.raises(BundleError, match=message):
        read_bundle(bundle)
