"""GPAW backend: plane waves or LCAO with the gpaw-data setups, resumable relaxations, SCF recovery ladder."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

from ase import Atoms
from ase.parallel import parprint, world

from nanophase.calculators.optimize import CELL_MASKS, max_free_force, relax
from nanophase.calculators.records import CalcRecord, new_record, structure_hash
from nanophase.calculators.settings import (
    HUND_MOMENTS_MU_B,
    CalcSettings,
    kpoint_mesh,
    kpoint_style,
    needs_dipole_correction,
    spin_polarised,
    structure_kind,
)
from nanophase.safe_write import atomic_path
from nanophase.symmetry import fixed_atoms_symmetric

# SCF recovery ladder: each rung is tried after the previous one failed to converge. Wider smearing
# changes the energy, so it comes last and is recorded in the settings (and fingerprint) actually used.
LADDER = (
    {"label": "default"},
    {"label": "more iterations, lower mixing", "iterations_factor": 3, "mixer_beta": 0.05},
    {"label": "more iterations, lowest mixing", "iterations_factor": 5, "mixer_beta": 0.02},
    {"label": "wider smearing", "iterations_factor": 5, "mixer_beta": 0.02, "smearing_factor": 2.0},
)
ATTEMPTS = "attempts.json"
SCF_FORCE_FRACTION = 0.1  # SCF force convergence as a fraction of the relaxation's fmax


class SCFConvergenceError(RuntimeError):
    """Every rung of the recovery ladder failed to converge the electronic structure."""


def gpaw_parameters(
    atoms: Atoms, settings: CalcSettings, rung: dict, txt: str, mesh=None, gamma=None, converge_forces=True
) -> dict:
    """Keyword arguments of gpaw.GPAW for `atoms` under `settings` and one ladder rung (`mesh`: a k-point
    mesh held fixed instead of the settings' rule, as along an energy-length scan, and `gamma` whether it
    is Gamma-centred, else Monkhorst-Pack; `converge_forces`:
    forces in the SCF criterion, for what steps on them - not a single point, which has no fmax)."""
    from gpaw import PW, Mixer

    mesh = mesh or kpoint_mesh(atoms, settings.kpoint_length_a)

    smearing_ev = settings.smearing_ev * rung.get("smearing_factor", 1.0)
    occupations = (
        {"name": "methfessel-paxton", "width": smearing_ev, "order": 0}  # order 0 = Gaussian smearing
        if settings.smearing == "gaussian"
        else {"name": "fermi-dirac", "width": smearing_ev}
    )
    centred = kpoint_style(atoms, mesh)[0] == "Gamma" if gamma is None else gamma
    parameters = {
        "xc": settings.functional,
        # ASE's gamma=False means "shift Gamma out", which moves an odd mesh off Gamma; without the key the
        # mesh is Monkhorst-Pack's own (odd: Gamma included), the points VASP's "Monkhorst" samples
        "kpts": {"size": mesh, "gamma": True} if centred else {"size": mesh},
        "occupations": occupations,
        # forces too: a relaxation steps on them, and an SCF converged in the energy alone can leave
        # forces that do not match it (BFGS then stalls with the energy flat and fmax stuck)
        "convergence": {"energy": settings.scf_energy_tol_ev}
        | ({"forces": SCF_FORCE_FRACTION * settings.fmax_ev_per_a} if converge_forces else {}),
        "maxiter": int(settings.scf_max_iterations * rung.get("iterations_factor", 1)),
        "txt": txt,
    }
    if settings.mode == "pw":
        parameters["mode"] = PW(settings.encut_ev)
    else:
        parameters.update(mode="lcao", basis=settings.basis, h=settings.grid_spacing_a)
    if "mixer_beta" in rung:
        parameters["mixer"] = Mixer(beta=rung["mixer_beta"], nmaxold=5, weight=50.0)
    if needs_dipole_correction(atoms, settings):
        parameters["poissonsolver"] = {"dipolelayer": "xy"}  # the slab's faces differ: cancel the field
    if not fixed_atoms_symmetric(atoms):
        # fixed atoms on one side only: relaxed positions leave the point group GPAW would detect
        parameters["symmetry"] = {"point_group": False}
    if spin_polarised(atoms, settings):
        parameters["spinpol"] = True
        if structure_kind(atoms) == "atom":
            parameters["hund"] = True  # ground-state moment of the free atom (Se: 2 muB)
    return parameters


def prepare(atoms: Atoms, settings: CalcSettings) -> Atoms:
    """A copy with periodicity matching the model: slabs are not periodic along z, atoms not at all."""
    atoms = atoms.copy()
    kind = structure_kind(atoms)
    if kind == "slab":
        # a dipole layer needs a non-periodic normal; zero boundary conditions along z for all slabs
        atoms.pbc = (True, True, False)
    elif kind == "atom":
        atoms.pbc = False
        atoms.center()
    if spin_polarised(atoms, settings):
        atoms.set_initial_magnetic_moments(
            [HUND_MOMENTS_MU_B.get(s, 1.0) for s in atoms.get_chemical_symbols()]
        )
    return atoms


def _load_attempts(workdir: Path) -> list[dict]:
    path = workdir / ATTEMPTS
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return []


def _save_attempts(workdir: Path, attempts: list[dict]) -> None:
    if world.rank == 0:
        with atomic_path(workdir / ATTEMPTS) as tmp:
            tmp.write_text(json.dumps(attempts, indent=1))
    world.barrier()


def run_gpaw(
    atoms: Atoms,
    settings: CalcSettings,
    workdir: str | Path,
    task: str,
    name: str,
    ladder: tuple[dict, ...] = LADDER,
    mesh: tuple[int, int, int] | None = None,
    gamma: bool | None = None,
) -> tuple[CalcRecord, Atoms]:
    """Relax or evaluate `atoms` with GPAW in `workdir`; return the record and the final structure.

    Args:
        task: "single-point", "relax" (positions), "relax-cell" (positions and cell) or "relax-c"
            (positions and the cell's normal; the in-plane lattice is held).
        ladder: SCF recovery rungs, tried in order after a failure; the rung reached is kept in
            workdir/attempts.json so that a rerun continues from it.

    Raises:
        SCFConvergenceError: the last rung failed too; nothing is recorded as done.
    """
    import gpaw
    from gpaw import GPAW, KohnShamConvergenceError
    from gpaw.new.symmetry import SymmetryAnalysisBug

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    input_hash = structure_hash(atoms)
    atoms = prepare(atoms, settings)
    attempts = _load_attempts(workdir)
    first_rung = min(sum(1 for a in attempts if a["outcome"] == "scf failed"), len(ladder) - 1)
    start = time.perf_counter()
    point_group = True
    for index in range(first_rung, len(ladder)):
        rung = ladder[index]
        txt = str(workdir / f"gpaw-{len(attempts) + 1}.txt")
        parameters = gpaw_parameters(atoms, settings, rung, txt, mesh, gamma, task != "single-point")
        if not point_group:
            parameters["symmetry"] = {"point_group": False}
        atoms.calc = GPAW(**parameters)
        attempt = {"rung": index, "label": rung["label"], "txt": Path(txt).name}
        try:
            atoms.calc.initialize(atoms)
        except SymmetryAnalysisBug:
            # GPAW's point-group analysis of some strained cells finds operations that do not form a
            # group: the same energy without the point-group reduction of the k-points
            point_group = False
            parameters["symmetry"] = {"point_group": False}
            atoms.calc = GPAW(**parameters)
            attempt["note"] = "point-group symmetry off: GPAW's analysis failed (SymmetryAnalysisBug)"
        try:
            if task == "single-point":
                atoms.get_forces()
                outcome = None
            else:
                outcome = relax(
                    atoms,
                    workdir,
                    settings.fmax_ev_per_a,
                    settings.max_steps,
                    settings.optimizer,
                    cell_mask=CELL_MASKS[task],
                )
        except KohnShamConvergenceError as error:
            attempts.append({**attempt, "outcome": "scf failed", "error": str(error)})
            _save_attempts(workdir, attempts)
            parprint(f"{name}: SCF not converged ({rung['label']}); next rung")
            continue
        attempts.append({**attempt, "outcome": "ok"})
        _save_attempts(workdir, attempts)
        break
    else:
        raise SCFConvergenceError(
            f"{name}: the SCF did not converge on any of the {len(ladder)} rungs "
            f"({', '.join(r['label'] for r in ladder)}); see {workdir}/gpaw-*.txt"
        )

    used = replace(settings, smearing_ev=settings.smearing_ev * rung.get("smearing_factor", 1.0))
    forces = atoms.get_forces()
    converged = True if outcome is None else outcome.converged
    magmom = float(atoms.calc.get_magnetic_moment()) if spin_polarised(atoms, settings) else 0.0
    record = new_record(
        name,
        task,
        "gpaw",
        gpaw.__version__,
        used,
        atoms,
        energy_ev=float(atoms.get_potential_energy()),
        forces=forces,
        max_force_ev_per_a=max_free_force(atoms),
        converged=converged,
        ionic_steps=0 if outcome is None else outcome.steps,
        wall_time_s=time.perf_counter() - start,
        mesh=mesh,
        input_hash=input_hash,
        magnetic_moment_mu_b=magmom,
        resumed_from_step=0 if outcome is None else outcome.resumed_from_step,
        attempts=attempts,
        message="" if converged else f"not converged in {settings.max_steps} ionic steps",
    )
    final = atoms.copy()
    final.calc = None
    final.pbc = True  # files keep the periodic cell with vacuum; prepare() decides what GPAW sees
    final.info = dict(atoms.info)
    return record, final
