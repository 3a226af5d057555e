# nanophase: DFT phase stability of CdSe nanosheets and PbS/CdS cation-exchange interfaces.
# Configuration, validation, rule includes and the default target; the wiring lives in workflow/rules.
from pathlib import Path

from snakemake.utils import min_version, validate

from nanophase.config import validate_config

min_version("9.0")


configfile: "config/config.yaml"


# A readable message naming the bad key first, then Snakemake's own check (defaults are already in).
validate_config(config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml")
validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/structures.smk"
include: "workflow/rules/calculations.smk"
include: "workflow/rules/analysis.smk"


rule all:
    default_target: True
    input:
        STRUCTURE_INDEX,
        rules.tables.output,
        rules.figures.output,
        rules.validation.output,
