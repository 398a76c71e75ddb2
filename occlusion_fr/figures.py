"""Figures of the data stage: landmark spread (paper Fig. 3) and layouts over a crop (Fig. 4)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from occlusion_fr import LANDMARK_NAMES  # noqa: E402
from occlusion_fr.landmarks import landmark_points, landmarks_from_table  # noqa: E402


def landmark_distance_histograms(train: pd.DataFrame, title: str):
    """One histogram per landmark of its distance (crop pixels) from its mean position."""
    fig, axes = plt.subplots(1, len(LANDMARK_NAMES), figsize=(3.2 * len(LANDMARK_NAMES), 2.8), sharey=True)
    for ax, name in zip(axes, LANDMARK_NAMES):
        points = landmark_points(train, name)
        distance = np.linalg.norm(points - points.mean(0), axis=1)
        ax.hist(distance, bins=30, color="steelblue")
        ax.set_title(f"{name}\nmedian {np.median(distance):.1f} px")
        ax.set_xlabel("distance from mean (px)")
    axes[0].set_ylabel("images")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def typical_image(train: pd.DataFrame) -> int:
    """Row position of the training image whose landmarks are nearest the mean landmarks."""
    points = landmarks_from_table(train)
    return int(np.argmin(np.linalg.norm(points - points.mean(0), axis=(1, 2))))


def layout_over_crop(layout: dict, crop_rgb: np.ndarray, landmarks: np.ndarray, title: str):
    """Draw every region of a layout over a crop, with the crop's landmarks."""
    fig, ax = plt.subplots(figsize=(3.2, 4.2))
    ax.imshow(crop_rgb, extent=(0, crop_rgb.shape[1], crop_rgb.shape[0], 0))
    colours = plt.cm.tab10(np.linspace(0, 1, 10))
    for i, (region, info) in enumerate(layout["regions"].items()):
        x0, y0, x1, y1 = info["box"]
        colour = colours[i % 10]
        ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=True, alpha=0.18, color=colour))
        ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=1.5, color=colour))
        ax.text(x0 + 1, y0 + 4, region, color="white", fontsize=6, va="top",
                bbox={"facecolor": colour, "alpha": 0.7, "pad": 1, "lw": 0})
    ax.scatter(landmarks[:, 0], landmarks[:, 1], s=10, c="lime", edgecolors="black", linewidths=0.5)
    ax.set_xlim(0, crop_rgb.shape[1])
    ax.set_ylim(crop_rgb.shape[0], 0)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    return fig


def tint(image_rgb: np.ndarray, mask: np.ndarray, colour=(1.0, 0.1, 0.1), alpha: float = 0.45) -> np.ndarray:
    """An RGB image (uint8 or 0..1) as 0..1 floats with ``mask`` pixels blended towards ``colour``."""
    image = image_rgb.astype(np.float32) / (255.0 if image_rgb.dtype == np.uint8 else 1.0)
    out = image.copy()
    out[mask] = (1 - alpha) * image[mask] + alpha * np.asarray(colour, np.float32)
    return out


def upsample(values: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour enlargement of a small (h, w) map to (height, width)."""
    rows = np.arange(height) * values.shape[0] // height
    cols = np.arange(width) * values.shape[1] // width
    return values[rows][:, cols]


def image_grid(rows: dict[str, list[np.ndarray]], column_titles: list[str], title: str):
    """Named rows of equally sized images (RGB or boolean masks) as one figure."""
    n_rows, n_cols = len(rows), len(column_titles)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.3 * n_cols + 0.8, 1.75 * n_rows), squeeze=False)
    for i, (name, images) in enumerate(rows.items()):
        for j, image in enumerate(images):
            ax = axes[i, j]
            ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1 if image.ndim == 2 else None)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(name, fontsize=8)
            if i == 0:
                ax.set_title(column_titles[j], fontsize=6)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def training_curves(history: list[dict], left: list[str], right: list[str], title: str):
    """Per-epoch metrics: ``left`` keys (losses) on one axis, ``right`` keys (accuracies) on another."""
    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.2))
    for key in left:
        ax_loss.plot(epochs, [h[key] for h in history], marker=".", label=key)
    for key in right:
        ax_acc.plot(epochs, [h[key] for h in history], marker=".", label=key)
    ax_loss.set_xlabel("epoch")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylim(0, 1)
    ax_loss.legend(fontsize=8)
    ax_acc.legend(fontsize=8)
    ax_acc.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def percentile_sweep_figure(sweep: pd.DataFrame, summary: pd.DataFrame, title: str):
    """Mean rank-1 over the occlusions against the mask dictionary's percentile, per layout:
    validation (which chooses) solid, test dashed; the chosen percentile ringed, the paper's
    marked with a cross."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    means = sweep.groupby(["strategy", "split", "percentile"])["rank1"].mean()
    for i, row in enumerate(summary.itertuples(index=False)):
        colour = f"C{i}"
        for split, style in (("val", "-"), ("test", "--")):
            if (row.strategy, split) not in means.index.droplevel(2):
                continue
            curve = means.loc[(row.strategy, split)]
            ax.plot(curve.index, 100 * curve.values, style, color=colour, marker=".",
                    label=f"{row.strategy} ({'validation' if split == 'val' else 'test'})")
        val = means.loc[(row.strategy, "val")]
        ax.plot([row.chosen], [100 * val[row.chosen]], "o", mfc="none", ms=10, color=colour)
        if row.paper in val.index:
            ax.plot([row.paper], [100 * val[row.paper]], "x", ms=8, color=colour)
    ax.set_xlabel("percentile discarded per region mask")
    ax.set_ylabel("mean rank-1 (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(title + "\n(ring: chosen on validation; cross: the paper's)", fontsize=9)
    fig.tight_layout()
    return fig
