"""The base CNN's training settings from a pipeline config, without torch: the Snakefile reads
them when it parses (its params), so that parsing stays quick."""

from __future__ import annotations

from occlusion_fr.occlusions.renderers import renderer_spec


def training_settings(config: dict, dataset: str) -> dict:
    """The base CNN's settings from a validated pipeline config. Visible rows (other than the
    whole crop) and occluders (rate > 0, with their occlusions' renderer specs) enter only when
    used, so that a run without them keeps its fingerprint, and Snakemake its outputs."""
    base = config["base_cnn"]
    settings = {key: value for key, value in base.items() if key not in ("occluders", "visible_rows")}
    if list(base["visible_rows"]) != [0, 1]:
        settings["visible_rows"] = base["visible_rows"]
    if base["occluders"]["rate"] > 0:
        settings["occluders"] = {**base["occluders"], "specs": {
            name: renderer_spec(config["occlusions"][name]) for name in base["occluders"]["occlusions"]}}
    return {**settings, "max_epochs": config["datasets"][dataset]["max_epochs"]["base_cnn"]}
