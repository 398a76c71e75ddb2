"""Face crops: expand a face box to the crop's aspect ratio, warp, and carry landmarks along."""

from __future__ import annotations

import cv2
import numpy as np

from occlusion_fr import CROP_HEIGHT, CROP_WIDTH


def crop_box(box, margin: float, height: int = CROP_HEIGHT, width: int = CROP_WIDTH) -> np.ndarray:
    """The source rectangle a crop is cut from.

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


def _affine(source_box, height: int, width: int) -> np.ndarray:
    x0, y0, x1, y1 = source_box
    sx, sy = width / (x1 - x0), height / (y1 - y0)
    return np.array([[sx, 0.0, -x0 * sx], [0.0, sy, -y0 * sy]])


def crop_image(image: np.ndarray, source_box, height: int = CROP_HEIGHT, width: int = CROP_WIDTH) -> np.ndarray:
    """Cut ``source_box`` out of ``image`` and resize it to height x width.

    Parts of the box outside the photo repeat its border rather than turning black, so that
    padding is never mistaken for an occlusion later.
    """
    return cv2.warpAffine(image, _affine(source_box, height, width), (width, height),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def points_to_crop(points, source_box, height: int = CROP_HEIGHT, width: int = CROP_WIDTH) -> np.ndarray:
    """Map (N, 2) image points into crop pixel coordinates."""
    affine = _affine(source_box, height, width)
    return np.asarray(points, dtype=float) @ affine[:, :2].T + affine[:, 2]


def paste_into_photo(photo: np.ndarray, crop: np.ndarray, mask: np.ndarray, source_box) -> np.ndarray:
    """``photo`` with the ``mask`` pixels of ``crop`` (cut from ``source_box`` of it) warped back
    in place: an occluder rendered on a crop, drawn onto the original photo."""
    inverse = cv2.invertAffineTransform(_affine(source_box, *crop.shape[:2]))
    size = (photo.shape[1], photo.shape[0])
    back = cv2.warpAffine(np.ascontiguousarray(crop), inverse, size, flags=cv2.INTER_LINEAR)
    cover = cv2.warpAffine(np.asarray(mask, np.uint8) * 255, inverse, size, flags=cv2.INTER_LINEAR) > 127
    pasted = photo.copy()
    pasted[cover] = back[cover]
    return pasted
