"""Rule vasp_inputs: one structure -> the VASP input folder a cluster run would use (POTCAR.spec only)."""

from nanophase.calculators.vasp_calc import write_inputs
from nanophase.logs import log_to
from nanophase.structio import read_structure

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    atoms = read_structure(snakemake.input[0])
    symbols = write_inputs(atoms, snakemake.params.settings, snakemake.params.task, snakemake.output[0])
    log.info("%s: %s inputs, PAW datasets %s", atoms.info.get("name"), snakemake.params.task, symbols)
