"""Rule database: every record and final structure -> results/nanophase.db (ASE database, SQLite)."""

from nanophase.database import write_database
from nanophase.logs import log_to
from nanophase.paper import load_calculated

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    calculated = load_calculated(
        snakemake.params.records, snakemake.params.finals, snakemake.params.allow_unconverged
    )
    rows = write_database(snakemake.params.study, calculated, snakemake.output[0])
    log.info("%d calculations -> %s", rows, snakemake.output[0])
