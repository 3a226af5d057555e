"""Rule displacement_thresholds: a pristine sheet -> T_d of its kicked sites by collision dynamics (JSON)."""

import json
from pathlib import Path

import torch

from nanophase.beam import highest_kick_ev
from nanophase.displacement import KickSettings, sheet_thresholds
from nanophase.logs import log_to
from nanophase.safe_write import atomic_write_text
from nanophase.structio import read_structure

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    settings = KickSettings.from_config(snakemake.params.dynamics)
    sheet = snakemake.wildcards.sheet
    # the runs of these settings only: a changed setting starts a fresh folder
    workdir = Path(snakemake.output[0]).with_suffix(".work") / settings.fingerprint()
    record = sheet_thresholds(read_structure(snakemake.input[0]), sheet, settings,
                              highest_kick_ev(settings.species, snakemake.params.voltages), workdir,
                              small_cell=snakemake.params.small_cell)  # fmt: skip
    atomic_write_text(snakemake.output[0], json.dumps(record, indent=1))
    for site in record["sites"]:
        log.info(
            "%s: T_d %s eV (%s) in %d runs, %.0f s; static E_f %.2f eV",
            site["site"]["label"],
            site["threshold_ev"],
            site["outcome"],
            site["runs"],
            site["seconds"],
            site["static_formation_ev"],
        )
