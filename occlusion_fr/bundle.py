"""A trained run packed for use elsewhere: weights, layouts, mask dictionaries, settings.

``bundle.json`` lists every file with its sha256 and size, the run's settings (crop and
detection, overlap threshold, open-set thresholds from the verification) and the config
fingerprint. Reading a bundle checks every listed file first, so a tampered, truncated or
incomplete bundle is refused with the file named, before anything is unpickled.

Layout::

    bundle.json
    base_cnn.pt, base_cnn.json          weights and metrics (identities, architecture)
    segmenter.pt
    gallery.npz                         the training split's feature maps and identities
    layouts/<layout>/regions.json       region boxes in crop pixels
    layouts/<layout>/masks/<region>.npy the mask dictionary
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from occlusion_fr.io import sha256_of

FORMAT = "occlusion-fr-bundle/1"
MANIFEST = "bundle.json"


class BundleError(ValueError):
    """A bundle that cannot be used; the message names the file."""


def write_bundle(out_dir, files: dict[str, str | os.PathLike], settings: dict) -> dict:
    """Copy ``files`` (bundle-relative name -> source path) into ``out_dir`` with a manifest.

    The folder is assembled beside ``out_dir`` and moved into place at the end, so a crash
    never leaves a half-written bundle; an existing bundle there is replaced."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}."))
    try:
        listed = {}
        for name, source in sorted(files.items()):
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            listed[name] = {"sha256": sha256_of(target), "bytes": target.stat().st_size}
        manifest = {"format": FORMAT, "files": listed, **settings}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        os.chmod(staging, 0o755)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return manifest


def read_bundle(bundle_dir) -> dict:
    """The manifest of a complete, untampered bundle; otherwise BundleError naming the file."""
    bundle_dir = Path(bundle_dir)
    manifest_path = bundle_dir / MANIFEST
    if not manifest_path.is_file():
        raise BundleError(f"{manifest_path}: no bundle manifest (is {bundle_dir} a bundle folder, "
                          f"results/<dataset>/seed<N>/bundle?)")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BundleError(f"{manifest_path}: not a readable manifest: {error}") from None
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise BundleError(f"{manifest_path}: format {manifest.get('format')!r}, expected {FORMAT!r}")
    for name, listed in manifest["files"].items():
        path = bundle_dir / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise BundleError(f"{manifest_path}: file name {name!r} leaves the bundle")
        if not path.is_file():
            raise BundleError(f"{path}: missing (listed in {MANIFEST}; the bundle is incomplete)")
        if path.stat().st_size != listed["bytes"] or sha256_of(path) != listed["sha256"]:
            raise BundleError(f"{path}: content differs from its sha256 in {MANIFEST} (modified or truncated)")
    return manifest


def run_bundle(out_dir, base_cnn: tuple, segmenter_weights, train_maps, split_csv, layouts: dict[str, tuple],
               verification_json, settings: dict) -> dict:
    """Pack a run: ``base_cnn`` = (weights, metrics), ``layouts`` = {name: (regions json, mask
    files)}; the gallery is the training split's clean feature maps with their identities."""
    import numpy as np

    from occlusion_fr.io import read_json
    from occlusion_fr.split import identities_by_image

    identity_of = identities_by_image(split_csv)
    # Without a pairs file there is no open-set threshold: identify then never answers unknown.
    verification = read_json(verification_json) if verification_json else {"open_set_far": None,
                                                                            "open_set_thresholds": None}
    with tempfile.TemporaryDirectory() as scratch:
        gallery = Path(scratch) / "gallery.npz"
        with np.load(train_maps, allow_pickle=False) as data:
            names = data["names"]
            np.savez(gallery, names=names, identities=np.array([identity_of[n] for n in names]), maps=data["maps"])
        files = {"base_cnn.pt": base_cnn[0], "base_cnn.json": base_cnn[1], "segmenter.pt": segmenter_weights,
                 "gallery.npz": gallery}
        for name, (regions, masks) in layouts.items():
            files[f"layouts/{name}/regions.json"] = regions
            files.update({f"layouts/{name}/masks/{Path(m).name}": m for m in masks})
        return write_bundle(out_dir, files, {**settings, "layouts": list(layouts),
                                             "open_set_far": verification["open_set_far"],
                                             "open_set_thresholds": verification["open_set_thresholds"]})
