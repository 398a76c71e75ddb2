import pandas as pd

from occlusion_fr.evaluation.claims import claim_tests, claim_tests_markdown, claim_verdicts
from occlusion_fr.io import write_csv, write_text
from occlusion_fr.logs import job_logging

with job_logging(snakemake.log[0]) as log:
    tests = claim_tests(pd.concat([pd.read_csv(path, keep_default_na=False) for path in snakemake.input.probes],
                                  ignore_index=True), snakemake.params.alpha)
    for verdict in claim_verdicts(tests).itertuples(index=False):
        log.info("claim %d: complete %s, holds %s, significant %s (largest p %.3g)", verdict.claim, verdict.complete,
                 verdict.holds, verdict.significant, verdict.max_p_value)
    write_csv(snakemake.output.table, tests)
    write_text(snakemake.output.report, claim_tests_markdown(tests, snakemake.wildcards.dataset))
