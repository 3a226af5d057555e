"""Rule relax_particle: an as-built particle -> its MLIP-relaxed version and a JSON record."""

from pathlib import Path

from nanophase.logs import log_to
from nanophase.particle_relax import ParticleRelaxSettings, relax_particle, write_relax_record
from nanophase.structio import read_structure, write_structure

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    settings = ParticleRelaxSettings.from_config(snakemake.params.relaxation)
    workdir = Path(snakemake.output.record).parent / f"{snakemake.wildcards.particle}.work"
    relaxed, record = relax_particle(read_structure(snakemake.input[0]), settings, workdir)
    write_structure(relaxed, snakemake.output.structure)
    write_relax_record(record, snakemake.output.record)
    log.info("%s", record)
