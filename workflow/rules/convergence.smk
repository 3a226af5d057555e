# Convergence series (target `convergence`; in the main job with convergence.error_bars): one reported
# quantity recomputed while one parameter changes; structure sizes on the machine-learned potential,
# vacuum, cutoff and k-points on the study's DFT code at a fixed geometry (the study's relaxed structures).
# Physics in nanophase.convergence.


rule convergence_series:
    input:
        unpack(convergence_inputs),
    output:
        f"{CONVERGENCE_DIR}/{{series}}.json",
    log:
        "logs/convergence/{series}.log",
    benchmark:
        "logs/benchmarks/convergence/{series}.tsv"
    wildcard_constraints:
        series="|".join(map(re.escape, CONVERGENCE_SERIES)) or "^$",
    # a frozen-geometry series waits for the study's relaxations of its structures; once they exist it
    # goes before the calculations still queued, beside them, instead of forming a tail after the last
    priority: 5
    conda:
        CONDA_ENV
    threads: 1
    params:
        convergence=config["convergence"],
        slab=config.get("slabs", {}).get(CONVERGENCE.sheet, {}),
        interfaces=config.get("interfaces"),
        phase_slabs=CONVERGENCE_PHASE_SLABS,
        settings=CALC_SETTINGS.to_dict(),
        backend=BACKEND,
    script:
        "../scripts/convergence_series.py"


rule convergence:
    input:
        expand(f"{CONVERGENCE_DIR}/{{series}}.json", series=CONVERGENCE_SERIES),
    output:
        tables=expand(
            f"{CONVERGENCE_DIR}/tables/{{stem}}.{{ext}}",
            stem=["convergence", "surface_energy_fit"],
            ext=["csv", "md", "tex"],
        ),
        figures=expand(
            f"{CONVERGENCE_DIR}/figures/convergence.{{ext}}", ext=["png", "pdf"]
        ),
    log:
        "logs/convergence/tables.log",
    conda:
        CONDA_ENV
    params:
        convergence=config["convergence"],
        slab=config.get("slabs", {}).get(CONVERGENCE.sheet, {}),
        interfaces=config.get("interfaces"),
        phase_slabs=CONVERGENCE_PHASE_SLABS,
        settings=CALC_SETTINGS.to_dict(),
        note=STUDY_NOTE,
    script:
        "../scripts/convergence_tables.py"
