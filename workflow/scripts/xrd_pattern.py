"""Rule xrd_pattern: one particle -> its Debye-scattering powder pattern (CSV)."""

from nanophase.logs import log_to
from nanophase.powder import XrdSettings, particle_pattern
from nanophase.structio import read_structure

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    settings = XrdSettings.from_config(snakemake.params.xrd)
    pattern = particle_pattern(read_structure(snakemake.input[0]), settings)
    pattern.to_csv(snakemake.output[0], index=False)
    log.info("%d points; %s", len(pattern), settings.describe())
