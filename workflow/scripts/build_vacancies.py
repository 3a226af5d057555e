"""Rule vacancy_inputs_<model>: the relaxed slab -> its vacancy structures (surfaces already relaxed)."""

from nanophase.calculators import read_record
from nanophase.logs import log_to
from nanophase.ranking import read_ranking
from nanophase.structio import read_structure, write_structure
from nanophase.vacancies import placement_summary

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    model = snakemake.params.model
    read_record(snakemake.input.record, require_converged=not snakemake.params.allow_unconverged)
    slab = read_structure(snakemake.input.slab)
    ranking = read_ranking(snakemake.input.ranking) if hasattr(snakemake.input, "ranking") else None
    for name, atoms in model.build_vacancies(slab, ranking).items():
        write_structure(atoms, snakemake.params.paths[name])
    log.info("%s (relaxed): %d vacancy structures", model.name, len(model.vacancies))
    for line in placement_summary(model.vacancies):
        log.info("  %s", line)
    log.info("placements %s", f"ranked with {ranking['model']}" if ranking else "unranked (first orbits)")
