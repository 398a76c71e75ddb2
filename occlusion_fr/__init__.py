"""Occlusion-robust face recognition with landmark-based feature discarding masks.

The library behind the Snakemake workflow: every module is plain Python (no Snakemake)
so that it can be unit tested and reused outside the workflow.
"""

LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")
"""The five MTCNN landmarks, in MTCNN's order. "left"/"right" are as seen in the image."""

CROP_HEIGHT = 128
CROP_WIDTH = 96
