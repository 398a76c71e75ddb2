"""Occluded copies of face crops: renderers, segmentation labels and occlusion sets.

Every renderer returns an ``Overlay``: an RGB layer and its coverage (alpha) at crop size.
Compositing it gives the occluded crop; ``alpha >= 0.5`` is the exact occlusion mask that
the derived segmentation labels are compared against.
"""
