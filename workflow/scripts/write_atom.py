"""Rule isolated_atom: one atom in a box, the free-atom reference."""

from nanophase.bulk import isolated_atom
from nanophase.logs import log_to
from nanophase.structio import write_structure

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    atom = isolated_atom(snakemake.wildcards.symbol, snakemake.params.box_a)
    write_structure(atom, snakemake.output[0])
    log.info("%s in a %s A box", atom.info["name"], atom.cell.lengths().round(2).tolist())
