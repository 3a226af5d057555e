"""Rule build_particle: bulk references (+ a measured file) -> one particle as extended XYZ."""

from nanophase.logs import log_to
from nanophase.measured import read_measured
from nanophase.particles import build_particle, summary_of
from nanophase.structio import read_structure, write_structure

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    spec = snakemake.params.spec
    bulks = {key.removeprefix("bulk_"): read_structure(path) for key, path in snakemake.input.items()
             if key.startswith("bulk_")}  # fmt: skip
    if spec.kind == "measured":
        atoms = read_measured(spec, bulks[spec.bulk])
    else:
        atoms = build_particle(spec, bulks)
    write_structure(atoms, snakemake.output[0])
    log.info("%s", summary_of(atoms).row())
