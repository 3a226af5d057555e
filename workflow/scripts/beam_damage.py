"""Rule beam_damage: the sheets' displacement thresholds -> tables displacement_thresholds and beam_damage,
figure beam_damage."""

from pathlib import Path

from nanophase.beam import BeamSettings, beam_damage, damage_caption, read_thresholds, thresholds_caption
from nanophase.figures import beam_damage_figure
from nanophase.logs import log_to
from nanophase.tables import write_table

snakemake = snakemake  # noqa: F821, PLW0127 - injected by Snakemake

with log_to(snakemake.log[0]) as log:
    settings = BeamSettings.from_config(snakemake.params.knockon)
    thresholds = read_thresholds(snakemake.input.thresholds, snakemake.input.checks)
    damage = beam_damage(thresholds, tuple(snakemake.params.knockon["voltages_kv"]), settings)
    tables = Path(snakemake.output.tables[0]).parent
    write_table(thresholds, tables / "displacement_thresholds", thresholds_caption(thresholds))
    write_table(damage, tables / "beam_damage", damage_caption(settings))
    for path in beam_damage_figure(thresholds, settings, Path(snakemake.output.figures[0]).with_suffix("")):
        log.info("wrote %s", path)
