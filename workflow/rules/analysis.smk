# Records -> paper tables (results/tables) -> figures (results/figures); `snakemake --report` bundles them.


rule tables:
    input:
        records=all_records(),
        finals=all_finals(),
        thresholds=THRESHOLD_FILES,
        convergence=CONVERGENCE_TABLE,
    output:
        report(
            expand(f"{TABLES}/{{stem}}.csv", stem=TABLE_STEMS),
            caption="../report/tables.rst",
            category="Tables",
        ),
        expand(f"{TABLES}/{{stem}}.{{ext}}", stem=TABLE_STEMS, ext=["md", "tex"]),
    log:
        f"logs/{BACKEND}/tables.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        study=STUDY,
        records=record_paths,
        finals=final_paths,
        voltages=config["knockon"]["voltages_kv"],
        note=STUDY_NOTE,
        competition=config["phase_competition"],
        allow_unconverged=config["calculator"]["allow_unconverged"],
        convergence_sheet=CONVERGENCE_SHEET,
    script:
        "../scripts/tables.py"


rule figures:
    input:
        expand(f"{TABLES}/{{stem}}.csv", stem=TABLE_STEMS),
    output:
        report(
            expand(f"{FIGURES}/{{stem}}.png", stem=FIGURE_STEMS),
            caption="../report/figures.rst",
            category="Figures",
        ),
        expand(f"{FIGURES}/{{stem}}.pdf", stem=FIGURE_STEMS),
    log:
        f"logs/{BACKEND}/figures.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        measured_ratio=config["phase_competition"]["measured_anion_per_cation"],
    script:
        "../scripts/figures.py"


# each published number next to this run's value, with a verdict (works with any config)
rule validation:
    input:
        tables=expand(f"{TABLES}/{{stem}}.csv", stem=TABLE_STEMS),
        records=all_records(),
        finals=all_finals(),
        bulk_cifs=list(STUDY.bulk_files.values()),  # the experimental lattices and the 7-ML slabs
    output:
        report(
            f"{TABLES}/validation.csv",
            caption="../report/validation.rst",
            category="Validation",
        ),
        f"{TABLES}/validation.md",
        f"{TABLES}/validation.tex",
    log:
        f"logs/{BACKEND}/validation.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        study=STUDY,
        records=record_paths,
        finals=final_paths,
        note=STUDY_NOTE,
        allow_unconverged=config["calculator"]["allow_unconverged"],
    script:
        "../scripts/validation.py"


# every record and final structure in one ASE database: `ase db results/nanophase.db family=vacancy`
rule database:
    input:
        records=all_records(),
        finals=all_finals(),
    output:
        DATABASE,
    log:
        f"logs/{BACKEND}/database.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        study=STUDY,
        records=record_paths,
        finals=final_paths,
        allow_unconverged=config["calculator"]["allow_unconverged"],
    script:
        "../scripts/database.py"
