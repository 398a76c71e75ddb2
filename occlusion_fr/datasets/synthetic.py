"""Procedurally generated faces: an offline stand-in for LFW with ground-truth landmarks.

Each identity is a random draw of face shape, skin, hair, brows, eyes, nose, mouth, chin and
ears, so that identities differ in every facial region and occluding any region costs
information. Each image of an identity adds nuisance: rotation, scale, shift, lighting,
expression, background and noise. Everything is drawn from ``numpy`` generators seeded from
``(seed, identity)`` and ``(seed, identity, image)``, so a dataset is a pure function of its
configuration.

The face is drawn in a canonical frame (face centre at the origin) and placed into the
250x250 image by one similarity transform, which also maps the five landmarks and the face
outline (whose bounding box is the ground-truth face box).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from occlusion_fr.io import write_csv, write_image, write_text
from occlusion_fr.landmarks import BOX_COLUMNS, landmarks_to_columns

IMAGE_SIZE = 250
_SKIN = np.array([[255, 224, 196], [234, 192, 160], [198, 152, 118], [160, 112, 80], [110, 74, 50]], float)
_HAIR = np.array([[20, 16, 14], [70, 45, 25], [120, 80, 40], [200, 170, 110], [150, 150, 150], [130, 50, 25]], float)
_IRIS = np.array([[70, 45, 25], [60, 110, 170], [70, 120, 70], [110, 110, 110]], float)


@dataclass(frozen=True)
class Identity:
    """Identity-level face parameters in the canonical frame (pixels, face centre = 0,0)."""

    half_width: float
    half_height: float
    chin_taper: float
    skin: np.ndarray
    hair_colour: np.ndarray
    hair_style: int
    hairline: float
    brow_thickness: int
    brow_arch: float
    brow_gap: float
    brow_length: float
    eye_y: float
    eye_spacing: float
    eye_width: float
    eye_height: float
    iris: np.ndarray
    nose_length: float
    nose_width: float
    mouth_gap: float
    mouth_half_width: float
    lip_thickness: int
    lip_colour: np.ndarray
    beard: bool
    ear_size: float


def sample_identity(rng: np.random.Generator) -> Identity:
    skin = _SKIN[rng.integers(len(_SKIN))] * rng.uniform(0.9, 1.05) + rng.normal(0, 6, 3)
    hair = _HAIR[rng.integers(len(_HAIR))] + rng.normal(0, 10, 3)
    half_height = rng.uniform(62, 74)
    return Identity(
        half_width=rng.uniform(46, 60),
        half_height=half_height,
        chin_taper=rng.uniform(0.05, 0.45),
        skin=np.clip(skin, 30, 255),
        hair_colour=np.clip(hair, 0, 255),
        hair_style=int(rng.integers(4)),
        hairline=rng.uniform(0.45, 0.75) * half_height,
        brow_thickness=int(rng.integers(2, 7)),
        brow_arch=rng.uniform(-2, 6),
        brow_gap=rng.uniform(8, 14),
        brow_length=rng.uniform(14, 22),
        eye_y=-rng.uniform(0.12, 0.28) * half_height,
        eye_spacing=rng.uniform(18, 27),
        eye_width=rng.uniform(8, 13),
        eye_height=rng.uniform(3.5, 6.5),
        iris=np.clip(_IRIS[rng.integers(len(_IRIS))] + rng.normal(0, 10, 3), 0, 255),
        nose_length=rng.uniform(20, 32),
        nose_width=rng.uniform(7, 15),
        mouth_gap=rng.uniform(16, 24),
        mouth_half_width=rng.uniform(11, 19),
        lip_thickness=int(rng.integers(2, 6)),
        lip_colour=np.clip(np.array([170, 80, 80]) + rng.normal(0, 20, 3), 0, 255),
        beard=bool(rng.random() < 0.2),
        ear_size=rng.uniform(8, 15),
    )


@dataclass(frozen=True)
class Nuisance:
    angle_deg: float
    scale: float
    shift: np.ndarray
    gain: float
    gradient: float
    smile: float
    mouth_open: float
    brow_raise: float
    eye_open: float
    background: int
    noise_sigma: float


def sample_nuisance(rng: np.random.Generator) -> Nuisance:
    return Nuisance(
        angle_deg=rng.uniform(-8, 8),
        scale=rng.uniform(0.92, 1.08),
        shift=rng.uniform(-8, 8, 2),
        gain=rng.uniform(0.75, 1.15),
        gradient=rng.uniform(-0.25, 0.25),
        smile=rng.uniform(-0.3, 1.0),
        mouth_open=rng.uniform(0, 1) if rng.random() < 0.3 else 0.0,
        brow_raise=rng.uniform(-2, 3),
        eye_open=rng.uniform(0.6, 1.1),
        background=int(rng.integers(3)),
        noise_sigma=rng.uniform(2, 8),
    )


def _outline(ident: Identity, n: int = 120) -> np.ndarray:
    """Face contour in the canonical frame: an ellipse whose lower half narrows to a chin."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x = ident.half_width * np.cos(t)
    y = ident.half_height * np.sin(t)
    lower = np.clip(np.sin(t), 0, None)
    x = x * (1 - ident.chin_taper * lower**2)
    return np.stack([x, y], axis=1)


class _Canvas:
    """Draws canonical-frame shapes through a similarity transform (anti-aliased)."""

    def __init__(self, image: np.ndarray, affine: np.ndarray):
        self.image = image
        self.affine = affine
        self.scale = float(np.hypot(*affine[0, :2]))
        self.angle = float(np.degrees(np.arctan2(affine[1, 0], affine[0, 0])))

    def map(self, points) -> np.ndarray:
        points = np.atleast_2d(np.asarray(points, float))
        return points @ self.affine[:, :2].T + self.affine[:, 2]

    def _pts(self, points) -> np.ndarray:
        return np.round(self.map(points) * 16).astype(np.int32)  # 4 fractional bits

    def polygon(self, points, colour) -> None:
        cv2.fillPoly(self.image, [self._pts(points)], _bgr(colour), cv2.LINE_AA, shift=4)

    def polyline(self, points, colour, thickness) -> None:
        width = max(1, int(round(thickness * self.scale)))
        cv2.polylines(self.image, [self._pts(points)], False, _bgr(colour), width, cv2.LINE_AA, shift=4)

    def ellipse(self, centre, axes, colour, angle=0.0, thickness=-1) -> None:
        c = self.map(centre)[0]
        ax = (max(1, int(round(axes[0] * self.scale * 16))), max(1, int(round(axes[1] * self.scale * 16))))
        width = thickness if thickness < 0 else max(1, int(round(thickness * self.scale)))
        cv2.ellipse(self.image, (int(round(c[0] * 16)), int(round(c[1] * 16))), ax,
                    angle + self.angle, 0, 360, _bgr(colour), width, cv2.LINE_AA, shift=4)


def _bgr(colour) -> tuple:
    # Drawing happens on an RGB array; OpenCV just writes the tuple in channel order.
    return tuple(float(c) for c in np.clip(colour, 0, 255))


def _background(rng: np.random.Generator, kind: int) -> np.ndarray:
    base = rng.uniform(30, 230, 3)
    yy, xx = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE] / IMAGE_SIZE
    if kind == 0:  # flat colour with a soft vertical gradient
        img = base + (yy[..., None] - 0.5) * rng.uniform(-60, 60, 3)
    elif kind == 1:  # diagonal stripes
        period = rng.uniform(0.05, 0.2)
        stripes = (np.sin((xx + yy) / period * np.pi) > 0)[..., None]
        img = np.where(stripes, base, rng.uniform(30, 230, 3))
    else:  # blobs
        img = np.broadcast_to(base, (IMAGE_SIZE, IMAGE_SIZE, 3)).copy()
        for _ in range(6):
            c = rng.uniform(0, IMAGE_SIZE, 2).astype(int)
            cv2.circle(img, tuple(int(v) for v in c), int(rng.uniform(15, 60)), _bgr(rng.uniform(30, 230, 3)), -1)
    return np.asarray(img, float)


def render_face(ident: Identity, nuis: Nuisance, rng: np.random.Generator):
    """Render one image. Returns (uint8 RGB image, (5, 2) landmarks, face box x0,y0,x1,y1)."""
    centre = np.array([IMAGE_SIZE / 2, IMAGE_SIZE / 2 + 5]) + nuis.shift
    affine = cv2.getRotationMatrix2D((0.0, 0.0), -nuis.angle_deg, nuis.scale)
    affine[:, 2] = centre
    image = _background(rng, nuis.background)
    canvas = _Canvas(image, affine)
    hw, hh = ident.half_width, ident.half_height
    skin, hair = ident.skin, ident.hair_colour

    if ident.hair_style == 1:  # long hair behind the head
        canvas.polygon([[-hw - 12, -hh * 0.6], [hw + 12, -hh * 0.6], [hw + 14, hh * 0.7], [-hw - 14, hh * 0.7]], hair)
    for side in (-1, 1):  # ears
        canvas.ellipse([side * hw * 0.98, ident.eye_y + 8], [ident.ear_size * 0.6, ident.ear_size], skin * 0.92)
    outline = _outline(ident)
    canvas.polygon(outline, skin)
    if ident.beard:
        jaw = outline[(outline[:, 1] > hh * 0.25)]
        canvas.polygon(jaw, hair * 0.9 + skin * 0.1)
    # Hair cap over the forehead down to the hairline.
    cap = outline[outline[:, 1] < -ident.hairline]
    if ident.hair_style != 2 and len(cap) > 2:  # style 2: bald
        fringe = ident.hairline - (6 if ident.hair_style == 3 else 0)
        cap_pts = np.vstack([cap, [[hw * 0.7, -fringe], [0, -fringe + 4], [-hw * 0.7, -fringe]]])
        canvas.polygon(cap_pts, hair)

    eye_y = ident.eye_y
    eyes = np.array([[-ident.eye_spacing, eye_y], [ident.eye_spacing, eye_y]])
    for side, (ex, ey) in zip((-1, 1), eyes):
        brow_y = ey - ident.brow_gap - nuis.brow_raise
        bx = np.linspace(ex - ident.brow_length / 2, ex + ident.brow_length / 2, 9)
        by = brow_y - ident.brow_arch * (1 - ((bx - ex) / (ident.brow_length / 2)) ** 2)
        canvas.polyline(np.stack([bx, by], 1), hair * 0.8, ident.brow_thickness)
        canvas.ellipse([ex, ey], [ident.eye_width, ident.eye_height * nuis.eye_open + 0.5], [245, 245, 240])
        iris_r = min(ident.eye_height * nuis.eye_open + 0.5, ident.eye_width * 0.5)
        canvas.ellipse([ex, ey], [iris_r, iris_r], ident.iris)
        canvas.ellipse([ex, ey], [iris_r * 0.45, iris_r * 0.45], [15, 15, 15])
        canvas.ellipse([ex, ey], [ident.eye_width, ident.eye_height * nuis.eye_open + 0.5], skin * 0.6, thickness=1)

    nose_tip = np.array([0.0, eye_y + ident.nose_length])
    nw = ident.nose_width
    canvas.polyline([[-2, eye_y + 4], [-nw * 0.35, nose_tip[1] - 3], [-nw * 0.5, nose_tip[1] + 2]], skin * 0.7, 1.5)
    canvas.polygon([[-nw * 0.5, nose_tip[1] + 1], [0, nose_tip[1] - 4], [nw * 0.5, nose_tip[1] + 1],
                    [0, nose_tip[1] + 4]], skin * 0.82)
    for side in (-1, 1):
        canvas.ellipse([side * nw * 0.28, nose_tip[1] + 2], [2.2, 1.4], skin * 0.45)

    mouth_y = nose_tip[1] + ident.mouth_gap
    mw = ident.mouth_half_width
    corner_lift = 4 * nuis.smile
    corners = np.array([[-mw, mouth_y - corner_lift], [mw, mouth_y - corner_lift]])
    mx = np.linspace(-mw, mw, 15)
    curve = mouth_y - corner_lift * (mx / mw) ** 2
    opening = nuis.mouth_open * 6
    upper = np.stack([mx, curve - ident.lip_thickness * (1 - (mx / mw) ** 2)], 1)
    lower = np.stack([mx, curve + opening + ident.lip_thickness * 1.3 * (1 - (mx / mw) ** 2)], 1)
    canvas.polygon(np.vstack([upper, lower[::-1]]), ident.lip_colour)
    if opening > 0.5:
        gap = np.stack([mx, curve + opening * (1 - (mx / mw) ** 2)], 1)
        canvas.polygon(np.vstack([np.stack([mx, curve], 1), gap[::-1]]), [60, 20, 20])
    canvas.polyline(np.stack([mx, curve], 1), ident.lip_colour * 0.5, 1)

    landmarks = canvas.map(np.vstack([eyes, nose_tip, corners]))
    outline_img = canvas.map(outline)
    box = np.array([*outline_img.min(0), *outline_img.max(0)])

    # Lighting: global gain and a left-right gradient, then sensor noise.
    xx = np.linspace(-1, 1, IMAGE_SIZE)[None, :, None]
    image = image * nuis.gain * (1 + nuis.gradient * xx)
    image = image + rng.normal(0, nuis.noise_sigma, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), landmarks, box


def identity_name(index: int) -> str:
    return f"person_{index:03d}"


_NAME = re.compile(r"^person_(?P<identity>\d{3,})/person_(?P=identity)_(?P<number>\d{4})\.jpg$")


def render_image(seed: int, identity: int, number: int):
    """Image ``number`` (from 1) of person ``identity``: (RGB image, landmarks, face box)."""
    ident = sample_identity(np.random.default_rng([seed, identity]))
    rng = np.random.default_rng([seed, identity, number])
    return render_face(ident, sample_nuisance(rng), rng)


def _write(out_dir: Path, rel: str, identity: str, rendered) -> dict:
    image, landmarks, box = rendered
    write_image(out_dir / rel, image)
    return {"image": rel, "identity": identity, **dict(zip(BOX_COLUMNS, box.tolist())),
            **landmarks_to_columns(landmarks)}


def generate_dataset(out_dir, index_csv, identities: int, images_per_identity: int, seed: int) -> pd.DataFrame:
    """Write ``{out_dir}/{identity}/{identity}_{k:04d}.jpg`` and an index with ground truth.

    The index has columns image (path relative to ``out_dir``), identity, the face box and
    the five landmarks in image pixels.
    """
    out_dir = Path(out_dir)
    rows = []
    for i in tqdm(range(identities), desc="synthetic identities"):
        name = identity_name(i)
        for k in range(1, images_per_identity + 1):
            rows.append(_write(out_dir, f"{name}/{name}_{k:04d}.jpg", name, render_image(seed, i, k)))
    index = pd.DataFrame(rows)
    write_csv(index_csv, index)
    return index


def render_named(names, seed: int, out_dir) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Render the images named ``person_III/person_III_000K.jpg`` (any person, seen in training or
    not): (index as ``generate_dataset``'s, names that are not of that form with the reason)."""
    out_dir = Path(out_dir)
    rows, skipped = [], []
    for rel in names:
        match = _NAME.match(rel)
        if match is None or int(match["number"]) < 1:
            skipped.append({"file": rel, "reason": "wrong name pattern: not person_III/person_III_000K.jpg"})
            continue
        rows.append(_write(out_dir, rel, f"person_{match['identity']}",
                           render_image(seed, int(match["identity"]), int(match["number"]))))
    return pd.DataFrame(rows), pd.DataFrame(skipped, columns=["file", "reason"])


def write_pairs(path, identities: int, images_per_identity: int, folds: int, per_fold: int, seed: int) -> None:
    """A pairs file in LFW's ``pairs.txt`` format over ``identities`` people (the first of them
    are the recognition dataset's, the rest unseen), drawn from the dataset seed."""
    rng = np.random.default_rng([seed, 0x9A125])
    lines = [f"{folds} {per_fold}"]
    for _fold in range(folds):
        for _ in range(per_fold):
            person = int(rng.integers(identities))
            first, second = rng.choice(np.arange(1, images_per_identity + 1), size=2, replace=False)
            lines.append(f"{identity_name(person)} {first} {second}")
        for _ in range(per_fold):
            one, other = rng.choice(identities, size=2, replace=False)
            lines.append(f"{identity_name(int(one))} {int(rng.integers(1, images_per_identity + 1))} "
                         f"{identity_name(int(other))} {int(rng.integers(1, images_per_identity + 1))}")
    write_text(path, "\n".join(lines) + "\n")
