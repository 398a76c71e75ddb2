"""A trained run packed for use elsewhere, and the one description of what a bundle holds.

``bundle.json`` (the manifest) lists every file with its sha256 and size, the run's settings
(``BundleSettings``: crop and detection, segmenter, overlap threshold, default layout, config
fingerprint), the layouts and the open-set thresholds calibrated on the verification's pairs
(``pair_verification.tool_thresholds``: per FAR, strategy and whether the FDM discards a region).
The ``bundle`` rule
writes it through ``run_bundle``; the API reads it through ``Bundle.read``, which checks every
listed file first, so a tampered, truncated or incomplete bundle is refused with the file
named, before anything is unpickled. A new field is added here, in ``BundleSettings``.

Layout::

    bundle.json
    base_cnn.pt, base_cnn.json          weights and metrics (identities, architecture)
    segmenter.pt
    gallery.npz                         the training split's feature maps and identities
    split.csv                           every image's identity and split (image, identity, split):
                                        what the models trained and were selected on
    MODEL_CARD.md                       what the models are, their data, training and results
    layouts/<layout>/regions.json       region boxes in crop pixels
    layouts/<layout>/masks/<region>.npy the mask dictionary
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from occlusion_fr import CROP_HEIGHT, CROP_WIDTH
from occlusion_fr.io import fingerprint, sha256_of, write_csv


FORMAT = "occlusion-fr-bundle/1"
MANIFEST = "bundle.json"
# The threshold groups of a strategy: comparisons whose FDM discards a region score higher
# (impostors too) than those it leaves whole, so each has its own threshold.
NO_REGION, REGIONS = "no_region", "regions"
BASE_CNN_WEIGHTS, BASE_CNN_METRICS, SEGMENTER_WEIGHTS, GALLERY = "base_cnn.pt", "base_cnn.json", "segmenter.pt", "gallery.npz"
SPLIT, MODEL_CARD = "split.csv", "MODEL_CARD.md"
SPLIT_COLUMNS = ["image", "identity", "split"]  # what a bundle's split.csv keeps of the run's


class BundleError(ValueError):
    """A bundle that cannot be used; the message names the file."""


def detection_settings(detection: dict) -> dict:
    """The detection settings a bundle's user needs to crop as the run did; alignment keys only
    for aligned crops (bundles of box-crop runs read as before)."""
    keys = ("margin", "min_face_size", "thresholds") + (("align", "template") if detection["align"] != "box" else ())
    return {key: detection[key] for key in keys}


@dataclass(frozen=True)
class BundleSettings:
    """What a bundle's user needs besides its files: how photos are detected and cropped, how
    regions are chosen, and which run made it."""

    dataset: str
    seed: int
    config_fingerprint: str  # the run's configuration: a gallery enrolled with another is refused
    crop: dict  # {"height", "width"} in pixels
    detection: dict  # {"margin", "min_face_size", "thresholds"} and, for aligned crops, {"align", "template"}
    segmenter: dict  # {"encoder"}
    overlap_threshold: float  # share of a region's pixels occluded for its features to be discarded
    method: dict  # {"position", "normalisation"}: occlusion_fr.method.embedding.MethodSettings
    default_layout: str  # a layout of the bundle, or "none"

    @classmethod
    def from_config(cls, config: dict, dataset: str, seed: int) -> BundleSettings:
        """The settings of run ``seed`` of ``dataset`` under a validated ``config``."""
        return cls(dataset=dataset, seed=int(seed),
                   config_fingerprint=fingerprint({k: v for k, v in config.items() if k != "seeds"}),
                   crop={"height": CROP_HEIGHT, "width": CROP_WIDTH},
                   detection=detection_settings(config["detection"]),
                   segmenter={"encoder": config["segmenter"]["encoder"]},
                   overlap_threshold=config["feature_discarding"]["overlap_threshold"],
                   method={key: config["feature_discarding"][key] for key in ("position", "normalisation")},
                   default_layout=config["bundle"]["default_layout"])

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Bundle:
    """A checked bundle: its folder, files, settings, layouts and open-set thresholds."""

    folder: Path
    files: dict  # bundle-relative name -> {"sha256", "bytes"}
    settings: BundleSettings
    layouts: list  # masking layout names
    open_set_far: float | None  # the FAR the thresholds stand for; None: the run had no pairs file
    open_set_thresholds: dict | None  # strategy -> {"no_region", "regions"} -> score threshold (default FAR)
    open_set_folds: list | None  # the pairs file's folds that calibrated them (a benchmark measures the others)
    open_set_thresholds_at_far: dict | None  # "FAR" (as %g) -> strategy -> group -> threshold

    @classmethod
    def read(cls, folder, hash_files: bool = True) -> Bundle:
        """The bundle in ``folder`` after checking every file against its manifest (see
        ``read_bundle`` for ``hash_files``)."""
        folder = Path(folder)
        manifest = read_bundle(folder, hash_files)
        try:
            settings = BundleSettings(**{f.name: manifest[f.name] for f in dataclasses.fields(BundleSettings)})
            bundle = cls(folder, manifest["files"], settings, list(manifest["layouts"]), manifest["open_set_far"],
                         manifest["open_set_thresholds"], manifest["open_set_folds"],
                         manifest["open_set_thresholds_at_far"])
        except KeyError as missing:
            raise BundleError(f"{folder / MANIFEST}: no {missing} (written by another version?)") from None
        for name in bundle.layouts:
            if not name.isidentifier() or not bundle.mask_files(name):
                raise BundleError(f"{folder / MANIFEST}: layout {name!r} is not a plain name with listed masks")
        return bundle

    def file(self, name: str) -> Path:
        """A listed (and checked) file; anything else is refused."""
        if name not in self.files:
            raise BundleError(f"{self.folder / MANIFEST}: does not list {name}, which the bundle needs")
        return self.folder / name

    def mask_files(self, layout: str) -> list[Path]:
        return [self.folder / f for f in sorted(self.files)
                if f.startswith(f"layouts/{layout}/masks/") and f.endswith(".npy")]

    def regions_file(self, layout: str) -> Path:
        return self.file(f"layouts/{layout}/regions.json")


def write_bundle(out_dir, files: dict[str, str | os.PathLike], fields: dict) -> dict:
    """Copy ``files`` (bundle-relative name -> source path) into ``out_dir`` with a manifest
    holding ``fields``.

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
        manifest = {"format": FORMAT, "files": listed, **fields}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        os.chmod(staging, 0o755)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return manifest


def read_bundle(bundle_dir, hash_files: bool = True) -> dict:
    """The manifest of a complete, untampered bundle; otherwise BundleError naming the file.
    Without ``hash_files`` only names and sizes are checked (a quick look: loading hashes)."""
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
        if path.stat().st_size != listed["bytes"] or (hash_files and sha256_of(path) != listed["sha256"]):
            raise BundleError(f"{path}: content differs from its sha256 in {MANIFEST} (modified or truncated)")
    return manifest


def run_bundle(out_dir, base_cnn: tuple, segmenter_weights, train_maps, split_csv, layouts: dict[str, tuple],
               thresholds_at_far: dict | None, calibration_folds: list | None, settings: BundleSettings,
               model_card) -> dict:
    """Pack a run: ``base_cnn`` = (weights, metrics), ``layouts`` = {name: (regions json, mask
    files)}, ``thresholds_at_far`` as ``tool_thresholds`` makes them from the ``calibration_folds``
    (None for a run without a pairs file: identify then never answers unknown), ``model_card`` its
    rendered card (occlusion_fr.model_card); the gallery is the training split's clean feature
    maps with their identities."""
    from occlusion_fr.models.features import load_feature_maps, save_feature_maps
    from occlusion_fr.split import identities_by_image

    identity_of = identities_by_image(split_csv)
    default_far = min(thresholds_at_far, key=float) if thresholds_at_far else None
    calibration = {"open_set_far": None if default_far is None else float(default_far),
                   "open_set_thresholds": thresholds_at_far[default_far] if thresholds_at_far else None,
                   "open_set_folds": sorted(calibration_folds) if thresholds_at_far else None,
                   "open_set_thresholds_at_far": thresholds_at_far}
    with tempfile.TemporaryDirectory() as scratch:
        gallery = Path(scratch) / GALLERY
        names, maps = load_feature_maps(train_maps)
        save_feature_maps(gallery, names, maps, identities=[identity_of[n] for n in names])
        split = Path(scratch) / SPLIT
        write_csv(split, pd.read_csv(split_csv, keep_default_na=False)[SPLIT_COLUMNS])
        files = {BASE_CNN_WEIGHTS: base_cnn[0], BASE_CNN_METRICS: base_cnn[1], SEGMENTER_WEIGHTS: segmenter_weights,
                 GALLERY: gallery, SPLIT: split, MODEL_CARD: model_card}
        for name, (regions, masks) in layouts.items():
            files[f"layouts/{name}/regions.json"] = regions
            files.update({f"layouts/{name}/masks/{Path(m).name}": m for m in masks})
        return write_bundle(out_dir, files, {**settings.to_dict(), "layouts": list(layouts), **calibration})
