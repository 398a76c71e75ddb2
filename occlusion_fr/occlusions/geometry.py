"""Face geometry from five landmarks and the face box, in crop pixels.

Renderers that follow the face (face masks, sunglasses) work in the face frame: ``u`` along
the eye line (image left to right), ``v`` perpendicular to it pointing down the face. The
jaw is estimated as the lower half of an ellipse whose horizontal axis spans the face box
at eye level and whose lower end is the bottom of the face box (the chin).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from occlusion_fr import CROP_HEIGHT, CROP_WIDTH, LANDMARK_NAMES


class UnusableFace(ValueError):
    """Landmarks that a landmark-driven renderer cannot use; the message is the skip reason."""


def check_landmarks(landmarks: np.ndarray, height: int = CROP_HEIGHT, width: int = CROP_WIDTH) -> None:
    for name, (x, y) in zip(LANDMARK_NAMES, landmarks):
        if not (np.isfinite(x) and np.isfinite(y)):
            raise UnusableFace(f"unusable landmarks: {name} is missing")
        if not (0 <= x < width and 0 <= y < height):
            raise UnusableFace(f"unusable landmarks: {name} ({x:.1f}, {y:.1f}) is outside the "
                               f"{height}x{width} crop")
    if np.linalg.norm(landmarks[1] - landmarks[0]) < 2:
        raise UnusableFace("unusable landmarks: both eyes on one point (degenerate)")


@dataclass(frozen=True)
class FaceFrame:
    eye_mid: np.ndarray
    u: np.ndarray
    v: np.ndarray
    eye_distance: float
    landmarks: np.ndarray
    jaw_centre: np.ndarray
    jaw_a: float  # half width of the jaw ellipse along u
    jaw_b: float  # from the eye line to the chin along v

    @property
    def roll_deg(self) -> float:
        return float(np.degrees(np.arctan2(self.u[1], self.u[0])))

    @property
    def turn_deg(self) -> float:
        """Signed angle between the face's vertical axis and the eye-midpoint-to-nose line:
        about 0 for a frontal face, positive when the nose points to image right."""
        to_nose = self.landmarks[2] - self.eye_mid
        return float(np.degrees(np.arctan2(to_nose @ self.u, to_nose @ self.v)))

    def to_face(self, points) -> np.ndarray:
        """Crop pixels -> (s, r) coordinates along u and v about the jaw centre."""
        d = np.atleast_2d(points) - self.jaw_centre
        return np.stack([d @ self.u, d @ self.v], axis=1)

    def to_crop(self, s, r) -> np.ndarray:
        s, r = np.broadcast_arrays(np.asarray(s, float), np.asarray(r, float))
        return self.jaw_centre + s[..., None] * self.u + r[..., None] * self.v

    def jaw_points_at(self, r: float) -> tuple[np.ndarray, np.ndarray]:
        """Left and right points where the line r = const (parallel to the eyes) meets the jaw."""
        r = float(np.clip(r, -0.95 * self.jaw_b, 0.95 * self.jaw_b))
        half = self.jaw_a * np.sqrt(1 - (r / self.jaw_b) ** 2)
        return self.to_crop(-half, r), self.to_crop(half, r)


def face_frame(landmarks: np.ndarray, face_box) -> FaceFrame:
    """Build the face frame; raises ``UnusableFace`` for landmarks a renderer cannot use."""
    landmarks = np.asarray(landmarks, float)
    check_landmarks(landmarks)
    left_eye, right_eye, nose = landmarks[:3]
    eye_vector = right_eye - left_eye
    distance = float(np.linalg.norm(eye_vector))
    u = eye_vector / distance
    v = np.array([-u[1], u[0]])
    eye_mid = (left_eye + right_eye) / 2
    if (nose - eye_mid) @ v <= 1:
        raise UnusableFace("unusable landmarks: nose not below the eye line (degenerate)")
    x0, y0, x1, y1 = face_box
    # Jaw ellipse: centred at eye level below the box centre, as wide as the box, down to its bottom.
    centre = eye_mid + ((x0 + x1) / 2 - eye_mid[0]) * u
    jaw_a = max((x1 - x0) / 2, 0.6 * distance)
    jaw_b = max((np.array([(x0 + x1) / 2, y1]) - centre) @ v, 1.2 * float((landmarks[3:].mean(0) - centre) @ v))
    return FaceFrame(eye_mid, u, v, distance, landmarks, centre, float(jaw_a), float(jaw_b))
