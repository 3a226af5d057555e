# nanophase: DFT phase stability of CdSe nanosheets and PbS/CdS cation-exchange interfaces.
# Configuration, validation, rule includes and the default target; the wiring lives in workflow/rules.
from pathlib import Path

from snakemake.utils import min_version, validate

from nanophase.config import compose_config, validate_config

min_version("9.0")

# The study the user asked for: with no --configfile the default study; a study file given is the whole
# study (or names its `base`), overlays (`overlay: true`, config/screening.yaml) add to it, --config last.
DEFAULT_STUDY = Path(workflow.basedir) / "config" / "config.yaml"
_settings = workflow.config_settings
_study = compose_config(DEFAULT_STUDY, _settings.configfiles, _settings.config)
config.clear()
config.update(_study)
# A readable message naming the bad key first, then Snakemake's own check (defaults are already in).
validate_config(config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml")
validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/structures.smk"
include: "workflow/rules/calculations.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/particles.smk"
include: "workflow/rules/knockon.smk"
include: "workflow/rules/convergence.smk"


rule all:
    default_target: True
    input:
        EFFECTIVE_CONFIG,
        STRUCTURE_INDEX,
        rules.tables.output,
        rules.figures.output,
        rules.particle_tables.output,
        rules.particle_figures.output,
        rules.validation.output,
        DATABASE,
        rules.beam_damage.output if KICKS_ENABLED else [],
