"""Rule displacement_check_settings: the study's DFT settings, kicks and check (params) -> one JSON file."""

import json

from nanophase.logs import log_to
from nanophase.safe_write import atomic_write_text

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    content = {key: snakemake.params[key] for key in ("settings", "dynamics", "check")}
    atomic_write_text(snakemake.output[0], json.dumps(content, indent=1, sort_keys=True))
    log.info("%s: %s", snakemake.wildcards.sheet, json.dumps(content["check"], sort_keys=True))
