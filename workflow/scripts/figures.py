"""Rule figures: the tables -> the paper's figures (PNG and PDF)."""

from nanophase.figures import write_figures
from nanophase.logs import log_to

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    for path in write_figures(snakemake.params.tables, snakemake.params.outdir):
        log.info("wrote %s", path)
