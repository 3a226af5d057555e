"""Rules interface_stacks / calc_inputs_interfaces: substrate bulk -> every PbS/rs-CdS/zb-CdS stack."""

from nanophase.bulk import read_bulk
from nanophase.calculators import read_record
from nanophase.logs import log_to
from nanophase.structio import write_structure

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    model = snakemake.params.model
    if "record" in snakemake.input.keys():  # a relaxed bulk: only a converged relaxation is a lattice
        read_record(
            snakemake.input.record, require_converged=not snakemake.config["calculator"]["allow_unconverged"]
        )
    for name, atoms in model.build(read_bulk(snakemake.input.bulk, name=model.substrate)).items():
        write_structure(atoms, snakemake.params.paths[name])
        log.info("%s: %s, %d layers", name, atoms.get_chemical_formula(mode="metal"), atoms.info["n_layers"])
