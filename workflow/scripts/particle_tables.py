"""Rule particle_tables: particles and their patterns -> particles, xrd_peaks, xrd_series tables."""

import json
from pathlib import Path

import pandas as pd

from nanophase.logs import log_to
from nanophase.powder import XrdSettings, particle_tables
from nanophase.structio import read_structure
from nanophase.tables import write_table

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    particles = {Path(p).stem: read_structure(p) for p in snakemake.input.particles}
    patterns = {Path(p).stem: pd.read_csv(p) for p in snakemake.input.patterns}
    bulks = {Path(p).stem: read_structure(p) for p in snakemake.input.bulks}
    records = {Path(p).stem: json.loads(Path(p).read_text()) for p in snakemake.input.relax_records}
    vacancies = [row for p in snakemake.input.vacancies for row in json.loads(Path(p).read_text())]
    tables = particle_tables(
        particles, patterns, XrdSettings.from_config(snakemake.params.xrd), bulks, records, vacancies
    )
    outdir = Path(snakemake.output[0]).parent
    for stem, (frame, caption) in tables.items():
        for path in write_table(frame, outdir / stem, caption, float_format="{:.4g}"):
            log.info("wrote %s", path)
