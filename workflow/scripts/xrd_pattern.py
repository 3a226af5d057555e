"""Rule xrd_pattern: one particle -> its Debye-scattering powder pattern (CSV)."""

from nanophase.logs import log_to
from nanophase.powder import XrdSettings, particle_pattern, particle_pdf
from nanophase.structio import read_structure
from nanophase.xrd import pair_histogram

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    settings = XrdSettings.from_config(snakemake.params.xrd)
    atoms = read_structure(snakemake.input[0])
    histogram = pair_histogram(atoms, settings.bin_width_a)  # one histogram for I(Q) and G(r)
    pattern = particle_pattern(atoms, settings, histogram)
    pattern.to_csv(snakemake.output.pattern, index=False)
    particle_pdf(atoms, settings, histogram).to_csv(snakemake.output.pdf, index=False)
    log.info("%d points; %s", len(pattern), settings.describe())
