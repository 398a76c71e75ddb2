import pandas as pd
import torch

from occlusion_fr.api import Recognizer
from occlusion_fr.datasets.pairs import read_pairs
from occlusion_fr.evaluation.tool_benchmark import (ToolBenchmarkSettings, held_out_pairs, identify_benchmark,
                                                    outsider_benchmark, photo_benchmark, tool_benchmark_markdown,
                                                    verify_benchmark)
from occlusion_fr.io import read_json, write_csv, write_text
from occlusion_fr.logs import job_logging
from occlusion_fr.occlusions.sets import CLEAN, load_image_set

with job_logging(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    inputs, out, p = snakemake.input, snakemake.output, snakemake.params
    settings = ToolBenchmarkSettings(**p.settings)
    recognizer = Recognizer.from_bundle(inputs.bundle)
    faces = pd.read_csv(inputs.pair_faces)
    pairs = held_out_pairs(recognizer, read_pairs(inputs.pairs), faces)
    region_layouts = {layout["layout"]: layout for layout in map(read_json, inputs.regions)}
    verify = verify_benchmark(recognizer, pairs, faces, inputs.pair_crops, region_layouts, settings)
    split = pd.read_csv(inputs.split)
    probe_sets = {}
    for name in [CLEAN, *settings.occlusions]:
        image_set = load_image_set(split, "test", name, p.sets_dir, inputs.crops)
        probe_sets[name] = (list(image_set.pixels.permute(0, 2, 3, 1).numpy()), image_set.identities)
    identify = identify_benchmark(recognizer, probe_sets, pd.read_csv(inputs.table1))
    outsiders = outsider_benchmark(recognizer, pd.read_csv(inputs.outsiders), inputs.outsider_crops, settings)
    photos = photo_benchmark(recognizer, pairs, faces, inputs.pair_photos, inputs.pair_crops, settings)
    for name, table in [("verify", verify), ("identify", identify), ("outsiders", outsiders), ("photos", photos)]:
        write_csv(out[name], table)
    write_text(out.report, tool_benchmark_markdown(verify, identify, outsiders, photos, inputs.bundle,
                                                   recognizer.bundle.open_set_folds))
