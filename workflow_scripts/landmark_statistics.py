import pandas as pd

from occlusion_fr.figures import landmark_distance_histograms
from occlusion_fr.io import save_figure, write_json
from occlusion_fr.landmarks import KNOWN_LANDMARKS
from occlusion_fr.logs import job_logging
from occlusion_fr.regions import landmark_statistics

with job_logging(snakemake.log[0]):
    table = pd.read_csv(snakemake.input.split)
    train = table[table["split"] == "train"]
    write_json(snakemake.output.statistics, landmark_statistics(train, KNOWN_LANDMARKS))
    title = f"{snakemake.wildcards.dataset}: landmark distance from mean ({len(train)} training crops)"
    save_figure(snakemake.output.histograms, landmark_distance_histograms(train, title))
