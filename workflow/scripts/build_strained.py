"""Rules strained_shells / calc_inputs_strained: shell and substrate bulks -> each shell at the substrate's
in-plane lattice (relaxed bulks, with their records, for calculations)."""

from nanophase.calculators import lattice_source
from nanophase.logs import log_to
from nanophase.structio import write_structure

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    model = snakemake.params.model
    allow = snakemake.params.allow_unconverged
    substrate = lattice_source(
        snakemake.input.substrate, model.substrate, snakemake.input.get("substrate_record"), allow
    )
    shells = {
        shell: lattice_source(snakemake.input[shell], shell, snakemake.input.get(f"{shell}_record"), allow)
        for shell in model.strained
    }
    for name, atoms in model.build_strained(shells, substrate).items():
        write_structure(atoms, snakemake.params.paths[name])
        log.info(
            "%s: in-plane a = %.4f A, strain %+.2f %%",
            name,
            atoms.info["in_plane_a"],
            100 * atoms.info["strain"],
        )
