"""Evaluation from a trained run: a bundle's models in place of training.

With ``pretrained.bundle`` set, a run takes the base CNN, the segmenter and each masking layout's
regions and mask dictionary from that bundle (``occlusion_fr.bundle``) instead of training them,
so Snakemake runs only detection, occlusions and the evaluation jobs: Table 1 on another dataset
with LFW-trained models, a new occlusion set, or a test-time change, in minutes instead of a seed.

Two checks keep such a run honest. ``compatibility_problems`` (when the config is read) refuses a
run that would crop, segment or divide the face otherwise than the bundle's models were trained
for, each problem naming its config key. In the import job, once the run's split exists,
``leaked_images`` refuses a run whose validation or test images include ones the bundle's models
were trained or selected on, and ``leaked_people`` one whose "never seen" people (the pairs and
the open set are scored on people outside the run's split) include people the models trained on;
both read the bundle's own split and match by name, so the same photos under other names pass.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from occlusion_fr import CROP_HEIGHT, CROP_WIDTH
from occlusion_fr.bundle import (BASE_CNN_METRICS, BASE_CNN_WEIGHTS, MANIFEST, SEGMENTER_WEIGHTS, SPLIT, Bundle,
                                 BundleError, detection_settings)
from occlusion_fr.config import ConfigError
from occlusion_fr.io import atomic_path, sha256_of
from occlusion_fr.regions import region_names

# Written beside the imported models: which bundle this run's results came from.
RECORD = "pretrained.json"


def check_pretrained(config: dict, dataset_results: Path) -> Bundle:
    """The bundle named by ``pretrained.bundle`` once it is complete and fits ``config``;
    otherwise ConfigError listing every problem by config key. ``dataset_results`` is the run's
    ``results/<dataset>`` folder, which must not hold the bundle (the import would overwrite the
    models that made it)."""
    folder = Path(config["pretrained"]["bundle"])
    try:  # names and sizes only: the import job checks every hash before it copies anything
        bundle = Bundle.read(folder, hash_files=False)
    except BundleError as error:
        raise ConfigError(f"config key pretrained.bundle: {error}") from None
    problems = compatibility_problems(bundle, config)
    if folder.resolve().is_relative_to(Path(dataset_results).resolve()):
        problems.append(f"pretrained.bundle: {folder} lies in {dataset_results}, which this run writes; evaluate "
                        f"under another dataset name (a `datasets` entry with the same source)")
    if problems:
        raise ConfigError(f"invalid configuration for the bundle {folder}:\n  " + "\n  ".join(problems))
    return bundle


def compatibility_problems(bundle: Bundle, config: dict) -> list[str]:
    """Every way ``config`` would use the bundle's models otherwise than they were trained, as
    "config key: what differs" lines; empty when the run fits the bundle."""
    settings = bundle.settings
    problems = []
    if (settings.crop["height"], settings.crop["width"]) != (CROP_HEIGHT, CROP_WIDTH):
        problems.append(f"pretrained.bundle: crops of {settings.crop['height']}x{settings.crop['width']} pixels, "
                        f"this code makes {CROP_HEIGHT}x{CROP_WIDTH}")
    wanted = detection_settings(config["detection"])
    for key in sorted(set(wanted) | set(settings.detection)):
        if wanted.get(key) != settings.detection.get(key):
            problems.append(f"detection.{key}: {wanted.get(key)!r}, but the bundle's models were trained on crops made "
                            f"with {settings.detection.get(key)!r}")
    if config["segmenter"]["encoder"] != settings.segmenter["encoder"]:
        problems.append(f"segmenter.encoder: {config['segmenter']['encoder']!r}, but the bundle's segmenter is "
                        f"{settings.segmenter['encoder']!r}")
    for layout, spec in config["layouts"].items():
        if layout not in bundle.layouts:
            problems.append(f"layouts.{layout}: not in the bundle, which holds {', '.join(bundle.layouts) or 'none'}")
            continue
        held = sorted(path.stem for path in bundle.mask_files(layout))
        if sorted(region_names(spec)) != held:
            problems.append(f"layouts.{layout}: regions {sorted(region_names(spec))}, but the bundle's masks are "
                            f"for {held}")
    return problems


def leaked_images(run_split: pd.DataFrame, bundle_split: pd.DataFrame) -> pd.DataFrame:
    """The run's validation and test images that the bundle's models saw: a test image among the
    bundle's training or validation images (trained or selected on), or a validation image among
    its training images. Images are matched by name (``image``) within the dataset."""
    seen = {split: set(bundle_split.loc[bundle_split["split"] == split, "image"]) for split in ("train", "val")}
    leaked = (((run_split["split"] == "test") & run_split["image"].isin(seen["train"] | seen["val"]))
              | ((run_split["split"] == "val") & run_split["image"].isin(seen["train"])))
    return run_split.loc[leaked, ["image", "split"]]


def leaked_people(run_split: pd.DataFrame, bundle_split: pd.DataFrame, faces: pd.DataFrame) -> list[str]:
    """The people of ``faces`` (a pairs file's or the open set's faces: ``identity``) that the run
    scores as never seen (outside its split) but whose images the bundle's models trained or were
    selected on."""
    unseen = set(faces["identity"]) - set(run_split["identity"])
    return sorted(unseen & set(bundle_split.loc[bundle_split["split"].isin(["train", "val"]), "identity"]))


def import_pretrained(bundle_dir, split_csv, unseen_faces: list, base_cnn: tuple, segmenter_weights,
                      layouts: dict) -> dict:
    """Copy the bundle's models into a run: ``base_cnn`` = (weights, metrics) targets,
    ``layouts`` = {layout: (regions json target, {region: mask target})}. Refuses (BundleError)
    a run whose split holds images the models saw (``leaked_images``) or whose ``unseen_faces``
    tables (pairs and open set faces) hold people they trained on (``leaked_people``). Returns
    the record of which bundle they came from."""
    bundle = Bundle.read(bundle_dir)
    run_split = pd.read_csv(split_csv, keep_default_na=False)
    bundle_split = pd.read_csv(bundle.file(SPLIT), keep_default_na=False)
    leaked = leaked_images(run_split, bundle_split)
    if len(leaked):
        example = ", ".join(f"{row.image} ({row.split})" for row in leaked.head(3).itertuples())
        raise BundleError(f"{split_csv}: {len(leaked)} validation or test images were training or validation images "
                          f"of the bundle's models ({bundle.file(SPLIT)}), e.g. {example}; evaluate another dataset, "
                          f"or this dataset with the bundle's split seed {bundle.settings.seed}")
    for faces in unseen_faces:
        people = leaked_people(run_split, bundle_split, pd.read_csv(faces, keep_default_na=False))
        if people:
            raise BundleError(f"{faces}: {len(people)} people scored as never seen are people the bundle's models "
                              f"trained on ({bundle.file(SPLIT)}), e.g. {', '.join(people[:3])}; select the "
                              f"dataset's people as the bundle's run did (datasets.<name>.min_images)")
    copies = {bundle.file(BASE_CNN_WEIGHTS): base_cnn[0], bundle.file(BASE_CNN_METRICS): base_cnn[1],
              bundle.file(SEGMENTER_WEIGHTS): segmenter_weights}
    for layout, (regions, masks) in layouts.items():
        copies[bundle.regions_file(layout)] = regions
        copies.update({bundle.file(f"layouts/{layout}/masks/{region}.npy"): target for region, target in masks.items()})
    for source, target in copies.items():
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
    settings = bundle.settings
    return {"bundle": str(bundle_dir), "manifest_sha256": sha256_of(bundle.folder / MANIFEST),
            "dataset": settings.dataset, "seed": settings.seed, "config_fingerprint": settings.config_fingerprint,
            "layouts": sorted(layouts)}
