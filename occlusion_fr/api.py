"""Recognise a user's own photos with a trained run's bundle.

    from occlusion_fr.api import Recognizer
    recognizer = Recognizer.from_bundle("results/lfw/seed0/bundle")
    recognizer.identify("photo.jpg", layout="lm2")   # top-k identities, or "unknown"
    recognizer.verify("a.jpg", "b.jpg")              # same person?
    gallery, problems = recognizer.enroll("people/") # <identity>/<images> as a gallery

A photo goes through the pipeline's own steps: MTCNN (the face nearest the centre), the
128x96 crop, the occlusion segmenter, the layout's regions more than the overlap threshold
covered, their feature discarding mask on the probe and on the gallery alike, and cosine
similarity. A photo that cannot be used raises ``PhotoError`` naming the file and why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import UnidentifiedImageError

from occlusion_fr.bundle import (BASE_CNN_METRICS, BASE_CNN_WEIGHTS, GALLERY, NO_REGION, REGIONS,
                                 SEGMENTER_WEIGHTS, Bundle, BundleSettings)
from occlusion_fr.crop import CropGeometry, crop_image
from occlusion_fr.detect import Detection, MTCNNDetector
from occlusion_fr.io import read_rgb
from occlusion_fr.method.embedding import MaskedGallery, MethodSettings
from occlusion_fr.method.layout import MaskingLayout
from occlusion_fr.method.models import FaceModels
from occlusion_fr.method.selection import NO_FDM
from occlusion_fr.models.features import load_feature_maps, save_feature_maps

UNKNOWN = "unknown"


class PhotoError(ValueError):
    """A photo that cannot be used: missing, not an image, unreadable, or no face found."""


@dataclass
class Face:
    path: str
    crop: np.ndarray  # (H, W, 3) uint8
    detection: Detection


@dataclass(eq=False)
class Gallery:
    """Feature maps of enrolled faces with their identities (and source image names), and the
    bundle (config fingerprint) whose base CNN made them: maps of another run mean nothing."""

    images: np.ndarray
    identities: np.ndarray
    maps: torch.Tensor  # (N, C, h, w) bfloat16
    made_by: str = ""
    masked: dict = field(default_factory=dict, repr=False)  # layout name -> MaskedGallery, filled on use

    def save(self, path) -> None:
        save_feature_maps(path, self.images, self.maps, identities=np.asarray(self.identities, dtype=str),
                          made_by=self.made_by)

    @classmethod
    def load(cls, path) -> Gallery:
        try:
            with np.load(path, allow_pickle=False) as data:
                identities = data["identities"]
                made_by = str(data["made_by"]) if "made_by" in data else ""
        except (OSError, ValueError, KeyError) as error:
            raise ValueError(f"{path}: not a gallery written by `enroll` ({error})") from None
        names, maps = load_feature_maps(path)
        return cls(names, identities, maps, made_by)


def facial_area(face: Face) -> dict | None:
    """The detected face box in the photo's pixels as deepface gives it (None without a detection)."""
    if face.detection is None:
        return None
    x0, y0, x1, y1 = (float(v) for v in face.detection.box)
    return {"x": round(x0), "y": round(y0), "w": round(x1 - x0), "h": round(y1 - y0)}


def image_files(folder) -> list[Path]:
    """Every file under ``folder`` (sorted); non-images are reported by the caller, not hidden."""
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and not p.name.startswith("."))


class Recognizer:
    def __init__(self, models: FaceModels, layouts: dict[str, MaskingLayout], gallery: Gallery, bundle: Bundle):
        self.models, self.layouts, self.gallery, self.bundle = models, layouts, gallery, bundle
        self._detector = None

    @classmethod
    def from_bundle(cls, bundle_dir, precision: str = "auto") -> Recognizer:
        """Load a bundle after checking every file against its manifest. Its gallery, the run's
        training split, is also the cohort that the method's normalisation reads."""
        bundle = Bundle.read(bundle_dir)
        gallery = Gallery.load(bundle.file(GALLERY))
        gallery.made_by = bundle.settings.config_fingerprint
        models = FaceModels.load(bundle.file(BASE_CNN_WEIGHTS), bundle.file(BASE_CNN_METRICS),
                                 bundle.settings.segmenter["encoder"], bundle.file(SEGMENTER_WEIGHTS), precision,
                                 MethodSettings(**bundle.settings.method), gallery.maps)
        layouts = {name: MaskingLayout.load(bundle.regions_file(name), bundle.mask_files(name))
                   for name in bundle.layouts}
        return cls(models, layouts, gallery, bundle)

    @property
    def settings(self) -> BundleSettings:
        return self.bundle.settings

    # -- photos -------------------------------------------------------------------------------

    @property
    def detector(self) -> MTCNNDetector:
        if self._detector is None:
            detection = self.settings.detection
            self._detector = MTCNNDetector(detection["min_face_size"], detection["thresholds"])
        return self._detector

    def face(self, path) -> Face:
        """Detect the face nearest the photo's centre and crop it as the pipeline does."""
        path = Path(path)
        if not path.is_file():
            raise PhotoError(f"{path}: no such file")
        if path.stat().st_size == 0:
            raise PhotoError(f"{path}: empty file (0 bytes), not an image")
        try:
            image = read_rgb(path)
        except UnidentifiedImageError:
            raise PhotoError(f"{path}: not an image (no decoder recognises it)") from None
        except (OSError, ValueError) as error:
            raise PhotoError(f"{path}: unreadable image ({error})") from None
        detection = self.detector([image])[0]
        if detection is None:
            raise PhotoError(f"{path}: no face found")
        source = CropGeometry.from_detection(self.settings.detection).corners(detection.box, detection.landmarks)
        return Face(str(path), crop_image(image, source), detection)

    # -- embeddings -----------------------------------------------------------------------------

    def masking_layout(self, layout: str | None) -> MaskingLayout | None:
        """The bundle's masking layout named ``layout`` (None: the default; "none": no FDM)."""
        layout = self.settings.default_layout if layout is None else layout
        if layout == NO_FDM:
            return None
        if layout not in self.layouts:
            raise ValueError(f"layout {layout!r} is not in the bundle (it has: {', '.join([NO_FDM, *self.layouts])})")
        return self.layouts[layout]

    def analyse(self, crops: list[np.ndarray], layout: MaskingLayout | None):
        """(feature maps, predicted occlusion masks, selected regions) of crops."""
        pixels = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).contiguous()
        maps = self.models.feature_maps(pixels)
        occlusion = self.models.occlusion(pixels)
        selections = layout.select(occlusion, self.settings.overlap_threshold) if layout else [()] * len(crops)
        return maps, occlusion, selections

    def masked_gallery(self, gallery: Gallery, layout: MaskingLayout | None) -> MaskedGallery:
        """The gallery under ``layout``'s FDMs, kept on the gallery for the next probe."""
        fingerprint = self.settings.config_fingerprint
        if gallery.made_by != fingerprint or gallery.maps.shape[1:] != self.gallery.maps.shape[1:]:
            raise ValueError(f"the gallery was enrolled with another run (config fingerprint {gallery.made_by or 'none'}, "
                             f"maps {tuple(gallery.maps.shape[1:])}) than this bundle's "
                             f"({fingerprint}): enroll it again with this bundle")
        key = layout.name if layout else NO_FDM
        if key not in gallery.masked:
            gallery.masked[key] = MaskedGallery(self.models.embedder, gallery.maps, gallery.identities, layout)
        return gallery.masked[key]

    def threshold(self, layout: MaskingLayout | None, far: float | None = None, discarding: bool = False
                  ) -> tuple[float | None, float | None]:
        """(the open-set score threshold, a score above it accepts; the FAR it stands for): at
        ``far`` (one the bundle was calibrated at) or the bundle's default, its lowest, for a
        comparison whose FDM discards a region (``discarding``) or none: masked impostors score
        higher, so each case has its own. (None, None) for a run without a pairs file."""
        if self.bundle.open_set_thresholds is None:
            return None, None
        if far is None:
            thresholds, far = self.bundle.open_set_thresholds, self.bundle.open_set_far
        else:
            calibrated = self.bundle.open_set_thresholds_at_far or {}
            if f"{far:g}" not in calibrated:
                raise ValueError(f"FAR {far:g} is not calibrated in the bundle (it has: {', '.join(calibrated)}; "
                                 "verification.fars)")
            thresholds = calibrated[f"{far:g}"]
        groups = thresholds.get(layout.name if layout else NO_FDM)
        threshold = None if groups is None else groups[REGIONS if discarding else NO_REGION]
        return (None, None) if threshold is None else (float(threshold), float(far))

    # -- the three uses ---------------------------------------------------------------------------

    def identify(self, photo, layout: str | None = None, top_k: int = 5, gallery: Gallery | None = None,
                 face: Face | None = None, far: float | None = None) -> dict:
        """The ``top_k`` gallery identities by cosine score, both sides masked by the FDM of the
        regions the photo's occlusion covers; ``identity`` is ``unknown`` unless the best score is
        above the open-set threshold. That threshold is the pair verification's at ``far`` (default:
        its lowest), a one-to-one FAR: an unknown person's best score over N gallery faces passes
        it more often (up to about N x FAR); without a threshold (no pairs file) the best identity
        is always named."""
        face = face or self.face(photo)
        return {"file": str(photo), **self.identify_crops([face.crop], layout, top_k, gallery, far)[0]}

    def identify_crops(self, crops: list[np.ndarray], layout: str | None = None, top_k: int = 5,
                       gallery: Gallery | None = None, far: float | None = None) -> list[dict]:
        """``identify``'s answer for each face crop (as the pipeline crops a detected face), in one
        batch: the path every identification of the tool takes."""
        gallery = gallery or self.gallery
        chosen = self.masking_layout(layout)
        maps, _, selections = self.analyse(crops, chosen)
        identities, scores = self.masked_gallery(gallery, chosen).identity_scores(maps, selections)
        answers = []
        for row, selection in zip(scores, selections):
            threshold, used_far = self.threshold(chosen, far, bool(selection))
            order = np.argsort(-row, kind="stable")[:top_k]
            best = float(row[order[0]])
            accepted = threshold is None or best > threshold
            answers.append({"identity": str(identities[order[0]]) if accepted else UNKNOWN, "score": best,
                            "threshold": threshold, "far": used_far,
                            "layout": chosen.name if chosen else NO_FDM, "discarded_regions": list(selection),
                            "top": [{"identity": str(identities[i]), "score": float(row[i])} for i in order]})
        return answers

    def verify(self, photo1, photo2, layout: str | None = None, far: float | None = None) -> dict:
        """Same person? Both faces are masked by the FDM of the regions either one's occlusion
        covers (the union: either photo may be the occluded one; the verification rule, which
        calibrated the threshold, knows it is the second), and the score is compared with the
        open-set threshold. The answer follows deepface's: ``verified`` (None when the bundle has
        no threshold: its run had no pairs file), ``score``, ``threshold``, the ``far`` that
        threshold stands for, ``facial_areas`` (x, y, w, h in each photo) and ``time`` (s)."""
        start = time.perf_counter()
        faces = [self.face(photo1), self.face(photo2)]
        answer = self.verify_crops([faces[0].crop], [faces[1].crop], layout, far)[0]
        return {"files": [str(photo1), str(photo2)], **answer,
                "facial_areas": {f"img{i + 1}": facial_area(face) for i, face in enumerate(faces)},
                "time": round(time.perf_counter() - start, 3)}

    def verify_crops(self, crops1: list[np.ndarray], crops2: list[np.ndarray], layout: str | None = None,
                     far: float | None = None) -> list[dict]:
        """``verify``'s answer for each pair of face crops (crops1[i], crops2[i]), in one batch:
        the path every verification of the tool takes."""
        if len(crops1) != len(crops2):
            raise ValueError(f"{len(crops1)} first and {len(crops2)} second faces: pairs need as many of each")
        chosen = self.masking_layout(layout)
        n = len(crops1)
        maps, _, selections = self.analyse([*crops1, *crops2], chosen)
        unions = [chosen.union(a, b) for a, b in zip(selections[:n], selections[n:])] if chosen else [()] * n
        scores = self.models.embedder.pair_scores(maps[:n], maps[n:], unions, chosen)
        answers = []
        for score, union in zip(scores, unions):
            threshold, used_far = self.threshold(chosen, far, bool(union))
            answers.append({"verified": None if threshold is None else bool(score > threshold), "score": float(score),
                            "threshold": threshold, "far": used_far, "layout": chosen.name if chosen else NO_FDM,
                            "discarded_regions": list(union)})
        return answers

    def enroll(self, folder) -> tuple[Gallery, list[dict]]:
        """A gallery of ``folder/<identity>/<image>`` photos, and the files left out with why."""
        names, identities, crops, problems = [], [], [], []
        for path in image_files(folder):
            relative = path.relative_to(folder)
            if len(relative.parts) != 2:
                problems.append({"file": str(path), "error": "not in an <identity>/ folder"})
                continue
            try:
                crops.append(self.face(path).crop)
            except PhotoError as error:
                problems.append({"file": str(path), "error": str(error)})
                continue
            names.append(str(relative))
            identities.append(relative.parts[0])
        if not crops:
            return Gallery(np.array([], dtype=str), np.array([], dtype=str),
                           torch.zeros(0, *self.gallery.maps.shape[1:], dtype=torch.bfloat16),
                           self.settings.config_fingerprint), problems
        pixels = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).contiguous()
        return Gallery(np.array(names), np.array(identities), self.models.feature_maps(pixels),
                       self.settings.config_fingerprint), problems
