"""Rule convergence_series: one series (a quantity against one parameter) -> JSON of its points."""

import json
from pathlib import Path

from nanophase.calculators.records import read_record
from nanophase.calculators.settings import CalcSettings
from nanophase.convergence import (
    ConvergenceSettings,
    margin_facets,
    run_series,
    series_context,
    series_context_values,
    series_values,
)
from nanophase.logs import log_to
from nanophase.safe_write import atomic_write_text
from nanophase.structio import read_structure

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    convergence = ConvergenceSettings.from_config(snakemake.params.convergence)
    quantity, parameter = snakemake.wildcards.series.split("-", 1)
    structures = {role: read_structure(path) for role, path in snakemake.input.items()
                  if not role.startswith("record-")}  # fmt: skip
    bulks = {role: atoms for role, atoms in structures.items() if not role.startswith("frozen-")}
    dft = CalcSettings(**snakemake.params.settings)
    phase_slabs = dict(snakemake.params.phase_slabs)
    context = series_context(
        convergence,
        snakemake.params.slab,
        snakemake.params.interfaces,
        dft,
        snakemake.params.backend,
        bulks,
        phase_slabs,
    )
    # the DFT tier's geometries: the study's relaxed structures (the potential's only where absent)
    context.frozen = {role.removeprefix("frozen-"): atoms for role, atoms in structures.items()
                      if role.startswith("frozen-")}  # fmt: skip
    records = {role.removeprefix("record-"): read_record(path) for role, path in snakemake.input.items()
               if role.startswith("record-")}  # fmt: skip
    if records:  # the margin: only the sheets of the table's hull segments
        context.frozen = margin_facets(context.frozen, records, context.species)
        log.info("margin sheets: %s", ", ".join(sorted(r for r in context.frozen if ":" in r)))
    work = Path(snakemake.output[0]).with_suffix(".work")
    study_values = series_context_values(snakemake.params.slab, snakemake.params.interfaces, dft, phase_slabs)
    study_value = study_values[quantity][parameter]
    values = series_values(convergence.values[parameter], study_value)
    series = run_series(context, quantity, parameter, values, work)
    log.info("%s: geometry %s", snakemake.wildcards.series, series["geometry"])
    for point in series["points"]:
        log.info(
            "%s = %s: %s (%d atoms, %.0f s)",
            parameter,
            point["value"],
            ", ".join(f"{q:.4f}" for q in point["quantities"]),
            point["atoms"],
            point["seconds"],
        )
    atomic_write_text(snakemake.output[0], json.dumps(series, indent=1))
