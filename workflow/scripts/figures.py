"""Rule figures: the tables -> the paper's figures (PNG and PDF)."""

from pathlib import Path

from nanophase.figures import write_figures
from nanophase.logs import log_to

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    tables, outdir = Path(snakemake.input[0]).parent, Path(snakemake.output[0]).parent
    for path in write_figures(tables, outdir, snakemake.params.measured_ratio):
        log.info("wrote %s", path)
