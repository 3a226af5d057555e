"""Rule convergence: every series -> tables convergence and surface_energy_fit, figure convergence."""

import json
from pathlib import Path

import pandas as pd

from nanophase.calculators.settings import CalcSettings
from nanophase.convergence import (
    SURFACE_FIT_CAPTION,
    ConvergenceSettings,
    convergence_caption,
    series_context_values,
    series_rows,
    surface_energy_fit,
)
from nanophase.figures import convergence_figure
from nanophase.logs import log_to
from nanophase.tables import write_table

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    convergence = ConvergenceSettings.from_config(snakemake.params.convergence)
    dft = CalcSettings(**snakemake.params.settings)
    study_values = series_context_values(
        snakemake.params.slab, snakemake.params.interfaces, dft, dict(snakemake.params.phase_slabs)
    )
    rows, fit_rows = [], []
    for path in snakemake.input:
        series = json.loads(Path(path).read_text())
        quantity, parameter = series["quantity"], series["parameter"]
        rows += series_rows(series, convergence.tolerance(quantity), study_values[quantity][parameter])
        if quantity == "vacancy" and parameter == "monolayers":
            fit_rows = surface_energy_fit(series)
    table = pd.DataFrame(rows)
    tables = Path(snakemake.output.tables[0]).parent
    write_table(
        table, tables / "convergence", convergence_caption(snakemake.params.note, dft, convergence.model)
    )
    write_table(pd.DataFrame(fit_rows), tables / "surface_energy_fit", SURFACE_FIT_CAPTION)
    for path in convergence_figure(table, Path(snakemake.output.figures[0]).with_suffix("")):
        log.info("wrote %s", path)
