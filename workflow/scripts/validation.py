"""Rule validation: the tables and records -> results/tables/validation.* (published vs. this run)."""

from pathlib import Path

from nanophase.logs import log_to
from nanophase.paper import load_calculated, write_validation

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    calculated = load_calculated(
        snakemake.params.records, snakemake.params.finals, snakemake.params.allow_unconverged
    )
    for path in write_validation(
        snakemake.params.study,
        calculated,
        Path(snakemake.input.tables[0]).parent,
        Path(snakemake.output[0]).parent,
        snakemake.params.note,
    ):
        log.info("wrote %s", path)
