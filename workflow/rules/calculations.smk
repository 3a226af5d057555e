# Calculations: relax bulk -> cut slabs/stacks from the relaxed lattice -> relax them; free atoms.


rule isolated_atom:
    output:
        structure_path("atom", atom_name("{symbol}")),
    log:
        "logs/structures/atom/{symbol}.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        box_a=STUDY.atom_box_a,
    script:
        "../scripts/write_atom.py"


# The study's structures again, now cut from the bulk this backend relaxed (no mixed lattices);
# vacancies are made from the relaxed slab, so that surfaces relax once, before any atom is removed.
for model in STUDY.slabs:

    rule:
        name:
            f"calc_inputs_{model.key}"
        input:
            **relaxed_bulk(model.bulk),
        output:
            calc_structure_path("slab", model.name),
        log:
            f"logs/{BACKEND}/structures/{model.name}.log",
        localrule: True
        conda:
            CONDA_ENV
        params:
            model=model,
            paths={model.name: calc_structure_path("slab", model.name)},
            allow_unconverged=config["calculator"]["allow_unconverged"],
        script:
            "../scripts/build_slab_series.py"

    if model.vacancies:

        rule:
            name:
                f"vacancy_inputs_{model.key}"
            input:
                **relaxed_slab(model),
                **ranking_input(model),
            output:
                list(vacancy_calc_inputs(model).values()),
            log:
                f"logs/{BACKEND}/structures/{model.name}_vacancies.log",
            localrule: True
            conda:
                CONDA_ENV
            params:
                model=model,
                paths=vacancy_calc_inputs(model),
                allow_unconverged=config["calculator"]["allow_unconverged"],
            script:
                "../scripts/build_vacancies.py"

    # every placement of a count ranked with the potential: the DFT slots get the lowest
    if ranking_input(model):

        rule:
            name:
                f"rank_vacancies_{model.key}"
            input:
                **relaxed_slab(model),
                cut=calc_structure_path("slab", model.name),
            output:
                ranking_input(model)["ranking"],
            log:
                f"logs/{BACKEND}/structures/{model.name}_ranking.log",
            conda:
                CONDA_ENV
            params:
                model=model,
            script:
                "../scripts/rank_vacancies.py"


if STUDY.interfaces is not None:

    rule calc_inputs_interfaces:
        input:
            **relaxed_bulk(STUDY.interfaces.substrate),
        output:
            list(interface_calc_inputs().values()),
        log:
            f"logs/{BACKEND}/structures/interfaces.log",
        localrule: True
        conda:
            CONDA_ENV
        params:
            model=STUDY.interfaces,
            paths=interface_calc_inputs(),
            allow_unconverged=config["calculator"]["allow_unconverged"],
        script:
            "../scripts/build_interfaces.py"

    # the shells' strain reference: each shell bulk at the substrate's in-plane lattice
    rule calc_inputs_strained:
        input:
            **strained_sources(),
        output:
            list(strained_calc_inputs().values()),
        log:
            f"logs/{BACKEND}/structures/strained.log",
        localrule: True
        conda:
            CONDA_ENV
        params:
            model=STUDY.interfaces,
            paths=strained_calc_inputs(),
            allow_unconverged=config["calculator"]["allow_unconverged"],
        script:
            "../scripts/build_strained.py"


# What each calculation runs, as a file the job reads: a settings change rewrites (and so reruns) only
# the calculations that depend on it (a new fmax: the relaxations, not the single points).
rule calculation_file:
    output:
        calculation_path("{name}"),
    log:
        f"logs/{BACKEND}/calculation/{{name}}.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        calculation=calculation_spec,
    script:
        "../scripts/write_calculation.py"


# GPAW runs under an MPI launcher: the profile's `mpi` resource on a cluster, else local mpiexec.
rule calc:
    input:
        structure=calc_input,
        calculation=calculation_path("{name}"),
    output:
        record=record_path("{name}"),
        final=final_path("{name}"),
    log:
        f"logs/{BACKEND}/calc/{{name}}.log",
    conda:
        CONDA_ENV
    threads: calc_tasks  # MPI ranks; a local run caps them at --cores
    resources:
        tasks=calc_tasks,
        cpus_per_task=1,
        mem_mb=calc_mem_mb,
        runtime=calc_runtime,
    params:
        launcher=calc_launcher,
        workdir=calc_workdir,
    shell:
        "{params.launcher} -m nanophase calc --calculation {input.calculation} --structure {input.structure}"
        " --workdir {params.workdir} --record {output.record} --final {output.final} > {log} 2>&1"


rule calculations:
    input:
        all_records(),
    localrule: True


# VASP inputs for inspection on a laptop (no POTCARs: POTCAR.spec names the PAW datasets). They are
# cut from the experimental lattice; a cluster run cuts slabs from its own VASP-relaxed bulk.
rule vasp_inputs:
    input:
        vasp_input_structure,
    output:
        directory("results/vasp_inputs/{name}"),
    log:
        "logs/vasp_inputs/{name}.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        task=calc_task,
        settings=CALC_SETTINGS,
    script:
        "../scripts/write_vasp_inputs.py"


rule inputs:
    input:
        expand("results/vasp_inputs/{name}", name=STUDY.structure_names()),
    localrule: True
