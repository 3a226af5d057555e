"""Calculation records: the JSON every later stage trusts, written atomically."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms

from nanophase.calculators.job import job_settings
from nanophase.calculators.settings import (
    kpoint_mesh,
    needs_dipole_correction,
    sampling_lengths,
    spin_polarised,
)
from nanophase.safe_write import atomic_path


class UnconvergedError(RuntimeError):
    """A record of an unconverged calculation was handed to a stage that needs a converged one."""


def structure_hash(atoms: Atoms) -> str:
    """Hash of species, positions and cell (rounded to 1e-5 A), independent of metadata."""
    payload = json.dumps(
        {
            "symbols": atoms.get_chemical_symbols(),
            "positions": np.round(atoms.positions, 5).tolist(),
            "cell": np.round(atoms.cell.array, 5).tolist(),
        }
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass
class CalcRecord:
    """What one calculation produced and how.

    Energies in eV, forces in eV/angstrom, times in seconds. `fingerprint` hashes the physics settings
    actually used (see CalcSettings.fingerprint); `attempts` lists every SCF attempt of the recovery
    ladder; `resumed_from_step` > 0 when an interrupted relaxation was continued.
    """

    name: str
    task: str
    code: str
    code_version: str
    energy_ev: float
    forces_ev_per_a: list[list[float]]
    max_force_ev_per_a: float
    converged: bool
    ionic_steps: int
    wall_time_s: float
    settings: dict
    physics: dict
    fingerprint: str
    input_hash: str
    output_hash: str
    n_atoms: int
    formula: str
    kpoints: list[int]
    spin_polarized: bool
    magnetic_moment_mu_b: float = 0.0
    dipole_correction: bool = False
    kpoint_sampling_a: list[float] = field(default_factory=list)  # n_i |a_i| per periodic direction
    resumed_from_step: int = 0
    attempts: list[dict] = field(default_factory=list)
    scf_attempts: int = 1
    message: str = ""
    extra: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_dict(cls, data: dict) -> CalcRecord:
        return cls(**data)


def write_record(record: CalcRecord, path: str | Path) -> None:
    """Write atomically (temporary file + rename): an interrupted write never looks like a record."""
    with atomic_path(path) as tmp:
        tmp.write_text(record.to_json())


def read_record(path: str | Path, require_converged: bool = True) -> CalcRecord:
    """Read a record; refuse an unconverged one unless told otherwise.

    Raises:
        UnconvergedError: the calculation did not converge and require_converged is True.
    """
    record = CalcRecord.from_dict(json.loads(Path(path).read_text()))
    if require_converged and not record.converged:
        raise UnconvergedError(
            f"{path}: {record.name} did not converge ({record.message}); "
            "rerun it, or pass require_converged=False to use it anyway"
        )
    return record


def new_record(
    name: str,
    task: str,
    code: str,
    code_version: str,
    settings,
    final: Atoms,
    *,
    energy_ev: float,
    forces: np.ndarray,
    input_hash: str,
    mesh: tuple[int, int, int] | None = None,
    **fields,
) -> CalcRecord:
    """A record of `final` computed with `settings` by `code`; the derived fields are filled in here.

    The fingerprint, physics, k-point mesh, spin and dipole policy come from the settings actually
    used, so that every backend describes its energies the same way; `mesh` is a mesh that was held
    fixed instead of the settings' rule (the points of an energy-length scan).
    """
    mesh = tuple(mesh or kpoint_mesh(final, settings.kpoint_length_a))
    return CalcRecord(
        name=name,
        task=task,
        code=code,
        code_version=code_version,
        energy_ev=energy_ev,
        forces_ev_per_a=np.round(forces, 6).tolist(),
        settings=job_settings(settings, task),  # what it depended on: a single point holds no fmax
        physics=settings.physics(code),
        fingerprint=settings.fingerprint(code),
        input_hash=input_hash,
        output_hash=structure_hash(final),
        n_atoms=len(final),
        formula=final.get_chemical_formula(mode="metal"),
        kpoints=list(mesh),
        kpoint_sampling_a=sampling_lengths(final, mesh),
        spin_polarized=spin_polarised(final, settings),
        dipole_correction=needs_dipole_correction(final, settings),
        scf_attempts=len(fields.get("attempts", [])) or 1,
        **fields,
    )
