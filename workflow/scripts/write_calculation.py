"""Rule calculation_file: the calculation of one structure (params) -> its calculation.json."""

from nanophase.calculators.job import Calculation
from nanophase.logs import log_to

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    calculation = Calculation(**snakemake.params.calculation)
    calculation.write(snakemake.output[0])
    log.info("%s: %s on %s", calculation.name, calculation.task, calculation.backend)
