"""Rule bulk_reference: a curated bulk file -> conventional standard cell as extended XYZ."""

from nanophase.bulk import read_bulk
from nanophase.logs import log_to
from nanophase.structio import write_structure

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    bulk = read_bulk(snakemake.input[0])
    bulk.info.update(name=snakemake.wildcards.bulk, family="bulk")
    write_structure(bulk, snakemake.output[0])
    log.info(
        "%s: %s, %s, space group %d, a = %.4f A",
        bulk.info["name"],
        bulk.get_chemical_formula(),
        bulk.info["prototype"],
        bulk.info["spacegroup"],
        bulk.cell.cellpar()[0],
    )
