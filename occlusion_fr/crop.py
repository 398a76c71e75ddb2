"""Face crops: from a detection to a 128x96 crop, and landmarks and occluders carried along.

A crop is a similarity transform of the photo, recorded by where the crop's top-left and
bottom-right corners lie in the photo (``crop_x0, crop_y0, crop_x1, crop_y1`` in the faces
tables): two points fix rotation, uniform scale and shift. ``box`` crops (the paper's) are
the face box grown to the crop's aspect ratio, so their corners are the box's and nothing is
rotated; ``similarity`` crops warp the five landmarks onto a template (the paper's future work).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from occlusion_fr import CROP_HEIGHT, CROP_WIDTH

ALIGNMENTS = ("box", "similarity")


def crop_box(box, margin: float, height: int = CROP_HEIGHT, width: int = CROP_WIDTH) -> np.ndarray:
    """The source rectangle a box crop is cut from.

    ``box`` (x0, y0, x1, y1) is widened by ``margin`` times its width (height) on each side,
    then its shorter side is grown about the centre to the crop's aspect ratio, so faces are
    never distorted by the resize.
    """
    x0, y0, x1, y1 = map(float, box)
    w, h = (x1 - x0) * (1 + 2 * margin), (y1 - y0) * (1 + 2 * margin)
    if w <= 0 or h <= 0:
        raise ValueError(f"degenerate face box {box}")
    aspect = height / width
    if h / w < aspect:
        h = w * aspect
    else:
        w = h / aspect
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def similarity_to(points, template) -> np.ndarray:
    """The 2x3 similarity (rotation, uniform scale, shift; no reflection) that maps ``points``
    onto ``template`` (both (N, 2)) in the least-squares sense (Umeyama 1991)."""
    src, dst = np.asarray(points, float), np.asarray(template, float)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or len(src) < 2:
        raise ValueError(f"similarity_to needs two (N>=2, 2) point sets of one shape, got {src.shape} and {dst.shape}")
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    spread = (src_c ** 2).sum()
    if spread <= 1e-12:
        raise ValueError(f"degenerate landmarks {src.tolist()}: all at one point")
    u, s, vt = np.linalg.svd(dst_c.T @ src_c)
    sign = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rotation = u @ sign @ vt
    scale = (s * np.diag(sign)).sum() / spread
    linear = scale * rotation
    return np.hstack([linear, (dst_mean - linear @ src_mean)[:, None]])


def corners_of(affine, height: int = CROP_HEIGHT, width: int = CROP_WIDTH) -> np.ndarray:
    """Where a crop made by the image-to-crop similarity ``affine`` has its top-left and
    bottom-right corners in the image: (x0, y0, x1, y1)."""
    inverse = cv2.invertAffineTransform(np.asarray(affine, float))
    corners = np.array([[0.0, 0.0], [width, height]]) @ inverse[:, :2].T + inverse[:, 2]
    return corners.ravel()


def _affine(corners, height: int, width: int) -> np.ndarray:
    """Image-to-crop similarity of a crop whose corners lie at ``corners`` in the image.

    In complex numbers, image = a * crop + top_left with a = (bottom_right - top_left) / (width + i height).
    For an axis-aligned box of the crop's aspect ratio this is the plain scale and shift.
    """
    x0, y0, x1, y1 = map(float, corners)
    a = complex(x1 - x0, y1 - y0) / complex(width, height)
    if abs(a) == 0:
        raise ValueError(f"degenerate crop corners {corners}")
    inv = 1 / a  # crop = inv * (image - top_left)
    linear = np.array([[inv.real, -inv.imag], [inv.imag, inv.real]])
    return np.hstack([linear, (-linear @ np.array([x0, y0]))[:, None]])


@dataclass(frozen=True)
class CropGeometry:
    """How a detection becomes a crop: ``box`` (the face box widened by ``margin`` and grown to
    the crop's aspect ratio) or ``similarity`` (the five landmarks onto ``template``, (5, 2)
    crop pixels in MTCNN order)."""

    align: str = "box"
    margin: float = 0.0
    template: tuple | None = None

    def __post_init__(self):
        if self.align not in ALIGNMENTS:
            raise ValueError(f"detection.align: {self.align!r} is not one of {', '.join(ALIGNMENTS)}")
        if self.align == "similarity" and np.shape(self.template) != (5, 2):
            raise ValueError(f"detection.template: five (x, y) points are needed, got {self.template!r}")

    @classmethod
    def from_param(cls, value) -> CropGeometry:
        """From the detection rules' ``crop`` parameter (``crop_geometry`` in rules/common.smk):
        a number is a box crop's margin, a mapping the alignment settings."""
        return cls.from_detection({"margin": value} if isinstance(value, (int, float)) else value)

    @classmethod
    def from_detection(cls, detection: dict) -> CropGeometry:
        """From ``config["detection"]`` or a bundle's detection settings (box when it names no alignment)."""
        if detection.get("align", "box") == "box":
            return cls(margin=float(detection["margin"]))
        return cls(align=detection["align"], template=tuple(map(tuple, detection["template"])))

    def corners(self, box, landmarks) -> np.ndarray:
        """The crop's corners (x0, y0, x1, y1) in the photo for a face ``box`` and its (5, 2) ``landmarks``."""
        if self.align == "box":
            return crop_box(box, self.margin)
        return corners_of(similarity_to(landmarks, self.template))


def crop_image(image: np.ndarray, corners, height: int = CROP_HEIGHT, width: int = CROP_WIDTH) -> np.ndarray:
    """The crop whose corners lie at ``corners`` in ``image``, height x width pixels.

    Parts of the crop outside the photo repeat its border rather than turning black, so that
    padding is never mistaken for an occlusion later.
    """
    return cv2.warpAffine(image, _affine(corners, height, width), (width, height),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def points_to_crop(points, corners, height: int = CROP_HEIGHT, width: int = CROP_WIDTH) -> np.ndarray:
    """Map (N, 2) image points into crop pixel coordinates."""
    affine = _affine(corners, height, width)
    return np.asarray(points, dtype=float) @ affine[:, :2].T + affine[:, 2]


def box_to_crop(box, corners, height: int = CROP_HEIGHT, width: int = CROP_WIDTH) -> np.ndarray:
    """An image box (x0, y0, x1, y1) in crop pixels: its centre mapped, its sides scaled. A face
    box is upright on the face, so on an aligned (rotated) crop it stays the face's size rather
    than growing to the bounds of its rotated corners; on a box crop it is the corners mapped."""
    x0, y0, x1, y1 = map(float, box)
    affine = _affine(corners, height, width)
    centre = points_to_crop([[(x0 + x1) / 2, (y0 + y1) / 2]], corners, height, width)[0]
    half = np.hypot(*affine[0, :2]) * np.array([x1 - x0, y1 - y0]) / 2
    return np.concatenate([centre - half, centre + half])


def paste_into_photo(photo: np.ndarray, crop: np.ndarray, mask: np.ndarray, corners) -> np.ndarray:
    """``photo`` with the ``mask`` pixels of ``crop`` (cut at ``corners`` of it) warped back
    in place: an occluder rendered on a crop, drawn onto the original photo."""
    inverse = cv2.invertAffineTransform(_affine(corners, *crop.shape[:2]))
    size = (photo.shape[1], photo.shape[0])
    back = cv2.warpAffine(np.ascontiguousarray(crop), inverse, size, flags=cv2.INTER_LINEAR)
    cover = cv2.warpAffine(np.asarray(mask, np.uint8) * 255, inverse, size, flags=cv2.INTER_LINEAR) > 127
    pasted = photo.copy()
    pasted[cover] = back[cover]
    return pasted
