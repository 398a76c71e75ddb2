"""Sunglasses scaled to the inter-ocular distance and rotated to the eye line (paper Fig. 6)."""

from __future__ import annotations

import cv2
import numpy as np

from occlusion_fr import CROP_HEIGHT, CROP_WIDTH
from occlusion_fr.occlusions.geometry import FaceFrame
from occlusion_fr.occlusions.overlay import SUPERSAMPLE, Overlay, downsample

SHAPES = ("round", "aviator", "wayfarer")


def _lens(shape: str, half_w: float, half_h: float, n: int = 40) -> np.ndarray:
    """Lens outline about its centre in face-frame units (s along the eyes, r down)."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    s, r = half_w * np.cos(t), half_h * np.sin(t)
    if shape == "aviator":  # teardrop: deeper towards the nose
        r = r + 0.35 * half_h * np.clip(np.sin(t), 0, None) * (1 - np.cos(t)) / 2
    elif shape == "wayfarer":  # squarer, wider at the top
        s = np.sign(s) * np.abs(np.cos(t)) ** 0.5 * half_w * (1 + 0.12 * np.clip(-np.sin(t), 0, None))
        r = np.sign(r) * np.abs(np.sin(t)) ** 0.6 * half_h
    return np.stack([s, r], 1)


def render_sunglasses(crop: np.ndarray, frame: FaceFrame, rng: np.random.Generator) -> tuple[Overlay, dict]:
    shape = SHAPES[int(rng.integers(len(SHAPES)))]
    d = frame.eye_distance
    half_w, half_h = rng.uniform(0.40, 0.46) * d, rng.uniform(0.28, 0.36) * d
    lens_colour = rng.uniform(5, 45) + rng.normal(0, 8, 3)
    frame_colour = [(15, 15, 15), (150, 120, 60), (90, 55, 30), (60, 60, 70)][int(rng.integers(4))]
    thickness = max(1.0, 0.06 * d)
    h, w = CROP_HEIGHT * SUPERSAMPLE, CROP_WIDTH * SUPERSAMPLE
    rgb = np.zeros((h, w, 3), np.float32)
    alpha = np.zeros((h, w), np.float32)
    eye_s_r = frame.to_face(frame.landmarks[:2])

    def px(points_sr):
        return np.round(frame.to_crop(points_sr[:, 0], points_sr[:, 1]) * SUPERSAMPLE * 4).astype(np.int32)

    def draw(points_sr, colour, closed, fill, width=0.0, opacity=1.0):
        pts = [px(points_sr)]
        if fill:
            cv2.fillPoly(rgb, pts, colour, cv2.LINE_AA, shift=2)
            cv2.fillPoly(alpha, pts, opacity, cv2.LINE_AA, shift=2)
        else:
            t = max(1, int(round(width * SUPERSAMPLE)))
            cv2.polylines(rgb, pts, closed, colour, t, cv2.LINE_AA, shift=2)
            cv2.polylines(alpha, pts, closed, opacity, t, cv2.LINE_AA, shift=2)

    lenses = []
    for (s, r), side in zip(eye_s_r, (-1, 1)):
        lens = _lens(shape, half_w, half_h) * [side, 1] + [s, r + 0.05 * d]
        lenses.append(lens)
        draw(lens, np.clip(lens_colour, 0, 255).tolist(), True, True, opacity=0.96)
    for lens, side in zip(lenses, (-1, 1)):
        draw(lens, frame_colour, True, False, thickness)
        top_outer = lens[np.argmin(lens[:, 1] - 0.3 * side * lens[:, 0])]
        arm_end = top_outer + [side * 0.9 * d, 0.1 * d]  # temple arms towards the ears
        draw(np.stack([top_outer, arm_end]), frame_colour, False, False, thickness)
    inner = [lens[np.argmin(side * lens[:, 0])] for lens, side in zip(lenses, (-1, 1))]
    bridge = np.stack([inner[0], (inner[0] + inner[1]) / 2 - [0, 0.08 * d], inner[1]])
    draw(bridge, frame_colour, False, False, thickness)
    # A faint reflection across each lens.
    for lens in lenses:
        centre = lens.mean(0)
        glint = np.stack([centre + [-0.4 * half_w, -0.1 * half_h], centre + [0.1 * half_w, -0.6 * half_h]])
        draw(glint, (200, 200, 210), False, False, 0.08 * d, opacity=0.96)
    small_alpha = downsample(alpha)
    small_rgb = downsample(rgb * alpha[..., None]) / np.maximum(small_alpha, 1e-6)[..., None]
    return Overlay(small_rgb.astype(np.float32), np.clip(small_alpha, 0, 1)), {"shape": shape}
