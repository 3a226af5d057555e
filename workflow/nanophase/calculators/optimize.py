"""Resumable ASE relaxations: every step goes to a trajectory, a killed run continues from its last frame."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.filters import FrechetCellFilter
from ase.io.trajectory import Trajectory
from ase.optimize import BFGS, FIRE
from ase.parallel import world

from nanophase.safe_write import atomic_path

OPTIMIZERS = {"BFGS": BFGS, "FIRE": FIRE}
# Which cell degrees of freedom each task relaxes (Voigt order xx yy zz yz xz xy); None: positions only.
CELL_MASKS = {
    "relax": None,
    "relax-cell": [True] * 6,
    "relax-c": [False, False, True, False, False, False],  # in-plane lattice held (strained shells)
}
TRAJECTORY = "relax.traj"
OPTIMIZER_STATE = "optimizer.json"


@dataclass
class RelaxOutcome:
    """How a (possibly resumed) relaxation ended."""

    converged: bool
    steps: int  # ionic steps in total, the resumed ones included
    resumed_from_step: int


def read_frames(path: Path) -> list[Atoms]:
    """All complete frames of a trajectory; a frame cut short by a kill is dropped."""
    frames: list[Atoms] = []
    if not path.exists() or path.stat().st_size == 0:
        return frames
    try:
        with Trajectory(str(path)) as trajectory:
            for index in range(len(trajectory)):
                frames.append(trajectory[index])
    except Exception:  # a truncated last frame: keep what was read before it
        pass
    return frames


def _rewrite(path: Path, frames: list[Atoms]) -> None:
    """Replace the trajectory by its complete frames, so that appending continues a valid file."""
    if world.rank == 0:
        with atomic_path(path) as tmp, Trajectory(str(tmp), "w", master=True) as trajectory:
            for frame in frames:
                trajectory.write(frame)
    world.barrier()


def _valid_state(path: Path) -> bool:
    try:
        json.loads(path.read_text())
        return True
    except (OSError, ValueError):
        return False


def relaxation_started(workdir: Path) -> bool:
    """A relaxation has begun in `workdir`: it has a trajectory or an optimiser state to resume from."""
    return (workdir / TRAJECTORY).exists() or (workdir / OPTIMIZER_STATE).exists()


def seed_bfgs_hessian(workdir: Path, atoms: Atoms, hessian: np.ndarray, maxstep_a: float = 0.2) -> bool:
    """Give a BFGS relaxation that has not started in `workdir` this Hessian (eV/A^2, 3N x 3N) to start from.

    Written in ASE's own restart format, with the start geometry as BFGS's last position, so that its
    first step uses the Hessian as is. A relaxation that has already begun (trajectory or state present)
    keeps its own state: returns False and writes nothing. Call on one rank; relax() reads it on all.
    """
    from ase.io.jsonio import write_json

    workdir.mkdir(parents=True, exist_ok=True)
    if relaxation_started(workdir):
        return False
    positions = atoms.positions.ravel().copy()
    with atomic_path(workdir / OPTIMIZER_STATE) as tmp, open(tmp, "w") as handle:
        write_json(handle, (hessian, positions, np.zeros_like(positions), maxstep_a))
    return True


def relax(
    atoms: Atoms,
    workdir: Path,
    fmax_ev_per_a: float,
    max_steps: int,
    optimizer: str = "BFGS",
    cell_mask: list[bool] | None = None,
) -> RelaxOutcome:
    """Relax `atoms` (calculator attached) in place, continuing an earlier run in `workdir` if any.

    The trajectory holds the start frame and one frame per step, so a run killed after k steps has
    k + 1 frames and restarts from the geometry of step k. BFGS keeps its Hessian in
    optimizer.json, so the resumed path is the one the uninterrupted run would have taken.
    FixAtoms constraints are honoured by the optimiser; `cell_mask` (see CELL_MASKS) also relaxes
    those cell components (FrechetCellFilter, stress included in the force criterion).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    trajectory_path = workdir / TRAJECTORY
    state_path = workdir / OPTIMIZER_STATE
    frames = read_frames(trajectory_path)
    resumed_from_step = 0
    if frames:
        last = frames[-1]
        atoms.set_cell(last.cell, scale_atoms=False)
        atoms.positions = last.positions
        resumed_from_step = len(frames) - 1
        _rewrite(trajectory_path, frames)
    if world.rank == 0 and state_path.exists() and not _valid_state(state_path):
        state_path.unlink()  # killed while the optimiser wrote its state: start its memory afresh
    world.barrier()

    target = atoms if cell_mask is None else FrechetCellFilter(atoms, mask=cell_mask)
    opt = OPTIMIZERS[optimizer](
        target, restart=str(state_path) if optimizer == "BFGS" else None, logfile=str(workdir / "relax.log")
    )
    trajectory = Trajectory(str(trajectory_path), "a" if frames else "w", atoms, master=world.rank == 0)
    skip_first = bool(frames)  # the start of a resumed run is the last frame already written

    def write_frame() -> None:
        nonlocal skip_first
        if skip_first:
            skip_first = False
            return
        trajectory.write(atoms)

    opt.attach(write_frame, interval=1)
    try:
        converged = bool(opt.run(fmax=fmax_ev_per_a, steps=max(0, max_steps - resumed_from_step)))
    finally:
        trajectory.close()
    steps = resumed_from_step + opt.nsteps
    return RelaxOutcome(converged=converged, steps=steps, resumed_from_step=resumed_from_step)


def max_free_force(atoms: Atoms) -> float:
    """Largest force on an atom that is free to move, eV/angstrom."""
    forces = atoms.get_forces()  # constrained components already zeroed by ASE
    return float(np.linalg.norm(forces, axis=1).max()) if len(forces) else 0.0
