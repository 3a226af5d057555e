"""Rule tables: every calculation record -> the paper's tables (CSV, Markdown, LaTeX)."""

from pathlib import Path

from nanophase.beam import read_thresholds
from nanophase.logs import log_to
from nanophase.paper import load_calculated, write_paper_tables
from nanophase.tables import read_table

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    outdir = Path(snakemake.output[0]).parent
    calculated = load_calculated(
        snakemake.params.records, snakemake.params.finals, snakemake.params.allow_unconverged
    )
    paths = write_paper_tables(
        snakemake.params.study,
        calculated,
        outdir,
        tuple(snakemake.params.voltages),
        snakemake.params.note,
        snakemake.params.competition,
        read_thresholds(snakemake.input.thresholds) if snakemake.input.thresholds else None,
        read_table(snakemake.input.convergence[0]) if snakemake.input.convergence else None,
        snakemake.params.convergence_sheet,
    )
    log.info("%d records -> %d table files in %s", len(calculated.records), len(paths), outdir)
