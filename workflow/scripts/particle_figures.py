"""Rule particle_figures: particle tables and patterns -> XRD and strain figures (PNG and PDF)."""

from pathlib import Path

import pandas as pd

from nanophase.logs import log_to
from nanophase.particle_figures import write_particle_figures
from nanophase.powder import XrdSettings

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    patterns = {Path(p).stem: pd.read_csv(p) for p in snakemake.input.patterns}
    what = XrdSettings.from_config(snakemake.params.xrd).describe()
    tables, outdir = Path(snakemake.input.tables[0]).parent, Path(snakemake.output[0]).parent
    for path in write_particle_figures(tables, patterns, outdir, what):
        log.info("wrote %s", path)
