# Structures: bulk references -> slabs and their vacancy series, interface stacks -> index.csv


# the study as it runs (default, --configfile study, overlays and --config composed, defaults filled in)
rule effective_config:
    output:
        EFFECTIVE_CONFIG,
    log:
        "logs/effective_config.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        config=config,
    script:
        "../scripts/write_config.py"


rule bulk_reference:
    input:
        bulk_source,
    output:
        structure_path("bulk", "{bulk}"),
    log:
        "logs/structures/bulk/{bulk}.log",
    localrule: True
    conda:
        CONDA_ENV
    script:
        "../scripts/write_bulk.py"


# One job per slab model writes the slab and all its vacancy structures: their number is known at
# parse time (symmetry-distinct placements), and one process is far cheaper than one per file.
for model in STUDY.slabs:

    rule:
        name:
            f"slab_series_{model.key}"
        input:
            bulk=structure_path("bulk", model.bulk),
        output:
            list(slab_outputs(model).values()),
        log:
            f"logs/structures/slab/{model.name}.log",
        # the knock-on kicks start from this sheet: first, so that they run beside the DFT jobs (the
        # calculations read their own copies; without it the scheduler left this 1 s job for 20 minutes)
        priority: 10
        localrule: True
        conda:
            CONDA_ENV
        params:
            model=model,
            paths=slab_outputs(model),
            allow_unconverged=config["calculator"]["allow_unconverged"],
        script:
            "../scripts/build_slab_series.py"


if STUDY.interfaces is not None:

    rule interface_stacks:
        input:
            bulk=structure_path("bulk", STUDY.interfaces.substrate),
        output:
            list(interface_outputs().values()),
        log:
            "logs/structures/interfaces.log",
        localrule: True
        conda:
            CONDA_ENV
        params:
            model=STUDY.interfaces,
            paths=interface_outputs(),
            allow_unconverged=config["calculator"]["allow_unconverged"],
        script:
            "../scripts/build_interfaces.py"

    rule strained_shells:
        input:
            **strained_bulk_inputs(),
        output:
            list(strained_outputs().values()),
        log:
            "logs/structures/strained.log",
        localrule: True
        conda:
            CONDA_ENV
        params:
            model=STUDY.interfaces,
            paths=strained_outputs(),
            allow_unconverged=config["calculator"]["allow_unconverged"],
        script:
            "../scripts/build_strained.py"


rule structure_index:
    input:
        all_structure_paths(),
    output:
        STRUCTURE_INDEX,
    log:
        "logs/structures/index.log",
    localrule: True
    conda:
        CONDA_ENV
    script:
        "../scripts/structure_index.py"


rule structures:
    input:
        STRUCTURE_INDEX,
    localrule: True
