# Knock-on: displacement thresholds by collision dynamics (MLIP + ZBL) on every pristine sheet, then what a
# beam does to the kicked sites. No DFT here: the kicks run beside the calculations, not after them.


rule displacement_thresholds:
    input:
        structure_path("slab", "{sheet}"),
    output:
        f"{KNOCKON}/{{sheet}}.json",
    log:
        "logs/knockon/{sheet}.log",
    wildcard_constraints:
        sheet="|".join(map(re.escape, SHEETS)) or "^$",
    threads: 1
    conda:
        CONDA_ENV
    params:
        dynamics=config["knockon"]["dynamics"],
        voltages=config["knockon"]["voltages_kv"],
    script:
        "../scripts/displacement_thresholds.py"


rule beam_damage:
    input:
        THRESHOLD_FILES,
    output:
        tables=expand(
            f"{TABLES}/{{stem}}.{{ext}}",
            stem=["displacement_thresholds", "beam_damage"],
            ext=["csv", "md", "tex"],
        ),
        figures=expand(f"{FIGURES}/beam_damage.{{ext}}", ext=["png", "pdf"]),
    log:
        "logs/beam_damage.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        knockon=config["knockon"],
    script:
        "../scripts/beam_damage.py"
