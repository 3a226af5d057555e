# Nanocrystals: particles (built or measured) -> Debye-scattering XRD patterns -> particle tables/figures.
# No DFT here: a particle's jobs never wait for, or rerun, a calculation.
from nanophase.outputs import PARTICLE_FIGURE_STEMS

XRD_PATTERNS = "results/xrd"
PARTICLE_TABLE_STEMS = (
    "particles",
    "xrd_peaks",
    "xrd_series",
    "xrd_bulk_reference",
    "particle_strain",
    "particle_vacancies",
)


rule build_particle:
    input:
        unpack(particle_inputs),
    output:
        structure_path("particle", "{particle}"),
    log:
        "logs/structures/particle/{particle}.log",
    wildcard_constraints:
        particle="|".join(map(re.escape, PARTICLE_SPECS)) or "^$",
    localrule: True
    conda:
        CONDA_ENV
    params:
        spec=particle_spec,
    script:
        "../scripts/build_particle.py"


rule relax_particle:
    input:
        structure_path("particle", "{particle}"),
    output:
        structure=structure_path(
            "particle", f"{{particle}}-{PARTICLE_RELAXATION.model}"
        ),
        record=f"results/mlip/particles/{{particle}}-{PARTICLE_RELAXATION.model}.json",
    log:
        "logs/structures/particle/{particle}-relax.log",
    wildcard_constraints:
        particle="|".join(map(re.escape, RELAXED_PARTICLES)) or "^$",
    conda:
        CONDA_ENV
    threads: workflow.cores
    params:
        relaxation=config["particle_relaxation"],
    script:
        "../scripts/relax_particle.py"


rule particle_vacancies:
    input:
        structure_path("particle", "{particle}"),
    output:
        "results/mlip/particles/{particle}-vacancies.json",
    log:
        "logs/structures/particle/{particle}-vacancies.log",
    wildcard_constraints:
        particle="|".join(map(re.escape, RELAXED_PARTICLES.values())) or "^$",
    conda:
        CONDA_ENV
    threads: workflow.cores
    params:
        relaxation=config["particle_relaxation"],
        vacancies=config["particle_vacancies"],
    script:
        "../scripts/particle_vacancies.py"


rule xrd_pattern:
    input:
        structure_path("particle", "{particle}"),
    output:
        pattern=f"{XRD_PATTERNS}/{{particle}}.csv",
        pdf="results/pdf/{particle}.csv",
    log:
        "logs/xrd/{particle}.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        xrd=config["xrd"],
    script:
        "../scripts/xrd_pattern.py"


rule particle_tables:
    input:
        particles=[structure_path("particle", name) for name in PATTERN_PARTICLES],
        patterns=[f"{XRD_PATTERNS}/{name}.csv" for name in PATTERN_PARTICLES],
        relax_records=[
            f"results/mlip/particles/{name}.json"
            for name in RELAXED_PARTICLES.values()
        ],
        vacancies=PARTICLE_VACANCY_FILES,
        bulks=[structure_path("bulk", key) for key in STUDY.bulk_files],
    output:
        expand(
            f"{TABLES}/{{stem}}.{{ext}}",
            stem=PARTICLE_TABLE_STEMS,
            ext=["csv", "md", "tex"],
        ),
    log:
        "logs/particle_tables.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        xrd=config["xrd"],
    script:
        "../scripts/particle_tables.py"


rule particle_figures:
    input:
        tables=expand(f"{TABLES}/{{stem}}.csv", stem=PARTICLE_TABLE_STEMS),
        patterns=[f"{XRD_PATTERNS}/{name}.csv" for name in PATTERN_PARTICLES],
    output:
        expand(
            f"{FIGURES}/{{stem}}.{{ext}}",
            stem=PARTICLE_FIGURE_STEMS,
            ext=["png", "pdf"],
        ),
    log:
        "logs/particle_figures.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        xrd=config["xrd"],
    script:
        "../scripts/particle_figures.py"
