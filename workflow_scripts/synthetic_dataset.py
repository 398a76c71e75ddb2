from occlusion_fr.datasets.synthetic import generate_dataset
from occlusion_fr.logs import job_logging

with job_logging(snakemake.log[0]) as log:
    index = generate_dataset(snakemake.output.images, snakemake.output.index, snakemake.params.identities,
                             snakemake.params.images_per_identity, snakemake.params.seed)
    log.info("generated %d images of %d identities", len(index), index["identity"].nunique())
