"""Rule interface_stacks: substrate bulk -> every PbS/rs-CdS/zb-CdS stack of the study."""

from nanophase.logs import log_to
from nanophase.structio import read_structure, write_structure

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    for name, atoms in snakemake.params.model.build(read_structure(snakemake.input.substrate)).items():
        write_structure(atoms, snakemake.params.paths[name])
        log.info("%s: %s, %d layers", name, atoms.get_chemical_formula(mode="metal"), atoms.info["n_layers"])
