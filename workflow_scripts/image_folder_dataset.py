from occlusion_fr.datasets.image_folder import prepare_image_folder
from occlusion_fr.logs import job_logging

with job_logging(snakemake.log[0]):
    s, out = snakemake.params.settings, snakemake.output
    prepare_image_folder(s["root"], s["manifest"], out.images, out.index, out.skipped, s["min_images"])
