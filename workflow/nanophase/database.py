"""Every record and final structure of a study in one ASE database (SQLite), queried the way ASE users do:

    ase db results/nanophase.db family=vacancy,phase=wurtzite -c name,energy,concentration

The energy and forces ride on a single-point calculator, so ASE's own `energy` and `fmax` columns are the
record's; the key-value pairs are what people filter on. The records stay the source of every table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase.calculators.singlepoint import SinglePointCalculator
from ase.db import connect

from nanophase.analysis import Calculated
from nanophase.safe_write import atomic_path
from nanophase.study import Study


def structure_keys(study: Study) -> dict[str, dict]:
    """Per structure name: family and, where the plan knows them, phase, series and vacancy numbers."""
    keys = {name: {"family": family} for name, family in study.families.items()}
    for model in study.slabs:
        keys[model.name]["phase"] = model.settings.phase
        keys[model.name]["monolayers"] = model.settings.monolayers
        for spec in model.vacancies:
            keys[spec.name].update(
                phase=model.settings.phase,
                monolayers=model.settings.monolayers,
                series=spec.series,
                species=spec.species,
                host=spec.host,
                n_removed=len(spec.removed),
                concentration=float(spec.concentration),
            )
    return keys


def write_database(study: Study, calculated: Calculated, path: str | Path) -> int:
    """Write one row per calculation (final structure, energy, forces, keys) to a new SQLite file.

    Returns the number of rows. The file is built beside its destination and renamed onto it, so a
    reader never sees half a database.
    """
    keys = structure_keys(study)
    with atomic_path(path) as tmp:
        tmp.unlink()  # ASE creates the database file itself
        with connect(tmp, type="db") as db:
            for name, record in calculated.records.items():
                atoms = calculated.structures[name].copy()
                atoms.calc = SinglePointCalculator(
                    atoms, energy=record.energy_ev, forces=np.asarray(record.forces_ev_per_a)
                )
                db.write(
                    atoms,
                    name=name,
                    task=record.task,
                    code=record.code,
                    code_version=record.code_version,
                    fingerprint=record.fingerprint,
                    converged=bool(record.converged),
                    ionic_steps=int(record.ionic_steps),
                    **keys.get(name, {}),
                )
    return len(calculated.records)
