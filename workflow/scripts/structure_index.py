"""Rule structure_index: every structure file -> results/structures/index.csv."""

from nanophase.logs import log_to
from nanophase.structio import structure_index

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    index = structure_index(list(snakemake.input))
    index.to_csv(snakemake.output[0], index=False)
    log.info("%d structures: %s", len(index), index["family"].value_counts().to_dict())
