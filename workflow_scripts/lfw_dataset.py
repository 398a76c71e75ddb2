from occlusion_fr.datasets.lfw import prepare_lfw
from occlusion_fr.logs import job_logging

with job_logging(snakemake.log[0]):
    p = snakemake.params
    prepare_lfw(p.archive, p.url, p.sha256, p.download_to, snakemake.output.images, snakemake.output.index,
                p.min_images)
