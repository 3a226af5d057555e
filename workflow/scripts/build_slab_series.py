"""Rule slab_series_<model>: bulk -> the pristine slab and every vacancy structure of one model."""

from nanophase.logs import log_to
from nanophase.structio import read_structure, write_structure
from nanophase.vacancies import placement_summary

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    model = snakemake.params.model
    structures = model.build(read_structure(snakemake.input.bulk))
    for name, atoms in structures.items():
        write_structure(atoms, snakemake.params.paths[name])
    log.info(
        "%s: %d atoms, %d vacancy structures", model.name, len(structures[model.name]), len(model.vacancies)
    )
    for line in placement_summary(model.vacancies):
        log.info("  %s", line)
