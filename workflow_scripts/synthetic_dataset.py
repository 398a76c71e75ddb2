from occlusion_fr.datasets.synthetic import generate_dataset, write_pairs
from occlusion_fr.logs import job_logging

with job_logging(snakemake.log[0]) as log:
    p = snakemake.params
    index = generate_dataset(snakemake.output.images, snakemake.output.index, p.identities, p.images_per_identity,
                             p.seed)
    log.info("generated %d images of %d identities", len(index), index["identity"].nunique())
    write_pairs(snakemake.output.pairs, p.identities + p.pairs["unseen_identities"], p.images_per_identity,
                p.pairs["pair_folds"], p.pairs["pairs_per_fold"], p.seed)
