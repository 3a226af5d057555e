# Study plan and path patterns shared by all rules. Every structure name is fixed here, at parse time.
import math
import os
import re
import sys

from nanophase.bulk import atom_name
from nanophase.calculators import CalcSettings, backend_choice, prerelax_choice
from nanophase.calculators.job import Calculation
from nanophase.convergence import (
    ConvergenceSettings,
    margin_sheets,
    study_geometries,
    tier,
)
from nanophase.particle_relax import ParticleRelaxSettings, relaxed_name
from nanophase.outputs import FIGURE_STEMS, TABLE_STEMS
from nanophase.study import TASKS, Study

STUDY = Study.from_config(config, root=".")
_FAMILY_COUNTS = {
    f: list(STUDY.families.values()).count(f)
    for f in dict.fromkeys(STUDY.families.values())
}
logger.info(
    f"nanophase: study {STUDY.name}: {len(STUDY.families)} calculations ("
    + ", ".join(f"{n} {family}" for family, n in _FAMILY_COUNTS.items())
    + ")"
)
EFFECTIVE_CONFIG = "results/config.yaml"
# One software environment for every rule (used with --software-deployment-method conda).
CONDA_ENV = "../../environment.yml"
STRUCTURES = "results/structures"
STRUCTURE_INDEX = f"{STRUCTURES}/index.csv"


def structure_path(family, name):
    return f"{STRUCTURES}/{family}/{name}.extxyz"


def bulk_source(wildcards):
    return str(STUDY.bulk_files[wildcards.bulk])


def slab_outputs(model):
    """Name -> path of the pristine slab and every vacancy structure of one slab model."""
    paths = {model.name: structure_path("slab", model.name)}
    paths.update(
        {spec.name: structure_path("vacancy", spec.name) for spec in model.vacancies}
    )
    return paths


def interface_outputs():
    if STUDY.interfaces is None:
        return {}
    return {name: structure_path("interface", name) for name in STUDY.interfaces.names}


def strained_outputs():
    if STUDY.interfaces is None:
        return {}
    return {
        name: structure_path("strained", name)
        for name in STUDY.interfaces.strained.values()
    }


def strained_bulk_inputs():
    model = STUDY.interfaces
    inputs = {"substrate": structure_path("bulk", model.substrate)}
    inputs.update({shell: structure_path("bulk", shell) for shell in model.strained})
    return inputs


def all_structure_paths():
    paths = [structure_path("bulk", key) for key in STUDY.bulk_files]
    paths += [
        structure_path("atom", atom_name(symbol)) for symbol in STUDY.isolated_atoms
    ]
    for model in STUDY.slabs:
        paths += list(slab_outputs(model).values())
    return (
        paths + list(interface_outputs().values()) + list(strained_outputs().values())
    )


# --- calculations ------------------------------------------------------------------------------

BACKEND, _BACKEND_REASON = backend_choice(config["calculator"]["backend"])
logger.info(f"nanophase: calculations run with {BACKEND} ({_BACKEND_REASON})")
# the potential that pre-relaxes DFT relaxations, resolved here so that every job (and the written
# results/config.yaml) names the model actually used
config["calculator"]["prerelax"], _PRERELAX_REASON = prerelax_choice(
    config["calculator"].get("prerelax", "none"), BACKEND
)
logger.info(
    f"nanophase: DFT relaxations pre-relaxed with {config['calculator']['prerelax']} ({_PRERELAX_REASON})"
)
CALC_SETTINGS = CalcSettings.from_config(config["calculator"])
# one folder per code (and per potential): records of different codes never meet in one folder
CALCS = (
    f"results/calcs/mlip-{CALC_SETTINGS.mlip_model}"
    if BACKEND == "mlip"
    else f"results/calcs/{BACKEND}"
)


def record_path(name):
    return f"{CALCS}/{name}/record.json"


def final_path(name):
    return f"{CALCS}/{name}/final.extxyz"


def calculation_path(name):
    """The job's calculation.json (nanophase.calculators.job): what it runs, with which settings."""
    return f"{CALCS}/{name}/calculation.json"


def calculation_spec(wildcards):
    """The calculation of one structure: a rule param, so that only the jobs whose settings changed
    write their file again (and so rerun)."""
    return Calculation.of(
        wildcards.name, calc_task(wildcards), BACKEND, CALC_SETTINGS
    ).__dict__


def calc_structure_path(family, name):
    """Slabs, vacancy structures and stacks cut from the bulk relaxed with this backend."""
    return f"{CALCS}/structures/{family}/{name}.extxyz"


def calc_input(wildcards):
    family = STUDY.families[wildcards.name]
    if family in ("bulk", "atom"):
        return structure_path(family, wildcards.name)
    return calc_structure_path(family, wildcards.name)


def calc_task(wildcards):
    return TASKS[STUDY.families[wildcards.name]]


def _atoms(wildcards):
    return STUDY.n_atoms[wildcards.name]


def calc_tasks(wildcards):
    """MPI ranks: one per `atoms_per_task` atoms, within [min_tasks, max_tasks]."""
    limits = config["resources"]
    wanted = math.ceil(_atoms(wildcards) / limits["atoms_per_task"])
    return max(limits["min_tasks"], min(limits["max_tasks"], wanted))


def calc_mem_mb(wildcards):
    limits = config["resources"]
    return limits["base_mem_mb"] + limits["mem_mb_per_atom"] * _atoms(wildcards)


def calc_runtime(wildcards):
    limits = config["resources"]
    return limits["base_runtime_min"] + limits["runtime_min_per_atom"] * _atoms(
        wildcards
    )


def relaxed_bulk(bulk):
    return {"bulk": final_path(bulk), "record": record_path(bulk)}


def relaxed_slab(model):
    return {"slab": final_path(model.name), "record": record_path(model.name)}


def ranking_input(model):
    """The MLIP ranking of the model's placements, when its vacancies ask for one (else nothing)."""
    if model.vacancy_settings.rank_with == "none":
        return {}
    return {"ranking": f"{CALCS}/ranking/{model.name}.json"}


def vacancy_calc_inputs(model):
    """Name -> path of one slab model's vacancy structures, made from the relaxed slab."""
    return {
        spec.name: calc_structure_path("vacancy", spec.name) for spec in model.vacancies
    }


def interface_calc_inputs():
    if STUDY.interfaces is None:
        return {}
    return {
        name: calc_structure_path("interface", name) for name in STUDY.interfaces.names
    }


def strained_calc_inputs():
    if STUDY.interfaces is None:
        return {}
    return {
        name: calc_structure_path("strained", name)
        for name in STUDY.interfaces.strained.values()
    }


def strained_sources():
    """The relaxed substrate and shell bulks (with records) the strained shells are built from."""
    model = STUDY.interfaces
    sources = {
        "substrate": final_path(model.substrate),
        "substrate_record": record_path(model.substrate),
    }
    for shell in model.strained:
        sources[shell] = final_path(shell)
        sources[f"{shell}_record"] = record_path(shell)
    return sources


def all_records():
    return [record_path(name) for name in STUDY.structure_names()]


def all_finals():
    return [final_path(name) for name in STUDY.structure_names()]


# --- tables and figures --------------------------------------------------------------------------

# a screening with a machine-learned potential never lands where DFT tables go
SCREENING = BACKEND == "mlip"
TABLES = "results/screening/tables" if SCREENING else "results/tables"
FIGURES = "results/screening/figures" if SCREENING else "results/figures"
# every record and final structure, for `ase db` queries
DATABASE = "results/screening/nanophase.db" if SCREENING else "results/nanophase.db"
# what every caption says about the study's set-up
if SCREENING:
    STUDY_NOTE = (
        f"Study {config['study']}: SCREENING with the machine-learned potential "
        f"{config['calculator'].get('mlip_model', 'chgnet')}, not DFT; for ranking and planning only."
    )
elif config["calculator"]["preset"] == "quick":
    STUDY_NOTE = (
        f"Study {config['study']}, preset quick (laptop settings: coarse, for trends, "
        "not converged to publication accuracy)."
    )
else:
    STUDY_NOTE = f"Study {config['study']}, preset {config['calculator']['preset']}."
# name -> path mappings handed to the tables script (the rule's inputs are the same files)
record_paths = {name: record_path(name) for name in STUDY.structure_names()}
final_paths = {name: final_path(name) for name in STUDY.structure_names()}


# the interpreter of this run, so that jobs use the same environment (GPAW runs as `python -m gpaw python`)
PYTHON = sys.executable


# Snakemake sets OPENBLAS_NUM_THREADS (and MKL/GOTO) to a job's `threads`: each MPI rank of a 2-rank GPAW
# job then ran two BLAS threads on unbound cores, and every step of the knock-on check took 1.9x as long
# (10 MD steps: 71 s against 38 s with one thread per rank, same machine)
ONE_THREAD_PER_RANK = " ".join(
    f"{name}=1"
    for name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "GOTO_NUM_THREADS",
    )
)


def calc_launcher(wildcards, threads, resources):
    """How the calculation's process starts.

    GPAW: under an MPI launcher around GPAW's interpreter. A cluster profile names it in the `mpi`
    resource (profiles/slurm: srun) and it starts the job's `tasks` ranks; without one, this
    machine's `mpiexec --bind-to none -n <threads>` (NANOPHASE_MPIEXEC replaces `mpiexec --bind-to
    none`): without it Open MPI pins every small job to core 0, and jobs side by side share one core.
    VASP: a serial driver;
    custodian starts VASP with the user's VASP_COMMAND (e.g. `srun vasp_std`).
    """
    if BACKEND == "vasp":
        return PYTHON
    if BACKEND == "mlip":  # one process; torch uses the job's threads
        return f"OMP_NUM_THREADS={threads} {PYTHON}"
    if resources.get("mpi"):
        launcher = f"{resources.mpi} -n {resources.tasks}"
    else:
        mpiexec = os.environ.get("NANOPHASE_MPIEXEC", "mpiexec --bind-to none")
        launcher = f"{mpiexec} -n {threads}"
        if (
            os.geteuid() == 0
        ):  # containers and CI machines run as root; Open MPI refuses without these
            launcher = (
                f"OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 {launcher}"
            )
    return f"{ONE_THREAD_PER_RANK} {launcher} {PYTHON} -m gpaw python"


def calc_workdir(wildcards):
    """Where the code runs. VASP's folder holds the licensed POTCAR: it stays out of results/."""
    if BACKEND == "vasp":
        return f"{config['calculator']['scratch_dir']}/vasp/{wildcards.name}"
    return f"{CALCS}/{wildcards.name}/work"


def vasp_input_structure(wildcards):
    family = STUDY.families[wildcards.name]
    return structure_path(family, wildcards.name)


# Names are checked against the study by the input functions. An alternation of every name here would
# be inlined into every path pattern and scanned at each match: a 10,000-job dry run took 103 s instead of 39 s.
wildcard_constraints:
    bulk="|".join(re.escape(key) for key in STUDY.bulk_files),
    name=r"[A-Za-z0-9][A-Za-z0-9_.+-]*",


# --- particles (workflow/rules/particles.smk) ---------------------------------------------------

PARTICLE_SPECS = {spec.name: spec for spec in STUDY.particles}
PARTICLE_RELAXATION = ParticleRelaxSettings.from_config(config["particle_relaxation"])
# as-built name -> relaxed name, for the particles small enough for the potential (max_diameter_nm)
RELAXED_PARTICLES = {
    name: relaxed_name(name, PARTICLE_RELAXATION.model)
    for name, spec in PARTICLE_SPECS.items()
    if PARTICLE_RELAXATION.relaxes(spec.diameter_nm)
}
# removal energies per surface-site class, in every relaxed particle (particle_vacancies.species)
PARTICLE_VACANCY_FILES = [
    f"results/mlip/particles/{name}-vacancies.json"
    for name in RELAXED_PARTICLES.values()
    if config["particle_vacancies"]["species"]
]
# every particle whose pattern is computed: as built (or read) and relaxed
PATTERN_PARTICLES = list(PARTICLE_SPECS) + list(RELAXED_PARTICLES.values())
if PARTICLE_SPECS:
    logger.info(
        f"nanophase: {len(PARTICLE_SPECS)} particles, {len(RELAXED_PARTICLES)} relaxed with "
        f"{PARTICLE_RELAXATION.model} (no DFT; Debye-scattering XRD of each)"
    )


def particle_inputs(wildcards):
    """The bulk references a particle is cut from (bulk_<key>) and, if measured, its coordinate file."""
    spec = PARTICLE_SPECS[wildcards.particle]
    keys = {spec.bulk, spec.core, spec.shell, spec.interlayer} - {None}
    inputs = {f"bulk_{key}": structure_path("bulk", key) for key in sorted(keys)}
    if spec.file is not None:
        inputs["measured"] = spec.file
    return inputs


def particle_spec(wildcards):
    return PARTICLE_SPECS[wildcards.particle]


# --- knock-on dynamics ---------------------------------------------------------------------------

from nanophase.displacement import dynamics_choice

KICKS_ENABLED, _KICKS_REASON = dynamics_choice(config["knockon"]["dynamics"])
logger.info(
    f"nanophase: displacement thresholds by dynamics: "
    + ("on, " if KICKS_ENABLED else "off, ")
    + _KICKS_REASON
)
KNOCKON = "results/knockon"
SHEETS = [model.name for model in STUDY.slabs]
THRESHOLD_FILES = (
    [f"{KNOCKON}/{sheet}.json" for sheet in SHEETS] if KICKS_ENABLED else []
)
# the GPAW check of each sheet's lowest threshold (opt-in: minutes per sheet on a laptop)
DFT_CHECK = (
    KICKS_ENABLED and BACKEND == "gpaw" and config["knockon"]["dft_check"]["enabled"]
)
_CHECKED = config["knockon"]["dft_check"]["sheets"]
_UNKNOWN_SHEETS = sorted(set(_CHECKED) - {model.key for model in STUDY.slabs})
if DFT_CHECK and _UNKNOWN_SHEETS:
    raise ValueError(
        f"knockon.dft_check.sheets: {_UNKNOWN_SHEETS} are not slab keys"
        f" (allowed: {', '.join(model.key for model in STUDY.slabs)})"
    )
CHECK_FILES = [
    f"{KNOCKON}/{model.name}-dft-check.json"
    for model in STUDY.slabs
    if DFT_CHECK and (not _CHECKED or model.key in _CHECKED)
]


# --- convergence series (workflow/rules/convergence.smk) ---------------------------------------

CONVERGENCE = ConvergenceSettings.from_config(config["convergence"]).for_study(
    list(config.get("slabs", {}))
)
# the wurtzite and zinc blende sheets of one thickness (phase -> slabs key), whose margin is converged too
CONVERGENCE_MARGIN = margin_sheets(
    config.get("slabs", {}), STUDY.phase_pairs()[0], CONVERGENCE.sheet
)
CONVERGENCE_PHASE_SLABS = {
    phase: config["slabs"][key] for phase, key in CONVERGENCE_MARGIN.items()
}
CONVERGENCE_SERIES = [
    f"{quantity}-{parameter}"
    for quantity, parameter in CONVERGENCE.series(
        STUDY.interfaces is not None, bool(CONVERGENCE_MARGIN)
    )
]
CONVERGENCE_DIR = "results/convergence"
# with convergence.error_bars the main tables read the series' error bars (and so the main job runs them)
CONVERGENCE_TABLE = (
    [f"{CONVERGENCE_DIR}/tables/convergence.csv"] if CONVERGENCE.error_bars else []
)
CONVERGENCE_SHEET = next(
    (model.name for model in STUDY.slabs if model.key == CONVERGENCE.sheet), ""
)


def convergence_bulks(wildcards):
    """The curated bulks the series cut their structures from (the sheet's compound and anion solid,
    the substrate and zinc blende shell)."""
    keys = {}
    if CONVERGENCE.sheet:
        model = next(m for m in STUDY.slabs if m.key == CONVERGENCE.sheet)
        species = model.vacancy_settings.species
        keys = {
            "compound": model.bulk,
            "anion_solid": STUDY.references[model.key].solids[species],
        }
    if STUDY.interfaces is not None:
        keys.update(
            substrate=STUDY.interfaces.substrate,
            shell_zb=STUDY.interfaces.zincblende_shell,
        )
    for phase, key in CONVERGENCE_MARGIN.items():
        keys[f"phase-{phase}"] = config["slabs"][key]["bulk"]
    return {role: structure_path("bulk", key) for role, key in keys.items()}


# per quantity, the study's structures its vacuum / cutoff / k-point points are frozen at (role -> name)
CONVERGENCE_GEOMETRIES = study_geometries(STUDY, CONVERGENCE.sheet, CONVERGENCE_MARGIN)


def convergence_inputs(wildcards):
    """The bulks, and for a DFT-tier series the study's relaxed structures it is computed at (those
    calculations run first: the bar is the sensitivity of the table's own structures).
    """
    quantity, parameter = wildcards.series.split("-", 1)
    frozen = (
        CONVERGENCE_GEOMETRIES.get(quantity, {}) if tier(parameter) == "dft" else {}
    )
    # the margin's sheets ("<phase>:<name>"): their study energies pick the table's hull segment
    records = {role: name for role, name in frozen.items() if ":" in role}
    return {
        **convergence_bulks(wildcards),
        **{f"frozen-{role}": final_path(name) for role, name in frozen.items()},
        **{f"record-{role}": record_path(name) for role, name in records.items()},
    }
