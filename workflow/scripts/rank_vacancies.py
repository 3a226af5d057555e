"""Rule rank_vacancies_<model>: every placement of a count, ranked with the potential -> the DFT slots."""

from nanophase.calculators.mlip_calc import mlip_calculator
from nanophase.logs import log_to
from nanophase.ranking import rank_placements, write_ranking
from nanophase.structio import read_structure

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    settings = snakemake.params.model.vacancy_settings
    slots = rank_placements(
        read_structure(snakemake.input.cut),
        read_structure(snakemake.input.slab),
        settings,
        mlip_calculator(settings.rank_with),
    )
    write_ranking(slots, settings.rank_with, snakemake.output[0])
    log.info("%d slots filled by the %s ranking", len(slots), settings.rank_with)
