"""Configuration validation against the JSON schema, filling in documented defaults."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator, validators

from occlusion_fr import CROP_HEIGHT, CROP_WIDTH
from occlusion_fr.method.selection import NO_FDM


class ConfigError(ValueError):
    pass


def _with_defaults(validator_class):
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for key, subschema in properties.items():
                if "default" in subschema:
                    instance.setdefault(key, copy.deepcopy(subschema["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


# JSON Schema counts 1.0 as an integer; a seed or an epoch count of 1.0 would then reach file
# names ("seed1.0") and loops. Only true integers pass here.
_STRICT_TYPES = Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool))
_Validator = validators.extend(_with_defaults(Draft202012Validator), type_checker=_STRICT_TYPES)


def load_schema(path) -> dict:
    return yaml.safe_load(Path(path).read_text())


def validate_config(config: dict, schema_path) -> dict:
    """Fill defaults into ``config`` in place and validate it.

    Raises ``ConfigError`` listing every problem with the dotted key it concerns.
    """
    validator = _Validator(load_schema(schema_path))
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = []
        for error in errors:
            key = ".".join(map(str, error.absolute_path)) or "(top level)"
            lines.append(f"config key {key}: {error.message}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    check_references(config)
    return config


def check_references(config: dict) -> None:
    """Names that refer to other config entries must exist (beyond what a schema can say)."""
    problems = []
    if config["dataset"] not in config["datasets"]:
        problems.append(f"config key dataset: {config['dataset']!r} is not a key of datasets "
                        f"({', '.join(config['datasets'])})")
    for split, names in config["occlusion_sets"].items():
        for i, name in enumerate(names):
            if name not in config["occlusions"]:
                problems.append(f"config key occlusion_sets.{split}.{i}: no occlusion named {name!r}")
    for i, name in enumerate(config["segmenter"]["occlusions"]):
        for split in ("train", "val"):
            if name not in config["occlusion_sets"][split]:
                problems.append(f"config key segmenter.occlusions.{i}: {name!r} is not in occlusion_sets.{split}")
    for name in set(config["layouts"]) & set(config["occlusion_layouts"]):
        problems.append(f"config key occlusion_layouts.{name}: also a name in layouts (region files would clash)")
    for group in ("layouts", "occlusion_layouts"):
        for name, layout in config[group].items():
            problems += region_edge_problems(f"{group}.{name}", layout.get("regions", {}))
    all_layouts = {**config["layouts"], **config["occlusion_layouts"]}
    for name, spec in config["occlusions"].items():
        if spec["type"] == "random_block":
            problems += [f"config key occlusions.{name}.{key}: {spec[key]} is not a range (low above high)"
                         for key in ("height", "width", "grey") if spec[key][0] > spec[key][1]]
        if spec["type"] != "band":
            continue
        layout = all_layouts.get(spec["layout"])
        if layout is None:
            problems.append(f"config key occlusions.{name}.layout: no layout named {spec['layout']!r}")
        elif "regions" in layout:
            for region in spec["regions"]:
                if region not in layout["regions"]:
                    problems.append(f"config key occlusions.{name}.regions: {region!r} is not a region of "
                                    f"{spec['layout']}")
    problems += base_cnn_problems(config)
    problems += [f"config key detection.template.{i}: the point lies outside the {CROP_WIDTH}x{CROP_HEIGHT} crop "
                 f"(x {point[0]}, y {point[1]})"
                 for i, point in enumerate(config["detection"]["template"])
                 if not (0 <= point[0] < CROP_WIDTH and 0 <= point[1] < CROP_HEIGHT)]
    if config["saliency"]["layout"] not in config["layouts"]:
        problems.append(f"config key saliency.layout: no masking layout named {config['saliency']['layout']!r}")
    if config["bundle"]["default_layout"] not in (NO_FDM, *config["layouts"]):
        problems.append(f"config key bundle.default_layout: no masking layout named "
                        f"{config['bundle']['default_layout']!r} (nor none)")
    # Analyses that read rendered occlusion sets: each names sets of one split.
    for key, split in (("saliency", "test"), ("percentile_sweep", "val"), ("fdm_ablations", "test"),
                       ("fdm_controls", "test"), ("method_selection", "val")):
        for i, name in enumerate(config[key]["occlusions"]):
            if name not in config["occlusion_sets"][split]:
                problems.append(f"config key {key}.occlusions.{i}: {name!r} is not in occlusion_sets.{split}")
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))


# Occluders the base CNN can draw on its own training crops: no test geometry (bands fill the
# test layout's regions) and no folder of fixed files.
TRAINING_OCCLUDER_TYPES = ("face_mask", "sunglasses", "random_block")


def base_cnn_problems(config: dict) -> list[str]:
    """base_cnn.visible_rows must be a band of rows; base_cnn.occluders.occlusions must name
    occlusions the base CNN can render itself."""
    problems = []
    top, bottom = config["base_cnn"]["visible_rows"]
    if top >= bottom:
        problems.append(f"config key base_cnn.visible_rows: [{top}, {bottom}] shows no rows (top must be above bottom)")
    for i, name in enumerate(config["base_cnn"]["occluders"]["occlusions"]):
        spec = config["occlusions"].get(name)
        where = f"config key base_cnn.occluders.occlusions.{i}"
        if spec is None:
            problems.append(f"{where}: no occlusion named {name!r}")
        elif spec["type"] not in TRAINING_OCCLUDER_TYPES:
            problems.append(f"{where}: {name!r} is a {spec['type']} occlusion, which places the test geometry; "
                            f"training occluders are of type {', '.join(TRAINING_OCCLUDER_TYPES)} "
                            "(random_block for blocks and bands at random places)")
        elif spec.get("source") == "directory":
            problems.append(f"{where}: {name!r} reads a folder of fixed files; training occluders are drawn "
                            "afresh (source: procedural)")
    return problems


def region_edge_problems(where: str, regions: dict) -> list[str]:
    """Edges given by another region ({region: eyes, edge: bottom}) must name a region of the
    same layout, and no chain of such edges may come back to where it started."""
    problems, refers = [], {}
    for region, spec in regions.items():
        refers[region] = set()
        for side in ("top", "bottom", "left", "right"):
            other = (spec.get(side) or {}).get("region")
            if other is None:
                continue
            if other not in regions:
                problems.append(f"config key {where}.regions.{region}.{side}.region: {other!r} is not a region of "
                                f"this layout ({', '.join(regions)})")
            else:
                refers[region].add(other)

    state: dict[str, str] = {}  # depth-first search: "open" while on the path, "done" after

    def cycle_through(region: str) -> str | None:
        """A region on a cycle reachable from ``region``, if any."""
        state[region] = "open"
        for other in sorted(refers[region]):
            if state.get(other) == "open":
                return other
            if other not in state and (found := cycle_through(other)):
                return found
        state[region] = "done"
        return None

    on_cycles = {found for region in regions if region not in state and (found := cycle_through(region))}
    problems += [f"config key {where}.regions.{region}: its edges refer back to it through other regions (a cycle)"
                 for region in sorted(on_cycles)]
    return problems
