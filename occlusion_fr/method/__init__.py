"""The test-time method (paper section 3.5), in one place for every caller: Table 1, the FDM
controls and ablations, the percentile sweep, pair verification, the saliency figures, the
bundle and the ``identify`` / ``verify`` / ``enroll`` API.

- ``selection``: which regions of a layout an occlusion map covers (region selection);
- ``fdm``: the feature discarding mask of selected regions (FDM construction);
- ``layout``: a masking layout (region boxes + mask dictionary) joining the two;
- ``embedding``: feature maps embedded under a mask, a gallery embedded once per mask (the one
  cache), probes grouped by FDM and scored against it;
- ``models``: a run's base CNN and segmenter applied to crops;
- ``occlusion_masks``: the detectors' per-probe occlusion maps, stored per probe set.

Submodules are imported directly (this file imports nothing, so that the numpy-only parts stay
light for the renderers).
"""
