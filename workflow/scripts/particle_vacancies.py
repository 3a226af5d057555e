"""Rule particle_vacancies: a relaxed particle -> removal energies of its surface-site classes (JSON)."""

import json
from pathlib import Path

from nanophase.logs import log_to
from nanophase.particle_relax import ParticleRelaxSettings, ParticleVacancySettings, surface_vacancy_energies
from nanophase.structio import read_structure

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    relaxation = ParticleRelaxSettings.from_config(snakemake.params.relaxation)
    settings = ParticleVacancySettings.from_config(snakemake.params.vacancies)
    host = read_structure(snakemake.input[0])
    rows = surface_vacancy_energies(host, relaxation.model, settings, relaxation.fmax_ev_per_a)
    Path(snakemake.output[0]).write_text(json.dumps(rows, indent=2) + "\n")
    log.info("%d vacancies in %s", len(rows), host.info["name"])
