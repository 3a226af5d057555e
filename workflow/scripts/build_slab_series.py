"""Rules slab_series_<model> / calc_inputs_<model>: bulk -> the slab and its vacancy structures."""

from nanophase.calculators import lattice_source
from nanophase.logs import log_to
from nanophase.structio import write_structure
from nanophase.vacancies import placement_summary

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    model = snakemake.params.model
    bulk = lattice_source(
        snakemake.input.bulk,
        model.bulk,
        snakemake.input.get("record"),  # a relaxed bulk comes with its record
        snakemake.config["calculator"]["allow_unconverged"],
    )
    structures = model.build(bulk)
    for name, atoms in structures.items():
        write_structure(atoms, snakemake.params.paths[name])
    log.info(
        "%s: %d atoms, %d vacancy structures", model.name, len(structures[model.name]), len(model.vacancies)
    )
    for line in placement_summary(model.vacancies):
        log.info("  %s", line)
