"""The model card of a bundle (``MODEL_CARD.md``): what the models are, what they were trained on,
where and how long, what they scored on the run's test split, what the tool's thresholds stand
for, and what they are not for. Rendered from the run's own files when the bundle is made, so it
never states a number the run did not measure."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from occlusion_fr import CROP_HEIGHT, CROP_WIDTH
from occlusion_fr.bundle import NO_REGION, REGIONS, BundleSettings
from occlusion_fr.markdown import markdown_table
from occlusion_fr.method.selection import NO_FDM

# What the code of a run is (the package, the workflow and its config schema).
CODE_PATHS = ("occlusion_fr", "workflow_scripts", "rules", "Snakefile", "schemas")

# What a dataset's source says about its images' terms of use (a user's own folder: theirs).
DATA_TERMS = {
    "lfw_archive": "Labeled Faces in the Wild (University of Massachusetts, Amherst): photos of public figures "
                   "collected from news on the web; no licence is stated, the authors ask for research use and "
                   "citation (Huang et al., 2007). The models inherit these terms and the dataset's known biases "
                   "(mostly adult, light-skinned, male public figures).",
    "synthetic": "Synthetic faces rendered by this code (occlusion_fr.datasets.synthetic): no real person, for tests.",
    "image_folder": "The user's own photos: their terms apply, including consent of the people shown.",
}


@dataclass(frozen=True)
class CardInputs:
    """The run's files a card is rendered from (read by the bundle job)."""

    settings: BundleSettings
    source: str  # the dataset's source (DATA_TERMS)
    detector: str  # how the run found faces (datasets.<name>.detector)
    split: pd.DataFrame  # image, identity, split
    base_cnn: dict  # the base CNN's metrics.json
    segmenter: dict  # the segmenter's metrics.json
    segmenter_occlusions: list  # what the segmenter was trained to find
    mask_generators: list  # every mask generator's metrics json
    layouts: dict  # layout -> region names
    table1: pd.DataFrame  # table1.csv
    verification: pd.DataFrame | None  # verification.csv (None: no pairs file)
    thresholds_at_far: dict | None  # pair_verification.tool_thresholds
    calibration_folds: list | None


def code_version() -> str:
    """The package version and, where the code is a git checkout, its commit (+ "dirty" when it
    has uncommitted changes)."""
    version = f"occlusion_fr {metadata.version('occlusion_fr')}"
    repo = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        # The code only: a run rewrites its git-tracked results before its bundle is made.
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", *CODE_PATHS], cwd=repo,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return version
    return f"{version}, git commit {commit}{' + uncommitted changes' if dirty else ''}"


def _seconds(history: list) -> float:
    return sum(epoch["seconds"] for epoch in history)


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _percent(value) -> str:
    return "n/a" if pd.isna(value) else f"{100 * value:.1f}"


def results_section(table1: pd.DataFrame, default_layout: str) -> str:
    """Test rank-1 per occlusion (segmenter's regions): no FDM, the default layout and the best layout."""
    rows = []
    segmenter = table1[table1["detector"] == "segmenter"]
    for occlusion, cells in segmenter.groupby("occlusion", sort=False):
        by_strategy = cells.set_index("strategy")["rank1"]
        best = by_strategy.idxmax()
        rows.append([occlusion, str(int(cells["probes"].iloc[0])), _percent(by_strategy.get(NO_FDM)),
                     _percent(by_strategy.get(default_layout)), f"{_percent(by_strategy[best])} ({best})"])
    return markdown_table(["test probes", "images", "no FDM", f"{default_layout} (default)", "best"], rows)


def verification_section(verification: pd.DataFrame, default_layout: str) -> str:
    """TAR at each FAR, no FDM and the default layout, per condition."""
    fars = [column.removeprefix("tar_at_far_") for column in verification if column.startswith("tar_at_far_")]
    rows = []
    for condition, cells in verification.groupby("condition", sort=False):
        cells = cells.set_index("strategy")
        for strategy in dict.fromkeys((NO_FDM, default_layout)):
            if strategy in cells.index:
                rows.append([condition, strategy, str(int(cells.loc[strategy, "pairs"])),
                             _percent(cells.loc[strategy, "accuracy"]),
                             *[_percent(cells.loc[strategy, f"tar_at_far_{far}"]) for far in fars]])
    return markdown_table(["pairs", "strategy", "pairs scored", "accuracy", *[f"TAR at FAR {far}" for far in fars]],
                          rows, left=2)


def thresholds_section(thresholds_at_far: dict, folds: list) -> str:
    rows = [[far, strategy, f"{groups[NO_REGION]:.3f}", f"{groups[REGIONS]:.3f}"]
            for far, strategies in sorted(thresholds_at_far.items(), key=lambda item: float(item[0]))
            for strategy, groups in strategies.items()]
    return (f"Cosine-score thresholds of `identify` and `verify`, each set for its false accept rate (FAR) on the "
            f"impostor pairs of the pairs file's folds {', '.join(map(str, folds))} (the other folds measure them; "
            f"`make bench-tool`). A comparison whose feature discarding mask discards a region scores higher, "
            f"impostors too, so it has its own threshold.\n\n"
            + markdown_table(["FAR", "strategy", "no region discarded", "regions discarded"], rows, left=2))


def model_card(card: CardInputs, code: str) -> str:
    """The card as Markdown; ``code`` says which code made the bundle (``code_version``)."""
    s, base, seg = card.settings, card.base_cnn, card.segmenter
    counts = card.split.groupby("split").agg(images=("image", "size"), people=("identity", "nunique"))
    split_rows = [[split, str(counts.loc[split, "images"]), str(counts.loc[split, "people"])]
                  for split in ("train", "val", "test") if split in counts.index]
    architecture = base["architecture"]
    generator_seconds = sum(_seconds(m["history"]) for m in card.mask_generators)
    dictionaries = "; ".join(f"{name} ({_count(len(regions), 'region')})" for name, regions in card.layouts.items())
    lines = [
        f"# Model card: occlusion-fr, {s.dataset} seed {s.seed}", "",
        "Face identification and verification behind occlusions (face masks, sunglasses, blocks) by discarding "
        "the features an occlusion corrupts: a segmenter finds the occluded pixels, every region of a layout "
        "covered beyond the overlap threshold selects its learned binary mask, and their product masks the "
        "embedding network's features of probe and gallery alike.", "",
        "## Models", "",
        f"- **Embedding network**: ResNet34 with a large-margin cosine loss (scale {architecture['scale']}, margin "
        f"{architecture['margin']}), {architecture['embedding_size']}-d embeddings, {architecture['head']} head; "
        f"best of {len(base['history'])} epochs at epoch {base['best_epoch']} by validation rank-1 "
        f"({_percent(base['val_rank1'])}%); clean test rank-1 {_percent(base['test_rank1'])}%.",
        f"- **Segmenter**: U-Net with a {seg['encoder']} encoder trained to find "
        f"{', '.join(card.segmenter_occlusions)}; best of {len(seg['history'])} epochs at epoch {seg['best_epoch']} "
        f"by validation IoU ({_percent(seg['val_iou'])}%).",
        f"- **Mask dictionaries**: {dictionaries}"
        f"; a region counts as occluded above {s.overlap_threshold:g} of its pixels. Default layout of the tool: "
        f"{s.default_layout}.", "",
        "## Training data and split", "",
        f"Dataset `{s.dataset}` (source `{card.source}`), split by seed {s.seed}; the models were never trained "
        "or selected on the test split. The bundle's split.csv lists every image name and identity of the three "
        "splits.", "",
        markdown_table(["split", "images", "people"], split_rows), "",
        f"Terms of the data: {DATA_TERMS[card.source]}", "",
        "## Training", "",
        f"- Machine (base CNN's training): {base['machine']['description']}; precision: base CNN "
        f"{base['precision']}, segmenter {seg['precision']}.",
        f"- Training time: base CNN {_duration(_seconds(base['history']))}, segmenter "
        f"{_duration(_seconds(seg['history']))}, {len(card.mask_generators)} mask generators "
        f"{_duration(generator_seconds)} (training and validation epochs, without start-up and testing).",
        f"- Code: {code} when the bundle was made; configuration fingerprint {s.config_fingerprint}.", "",
        f"## Results on the test split ({s.dataset}, seed {s.seed})", "",
        "Rank-1 identification (%) against the training split as gallery, regions chosen by the segmenter:", "",
        results_section(card.table1, s.default_layout), "",
    ]
    if card.verification is not None:
        lines += ["Pair verification on the dataset's pairs file (%; only pairs of people outside the split, whom "
                  "the models never saw):",
                  "", verification_section(card.verification, s.default_layout), ""]
    lines += ["## Thresholds", ""]
    lines += ([thresholds_section(card.thresholds_at_far, card.calibration_folds), ""] if card.thresholds_at_far else
              ["None: the run had no pairs file, so `identify` names the nearest enrolled person and never answers "
               "unknown, and `verify` has no threshold.", ""])
    lines += [
        "## Known limits", "",
        f"- Trained on {len(base['identities'])} identities of one dataset; it has not been tested on other "
        "populations, cameras or image quality.",
        f"- Faces are cropped to {CROP_HEIGHT}x{CROP_WIDTH} pixels from {card.detector} face detections "
        f"({', '.join(f'{key} {value}' for key, value in s.detection.items())}); the tool detects with MTCNN and "
        "crops photos with these settings.",
        f"- The segmenter was trained on {', '.join(card.segmenter_occlusions)} only: other occluders may go "
        "unseen, and then no feature is discarded.",
        "- Occlusions in training and test are rendered (face masks, sunglasses, bands), not photographed.",
        "- Not for decisions about people without human review: error rates are those of the tables above, on "
        "this dataset only.",
    ]
    return "\n".join(lines) + "\n"
