"""Rules interface_stacks / calc_inputs_interfaces: substrate bulk -> every PbS/rs-CdS/zb-CdS stack."""

from nanophase.calculators import lattice_source
from nanophase.logs import log_to
from nanophase.structio import write_structure

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    model = snakemake.params.model
    bulk = lattice_source(
        snakemake.input.bulk,
        model.substrate,
        snakemake.input.get("record"),  # a relaxed bulk comes with its record
        snakemake.params.allow_unconverged,
    )
    for name, atoms in model.build(bulk).items():
        write_structure(atoms, snakemake.params.paths[name])
        log.info("%s: %s, %d layers", name, atoms.get_chemical_formula(mode="metal"), atoms.info["n_layers"])
