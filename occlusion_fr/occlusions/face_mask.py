"""Face masks placed the way MaskTheFace places them, from five landmarks and the face box.

MaskTheFace (Anwar and Raychowdhury, 2020) fits a mask template through six anchor points
found on dlib's 68 landmarks: a point on the nose bridge; left and right points where a line
parallel to the eye line, one nose-bridge length below it, meets the jaw contour; left and
right jaw points at the level of the lower lip; and the chin. It warps the template onto them
with a perspective transform, uses a left- or right-turned template when the head is turned
beyond about 13 degrees (on its own angle; about 26 on ``FaceFrame.turn_deg``), matches the
template's brightness to the photo's, pastes it with a hard edge and writes JPEG. Here the jaw
contour is the ellipse of ``geometry.face_frame``, its chin lowered to where dlib's falls on
LFW faces, and the templates are drawn procedurally (surgical, N95, KN95, cloth, with
MaskTheFace's anchor heights per type) with colours and textures seeded per image.
"""

from __future__ import annotations

import cv2
import numpy as np

from occlusion_fr import CROP_HEIGHT, CROP_WIDTH
from occlusion_fr.occlusions.geometry import FaceFrame
from occlusion_fr.occlusions.overlay import SUPERSAMPLE, Overlay, downsample

STYLES = ("surgical", "n95", "kn95", "cloth")
_W, _H, _PAD = 240, 200, 40  # template size and side padding for the ear loops
_COLOURS = {
    "surgical": [(150, 195, 225), (125, 190, 175), (235, 235, 235), (230, 170, 190), (45, 45, 50)],
    "n95": [(240, 240, 235), (225, 225, 215)],
    "kn95": [(238, 238, 238), (40, 40, 45), (200, 200, 205)],
    "cloth": [(30, 60, 120), (150, 30, 40), (40, 110, 60), (90, 90, 90), (200, 160, 60), (20, 20, 20)],
}


# Where MaskTheFace's anchors fall on LFW faces, from dlib's mean 68-point shape fitted to each
# face's five MTCNN landmarks (4,324 faces, medians; ED = eye distance): the bridge point, the
# midpoint of landmarks 27 and 30, 48% of the way from the eye line to the nose tip; the lowest
# lower-lip point 0.26 ED below the mouth corners; the chin (landmark 8) 1.93 ED below the eye
# line where the face box's bottom gives 1.83. dlib's jaw is also 10-12% wider than the box's
# ellipse, but widening ours raised the labelled share of LFW test crops to 38.5%, against 35.8%
# measured on real MaskTheFace output (36.3% without), so the ellipse keeps the box's width.
BRIDGE_SHARE = 0.48
LOWER_LIP_BELOW_CORNERS = 0.26  # in eye distances
CHIN_BELOW_BOX = 1.93 / 1.83


def anchors(frame: FaceFrame) -> np.ndarray:
    """The six MaskTheFace anchors in crop pixels: bridge, mid-left, mid-right, jaw-left,
    jaw-right, chin."""
    lm = frame.landmarks
    bridge_length = float((lm[2] - frame.eye_mid) @ frame.v)
    bridge = frame.eye_mid + BRIDGE_SHARE * (lm[2] - frame.eye_mid)
    eye_r = float(frame.to_face(frame.eye_mid)[0, 1])
    mouth_s, mouth_r = frame.to_face(lm[3:].mean(0))[0]

    mid_left, mid_right = frame.jaw_points_at(eye_r + bridge_length)
    jaw_left, jaw_right = frame.jaw_points_at(mouth_r + LOWER_LIP_BELOW_CORNERS * frame.eye_distance)
    chin = frame.to_crop(0.5 * mouth_s, CHIN_BELOW_BOX * frame.jaw_b)
    return np.stack([bridge, mid_left, mid_right, jaw_left, jaw_right, chin])


# Heights of the side anchors between bridge (0) and chin (1) in MaskTheFace's templates
# (masks.cfg): the mid points, then the jaw points.
_SIDE_HEIGHTS = {"surgical": (0.17, 0.67), "n95": (0.22, 0.55), "kn95": (0.07, 0.56), "cloth": (0.17, 0.63)}
_TOP, _BOTTOM = 0.06, 0.98  # bridge and chin heights, as fractions of the template's height


def _height(share: float) -> float:
    return _TOP + share * (_BOTTOM - _TOP)


def template_anchors(turn: int, style: str = "surgical") -> np.ndarray:
    """Anchors in template pixels; ``turn`` -1/0/1 = turned to image left/frontal/right."""
    centre = 0.5 + 0.08 * turn
    mid, jaw = (_height(h) for h in _SIDE_HEIGHTS[style])
    points = np.array([[centre, _TOP], [0.03, mid], [0.97, mid], [0.13, jaw], [0.87, jaw], [centre, _BOTTOM]])
    return points * [_W, _H] + [_PAD, 0]


def _bezier(p0, control, p1, n=16) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * np.asarray(control) + t**2 * p1


def _at(x: float, y: float) -> np.ndarray:
    """Template pixel of a point given as fractions of the template's width and height."""
    return np.array([x * _W + _PAD, y * _H])


def _outline(style: str, turn: int) -> np.ndarray:
    bridge, mid_l, mid_r, jaw_l, jaw_r, chin = template_anchors(turn, style)
    side = (mid_l[1] + jaw_l[1]) / 2 / _H  # the sides bulge out between the mid and jaw anchors
    top = min(mid_l[1] / _H, _TOP + 0.04)
    drop = {"n95": 1.06, "kn95": 1.0, "surgical": 1.0, "cloth": 1.02}[style]
    if style == "kn95":  # folded flat: straight edges meeting at bridge and chin
        return np.vstack([_bezier(mid_l, (mid_l + bridge) / 2, bridge), _bezier(bridge, (bridge + mid_r) / 2, mid_r),
                          _bezier(mid_r, _at(0.99, side), jaw_r), _bezier(jaw_r, (jaw_r + chin) / 2, chin),
                          _bezier(chin, (chin + jaw_l) / 2, jaw_l), _bezier(jaw_l, _at(0.01, side), mid_l)])
    return np.vstack([_bezier(mid_l, _at(0.24, top), bridge), _bezier(bridge, _at(0.76, top), mid_r),
                      _bezier(mid_r, _at(0.99, side), jaw_r), _bezier(jaw_r, _at(0.78, drop), chin),
                      _bezier(chin, _at(0.22, drop), jaw_l), _bezier(jaw_l, _at(0.01, side), mid_l)])


def draw_template(style: str, turn: int, rng: np.random.Generator) -> np.ndarray:
    """RGBA float template (H, W + 2 pad, 4), colour and texture drawn from ``rng``."""
    palette = _COLOURS[style]
    base = np.array(palette[rng.integers(len(palette))], float) + rng.normal(0, 6, 3)
    rgba = np.zeros((_H, _W + 2 * _PAD, 4), np.float32)
    outline = _outline(style, turn)
    inside = np.zeros(rgba.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.round(outline).astype(np.int32)], 1, cv2.LINE_8)
    colour = np.broadcast_to(base, rgba.shape[:2] + (3,)).copy()
    yy, xx = np.mgrid[0:_H, 0:_W + 2 * _PAD]
    if style == "cloth":  # a woven pattern: stripes, checks or dots
        pattern = int(rng.integers(3))
        second = np.array(_COLOURS["cloth"][rng.integers(6)], float)
        period = rng.uniform(14, 30)
        if pattern == 0:
            on = (yy // period) % 2 == 0
        elif pattern == 1:
            on = ((yy // period) + (xx // period)) % 2 == 0
        else:
            on = ((yy % period - period / 2) ** 2 + (xx % period - period / 2) ** 2) < (period / 4) ** 2
        colour[on] = 0.6 * colour[on] + 0.4 * second
    colour += rng.normal(0, 5, colour.shape)  # fabric grain
    # Shading: fabric curves away from the camera towards the sides (more on the far side when turned).
    s = (xx - _PAD - _W * (0.5 + 0.08 * turn)) / (_W / 2)
    colour *= (1 - 0.18 * np.clip(np.abs(s) + 0.3 * turn * s, 0, 1) ** 2)[..., None]
    rgba[..., :3] = colour
    rgba[..., 3] = inside
    line = np.clip(base * 0.75, 0, 255).tolist()
    if style in ("surgical", "cloth"):
        pleats = (0.36, 0.55, 0.72) if style == "surgical" else ()
        for height in pleats:
            pleat = _bezier(_at(0.06, height), _at(0.5, height + 0.05), _at(0.94, height))
            _polyline(rgba, pleat, line, 3, inside)
        _polyline(rgba, outline, np.clip(base * 0.8, 0, 255).tolist(), 4, inside)  # hem
    if style == "kn95":
        bridge, chin = template_anchors(turn, style)[[0, 5]]
        _polyline(rgba, np.stack([bridge, chin]), line, 3, inside)
        _polyline(rgba, outline, line, 3, inside)
    if style == "n95":
        valve = (template_anchors(turn, style)[5, 0] + 0.15 * _W, 0.6 * _H)  # exhalation valve, off centre
        cv2.circle(rgba, tuple(int(v) for v in valve), 18, (*np.clip(base * 0.85, 0, 255).tolist(), 1.0), -1,
                   cv2.LINE_AA)
    # No ear loops nor straps: MaskTheFace's templates end within a few percent of their side anchors.
    return rgba


def _polyline(rgba, points, colour, thickness, inside) -> None:
    """Draw a line on the template, kept inside the mask outline."""
    layer = rgba[..., :3].copy()
    cv2.polylines(layer, [np.round(points).astype(np.int32)], False, colour, thickness, cv2.LINE_AA)
    keep = inside.astype(bool)
    rgba[..., :3][keep] = layer[keep]


def brightness_factor(crop: np.ndarray, template: np.ndarray) -> float:
    """MaskTheFace's brightness matching: 1 + (mean HSV value of the photo - that of the template,
    transparent pixels counted as black) / 255."""
    photo_value = float(crop.max(axis=2).mean())
    template_value = float((template[..., :3].max(axis=2) * template[..., 3]).mean())
    return float(np.clip(1 + (photo_value - template_value) / 255, 0.5, 1.5))


def render_face_mask(crop: np.ndarray, frame: FaceFrame, rng: np.random.Generator, styles=STYLES,
                     turn_threshold_deg: float = 13.0) -> tuple[Overlay, dict]:
    """Overlay of a face mask on ``crop`` and what was drawn (style, turn, brightness factor)."""
    style = styles[int(rng.integers(len(styles)))]
    turn = 0 if abs(frame.turn_deg) <= turn_threshold_deg else int(np.sign(frame.turn_deg))
    template = draw_template(style, turn, rng)
    factor = brightness_factor(crop, template)
    template[..., :3] = np.clip(template[..., :3] * factor, 0, 255)
    homography, _ = cv2.findHomography(template_anchors(turn, style), anchors(frame) * SUPERSAMPLE, 0)
    premultiplied = np.concatenate([template[..., :3] * template[..., 3:], template[..., 3:]], axis=2)
    size = (CROP_WIDTH * SUPERSAMPLE, CROP_HEIGHT * SUPERSAMPLE)
    warped = downsample(cv2.warpPerspective(premultiplied, homography, size, flags=cv2.INTER_LINEAR))
    coverage = np.clip(warped[..., 3], 0, 1)
    rgb = warped[..., :3] / np.maximum(coverage, 1e-6)[..., None]
    alpha = (coverage >= 0.5).astype(np.float32)  # pasted with a hard edge, as MaskTheFace does
    return Overlay(rgb.astype(np.float32), alpha), {
        "style": style, "turn": turn, "brightness": round(factor, 3)}
