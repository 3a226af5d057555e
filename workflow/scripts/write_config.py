"""Rule effective_config: the composed, validated study config -> results/config.yaml."""

from nanophase.config import write_config
from nanophase.logs import log_to

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    write_config(dict(snakemake.params.config), snakemake.output[0])
    log.info("effective config of study %s -> %s", snakemake.params.config["study"], snakemake.output[0])
