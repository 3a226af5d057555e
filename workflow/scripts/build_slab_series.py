"""Rules slab_series_<model> / calc_inputs_<model>: bulk -> the slab (and its vacancy structures).

`params.paths` names what to write: the structures target writes every structure cut from the given
lattice; a calculation writes only the slab (its vacancies are made from the relaxed slab)."""

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
        snakemake.params.allow_unconverged,
    )
    structures = model.build(bulk)
    for name, path in snakemake.params.paths.items():
        write_structure(structures[name], path)
    log.info(
        "%s: %d atoms, %d vacancy structures", model.name, len(structures[model.name]), len(model.vacancies)
    )
    for line in placement_summary(model.vacancies):
        log.info("  %s", line)
