# Study plan and path patterns shared by all rules. Every structure name is fixed here, at parse time.
from nanophase.study import Study

STUDY = Study.from_config(config, root=".")
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


def all_structure_paths():
    paths = [structure_path("bulk", key) for key in STUDY.bulk_files]
    for model in STUDY.slabs:
        paths += list(slab_outputs(model).values())
    return paths + list(interface_outputs().values())


wildcard_constraints:
    bulk="|".join(STUDY.bulk_files),
