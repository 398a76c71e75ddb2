"""Face masks placed the way MaskTheFace places them, from five landmarks and the face box.

MaskTheFace (Anwar and Raychowdhury, 2020) fits a mask template through six anchor points
found on dlib's 68 landmarks: a point on the nose bridge; left and right points where a line
parallel to the eye line, one nose-bridge length below it, meets the jaw contour; left and
right jaw points at the level of the lower lip; and the chin. It warps the template onto them
with a perspective transform, uses a left- or right-turned template when the head is turned
beyond about 13 degrees, and matches the template's brightness to the face. Here the jaw
contour is the ellipse of ``geometry.face_frame`` and the templates are drawn procedurally
(surgical, N95, KN95, cloth) with colours and textures seeded per image.
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


def anchors(frame: FaceFrame) -> np.ndarray:
    """The six MaskTheFace anchors in crop pixels: bridge, mid-left, mid-right, jaw-left,
    jaw-right, chin."""
    lm = frame.landmarks
    bridge_length = float((lm[2] - frame.eye_mid) @ frame.v)
    bridge = frame.eye_mid + 0.35 * (lm[2] - frame.eye_mid)
    eye_r = float(frame.to_face(frame.eye_mid)[0, 1])
    mid_left, mid_right = frame.jaw_points_at(eye_r + bridge_length)
    mouth_s, mouth_r = frame.to_face(lm[3:].mean(0))[0]
    lip_r = mouth_r + 0.25 * (frame.jaw_b - mouth_r)
    jaw_left, jaw_right = frame.jaw_points_at(lip_r)
    chin = frame.to_crop(0.5 * mouth_s, frame.jaw_b)
    return np.stack([bridge, mid_left, mid_right, jaw_left, jaw_right, chin])


def template_anchors(turn: int) -> np.ndarray:
    """Anchors in template pixels; ``turn`` -1/0/1 = turned to image left/frontal/right."""
    centre = 0.5 + 0.08 * turn
    points = np.array([[centre, 0.06], [0.03, 0.34], [0.97, 0.34], [0.13, 0.78], [0.87, 0.78], [centre, 0.98]])
    return points * [_W, _H] + [_PAD, 0]


def _bezier(p0, control, p1, n=16) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * np.asarray(control) + t**2 * p1


def _at(x: float, y: float) -> np.ndarray:
    """Template pixel of a point given as fractions of the template's width and height."""
    return np.array([x * _W + _PAD, y * _H])


def _outline(style: str, turn: int) -> np.ndarray:
    bridge, mid_l, mid_r, jaw_l, jaw_r, chin = template_anchors(turn)
    drop = {"n95": 1.06, "kn95": 1.0, "surgical": 1.0, "cloth": 1.02}[style]
    if style == "kn95":  # folded flat: straight edges meeting at bridge and chin
        return np.vstack([_bezier(mid_l, (mid_l + bridge) / 2, bridge), _bezier(bridge, (bridge + mid_r) / 2, mid_r),
                          _bezier(mid_r, _at(0.99, 0.6), jaw_r), _bezier(jaw_r, (jaw_r + chin) / 2, chin),
                          _bezier(chin, (chin + jaw_l) / 2, jaw_l), _bezier(jaw_l, _at(0.01, 0.6), mid_l)])
    return np.vstack([_bezier(mid_l, _at(0.24, 0.1), bridge), _bezier(bridge, _at(0.76, 0.1), mid_r),
                      _bezier(mid_r, _at(0.99, 0.6), jaw_r), _bezier(jaw_r, _at(0.78, drop), chin),
                      _bezier(chin, _at(0.22, drop), jaw_l), _bezier(jaw_l, _at(0.01, 0.6), mid_l)])


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
        bridge, chin = template_anchors(turn)[[0, 5]]
        _polyline(rgba, np.stack([bridge, chin]), line, 3, inside)
        _polyline(rgba, outline, line, 3, inside)
    if style == "n95":
        valve = (template_anchors(turn)[5, 0] + 0.15 * _W, 0.6 * _H)  # exhalation valve, off centre
        cv2.circle(rgba, tuple(int(v) for v in valve), 18, (*np.clip(base * 0.85, 0, 255).tolist(), 1.0), -1,
                   cv2.LINE_AA)
    if style in ("surgical", "cloth", "kn95"):  # ear loops, towards the ears beyond the jaw
        loop = (235.0, 235.0, 235.0) if style != "cloth" else tuple(base.tolist())
        for a, b, out in ((1, 3, -1), (2, 4, 1)):
            p, q = template_anchors(turn)[[a, b]]
            ear = np.array([p[0] + out * (_PAD - 4), (p[1] + q[1]) / 2])
            for end in (p, q):
                cv2.line(rgba, tuple(int(v) for v in end), tuple(int(v) for v in ear), (*loop, 1.0), 3, cv2.LINE_AA)
    else:  # N95 head straps, from the sides of the mask towards the back of the head
        for a, b in ((1, 2), (3, 4)):
            p, q = template_anchors(turn)[[a, b]]
            cv2.line(rgba, (0, int(p[1])), tuple(int(v) for v in p), (*line, 1.0), 3, cv2.LINE_AA)
            cv2.line(rgba, tuple(int(v) for v in q), (rgba.shape[1] - 1, int(q[1])), (*line, 1.0), 3, cv2.LINE_AA)
    return rgba


def _polyline(rgba, points, colour, thickness, inside) -> None:
    """Draw a line on the template, kept inside the mask outline."""
    layer = rgba[..., :3].copy()
    cv2.polylines(layer, [np.round(points).astype(np.int32)], False, colour, thickness, cv2.LINE_AA)
    keep = inside.astype(bool)
    rgba[..., :3][keep] = layer[keep]


def face_brightness(crop: np.ndarray, frame: FaceFrame) -> float:
    """Mean luminance of the face inside the jaw ellipse's upper half (eyes to nose)."""
    yy, xx = np.mgrid[0:crop.shape[0], 0:crop.shape[1]]
    s, r = frame.to_face(np.stack([xx.ravel() + 0.5, yy.ravel() + 0.5], 1)).T
    inside = ((s / frame.jaw_a) ** 2 + (r / frame.jaw_b) ** 2 <= 1).reshape(crop.shape[:2])
    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    return float(gray[inside].mean()) if inside.any() else float(gray.mean())


def render_face_mask(crop: np.ndarray, frame: FaceFrame, rng: np.random.Generator, styles=STYLES,
                     turn_threshold_deg: float = 13.0) -> tuple[Overlay, dict]:
    """Overlay of a face mask on ``crop`` and what was drawn (style, turn, brightness factor)."""
    style = styles[int(rng.integers(len(styles)))]
    turn = 0 if abs(frame.turn_deg) <= turn_threshold_deg else int(np.sign(frame.turn_deg))
    template = draw_template(style, turn, rng)
    # Brightness matching as in MaskTheFace: scale the template towards the face's brightness.
    factor = float(np.clip(face_brightness(crop, frame) / 150.0, 0.45, 1.15))
    template[..., :3] *= factor
    homography, _ = cv2.findHomography(template_anchors(turn), anchors(frame) * SUPERSAMPLE, 0)
    premultiplied = np.concatenate([template[..., :3] * template[..., 3:], template[..., 3:]], axis=2)
    size = (CROP_WIDTH * SUPERSAMPLE, CROP_HEIGHT * SUPERSAMPLE)
    warped = downsample(cv2.warpPerspective(premultiplied, homography, size, flags=cv2.INTER_LINEAR))
    alpha = np.clip(warped[..., 3], 0, 1)
    rgb = warped[..., :3] / np.maximum(alpha, 1e-6)[..., None]
    return Overlay(rgb.astype(np.float32), alpha.astype(np.float32)), {
        "style": style, "turn": turn, "brightness": round(factor, 3)}
