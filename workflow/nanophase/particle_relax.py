"""Relaxed next to as-built: a particle relaxed with a machine-learned potential (resumable)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms

VACUUM_A = 12.0  # beyond the potentials' cut-offs (CHGNet 5 A, SevenNet-0 5 A): no self-interaction


@dataclass(frozen=True)
class ParticleRelaxSettings:
    """Config block `particle_relaxation`: which particles get an MLIP-relaxed version, and how."""

    model: str = "none"
    max_diameter_nm: float = 4.0
    fmax_ev_per_a: float = 0.05
    max_steps: int = 300

    @classmethod
    def from_config(cls, cfg: dict) -> ParticleRelaxSettings:
        return cls(
            model=cfg.get("model", "none"),
            max_diameter_nm=float(cfg.get("max_diameter_nm", 4.0)),
            fmax_ev_per_a=float(cfg.get("fmax_ev_per_a", 0.05)),
            max_steps=int(cfg.get("max_steps", 300)),
        )

    def relaxes(self, diameter_nm: float | None) -> bool:
        return self.model != "none" and diameter_nm is not None and diameter_nm <= self.max_diameter_nm


def boxed(atoms: Atoms) -> Atoms:
    """A copy of a finite particle centred in an orthorhombic box with VACUUM_A on every side.

    Periodic for the potentials (they need a cell), but the images never see each other.
    """
    work = atoms.copy()
    extent = work.positions.max(axis=0) - work.positions.min(axis=0)
    work.set_cell(np.diag(extent + 2 * VACUUM_A))
    work.pbc = True
    work.center()
    return work


def relaxed_name(name: str, model: str) -> str:
    return f"{name}-{model}"


def relax_particle(atoms: Atoms, settings: ParticleRelaxSettings, workdir: str | Path) -> tuple[Atoms, dict]:
    """Relax a finite particle with the potential (FIRE; positions only), resuming from `workdir`.

    The particle sits in a box with VACUUM_A on every side; the box is periodic for the potential but
    the images never interact. Returns the relaxed particle (same metadata, name and series marked
    as relaxed) and a record: energies before and after, steps, convergence, displacements.
    """
    from nanophase.calculators.mlip_calc import mlip_calculator, mlip_relax, model_version
    from nanophase.calculators.optimize import max_free_force

    start = time.perf_counter()
    work = boxed(atoms)
    offset = work.positions[0] - atoms.positions[0]
    work.calc = mlip_calculator(settings.model)
    energy_before = float(work.get_potential_energy())
    outcome = mlip_relax(
        work, settings.model, workdir, "relax", settings.fmax_ev_per_a, settings.max_steps, "FIRE"
    )
    energy_after = float(work.get_potential_energy())
    max_force = max_free_force(work)
    relaxed = atoms.copy()
    relaxed.positions = work.positions - offset
    displacement = np.linalg.norm(relaxed.positions - atoms.positions, axis=1)
    relaxed.info.update(
        name=relaxed_name(atoms.info["name"], settings.model),
        series=f"{atoms.info.get('series', atoms.info['name'])} ({settings.model}-relaxed)",
        relaxed_with=settings.model,
    )
    record = {
        "name": relaxed.info["name"],
        "model": settings.model,
        "model_version": model_version(settings.model),
        "atoms": len(atoms),
        "energy_before_ev": energy_before,
        "energy_after_ev": energy_after,
        "relaxation_ev_per_atom": (energy_after - energy_before) / len(atoms),
        "max_force_ev_per_a": max_force,
        "fmax_ev_per_a": settings.fmax_ev_per_a,
        "converged": outcome.converged,
        "steps": outcome.steps,
        "resumed_from_step": outcome.resumed_from_step,
        "rms_displacement_a": float(np.sqrt((displacement**2).mean())),
        "max_displacement_a": float(displacement.max()),
        "wall_time_s": time.perf_counter() - start,
    }
    return relaxed, record


def write_relax_record(record: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(record, indent=2) + "\n")


@dataclass(frozen=True)
class ParticleVacancySettings:
    """Config block `particle_vacancies`: one vacancy per surface-site class of each relaxed particle."""

    species: tuple[str, ...] = ()
    per_class: int = 1
    steps: int = 30
    frozen_beyond_a: float = 8.0

    @classmethod
    def from_config(cls, cfg: dict) -> ParticleVacancySettings:
        return cls(
            species=tuple(cfg.get("species", ())),
            per_class=int(cfg.get("per_class", 1)),
            steps=int(cfg.get("steps", 30)),
            frozen_beyond_a=float(cfg.get("frozen_beyond_a", 8.0)),
        )


def surface_vacancy_energies(
    host: Atoms, model: str, settings: ParticleVacancySettings, fmax_ev_per_a: float
) -> list[dict]:
    """Vacancy energies of the surface-site classes of a relaxed particle, with the potential.

    Classes are the (species, coordination) pairs of the under-coordinated outer-surface atoms
    (particles.summarise). For each class, the first `per_class` atoms (by distance from the centre,
    outermost first) are removed one at a time and the particle relaxes around the vacancy (atoms
    farther than frozen_beyond_a held: the rest of the particle is already relaxed). The removal
    energy E_def - E_host is taken against the potential's zero for the removed atom, so only
    differences between classes of one particle are physical (the atom goes to the same reservoir);
    absolute formation energies need a chemical potential of the species, which the study lacks.
    """
    from ase.constraints import FixAtoms
    from ase.optimize import FIRE

    from nanophase.calculators.mlip_calc import mlip_calculator
    from nanophase.particles import bond_cutoff, coordination_numbers, info_values

    calculator = mlip_calculator(model)
    work = boxed(host)
    work.calc = calculator
    energy_host = float(work.get_potential_energy())
    bond = max(info_values(host, "bonds_a"))
    coordination = coordination_numbers(host, bond_cutoff(bond))
    expected = np.array(
        [
            int(info_values(host, "coordination")[r])
            for r in host.arrays.get("region", np.zeros(len(host), int))
        ]
    )
    radii = np.linalg.norm(host.positions - host.positions.mean(axis=0), axis=1)
    outer = radii > radii.max() - 1.5 * bond
    symbols = np.array(host.get_chemical_symbols())
    rows = []
    for species in settings.species:
        for cn in sorted(set(coordination[(symbols == species) & outer & (coordination < expected)])):
            members = np.nonzero(
                (symbols == species) & outer & (coordination == cn) & (coordination < expected)
            )[0]
            for index in members[np.argsort(-radii[members])][: settings.per_class]:
                defect = work.copy()
                del defect[int(index)]
                far = (
                    np.linalg.norm(defect.positions - work.positions[index], axis=1)
                    > settings.frozen_beyond_a
                )
                defect.set_constraint(FixAtoms(mask=far))
                defect.calc = calculator
                optimizer = FIRE(defect, logfile=None)
                converged = bool(optimizer.run(fmax=fmax_ev_per_a, steps=settings.steps))
                rows.append({
                    "particle": host.info["name"],
                    "site class": f"{species} CN{int(cn)}",
                    "atoms in class": int(len(members)),
                    "atom": int(index),
                    "distance from centre (A)": float(radii[index]),
                    "removal energy (eV)": float(defect.get_potential_energy()) - energy_host,
                    "steps": int(optimizer.nsteps),
                    "converged": converged,
                })  # fmt: skip
    if rows:
        lowest = min(r["removal energy (eV)"] for r in rows)
        for row in rows:
            row["relative to the lowest class (eV)"] = row["removal energy (eV)"] - lowest
    return rows
