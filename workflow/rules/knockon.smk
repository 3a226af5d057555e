# Knock-on: displacement thresholds by collision dynamics (MLIP + ZBL) on every pristine sheet, then what a
# beam does to the kicked sites. No DFT here: the kicks run beside the calculations, not after them.


rule displacement_thresholds:
    input:
        structure_path("slab", "{sheet}"),
    output:
        f"{KNOCKON}/{{sheet}}.json",
    log:
        "logs/knockon/{sheet}.log",
    benchmark:
        "logs/benchmarks/knockon/{sheet}.tsv"
    wildcard_constraints:
        sheet="|".join(map(re.escape, SHEETS)) or "^$",
    # early, beside the DFT jobs (one core, no DFT input): the GPAW check waits for it
    priority: 10
    conda:
        CONDA_ENV
    threads: 1
    params:
        dynamics=config["knockon"]["dynamics"],
        voltages=config["knockon"]["voltages_kv"],
        small_cell=DFT_CHECK,
    script:
        "../scripts/displacement_thresholds.py"


# what the GPAW check of a sheet runs with (the study's DFT settings, the kicks, the check), as a file: a
# change of any of them reruns the check, and the MPI job reads no settings from its command line
rule displacement_check_settings:
    output:
        f"{KNOCKON}/{{sheet}}-dft-check.settings.json",
    log:
        "logs/knockon/{sheet}-dft-check-settings.log",
    wildcard_constraints:
        sheet="|".join(map(re.escape, SHEETS)) or "^$",
    localrule: True
    conda:
        CONDA_ENV
    params:
        settings=CALC_SETTINGS.to_dict(),
        dynamics=config["knockon"]["dynamics"],
        check=config["knockon"]["dft_check"],
    script:
        "../scripts/write_check_settings.py"


# the lowest threshold of a sheet again with GPAW (the study's DFT settings), on the sheet's own cell
rule displacement_check:
    input:
        structure=final_path("{sheet}"),
        record=f"{KNOCKON}/{{sheet}}.json",
        settings=f"{KNOCKON}/{{sheet}}-dft-check.settings.json",
    output:
        f"{KNOCKON}/{{sheet}}-dft-check.json",
    log:
        "logs/knockon/{sheet}-dft-check.log",
    benchmark:
        "logs/benchmarks/knockon/{sheet}-dft-check.tsv"
    wildcard_constraints:
        sheet="|".join(map(re.escape, SHEETS)) or "^$",
    # as soon as the pristine sheet is relaxed, beside the vacancy calculations rather than after them
    priority: 10
    conda:
        CONDA_ENV
    threads: 2
    resources:
        tasks=2,  # MPI ranks, as for the calculations (the `mpi` resource of a cluster profile starts them)
        cpus_per_task=1,
    params:
        launcher=calc_launcher,
        workdir=lambda wildcards: f"{KNOCKON}/{wildcards.sheet}-dft-check.work",
    shell:
        "{params.launcher} -m nanophase kick-check --structure {input.structure} --record {input.record}"
        " --settings {input.settings} --workdir {params.workdir} --output {output} > {log} 2>&1"


rule beam_damage:
    input:
        thresholds=THRESHOLD_FILES,
        checks=CHECK_FILES,
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
