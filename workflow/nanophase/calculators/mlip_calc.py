"""Machine-learned interatomic potentials (CHGNet, SevenNet-0): a screening backend and a DFT pre-relaxer.

Both ship their weights in their pip packages and run offline on the CPU. They are an optional extra
(`pip install torch==2.13.0` first, the CPU build; then `pip install -e .[mlip]`). Records of MLIP
energies carry the model as their code, so the settings guard never subtracts them from DFT energies.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import time
from pathlib import Path

import numpy as np
from ase import Atoms

from nanophase.calculators.optimize import CELL_MASKS, max_free_force, relax
from nanophase.calculators.records import CalcRecord, new_record, structure_hash
from nanophase.layers import fixed_indices
from nanophase.symmetry import symmetrize_hessian

# model name -> the pip package that provides it (and its weights)
MLIP_PACKAGES = {"chgnet": "chgnet", "sevenn": "sevenn"}
INSTALL_HINT = (
    "install the optional extra: pip install torch==2.13.0 (the CPU build, first) and then "
    "pip install -e '.[mlip]'"
)


class MLIPUnavailable(RuntimeError):
    """The model's package (or torch) is not installed."""


def mlip_available(model: str) -> bool:
    """The model's package and torch can be imported (checked without importing them)."""
    package = MLIP_PACKAGES.get(model)
    return bool(package) and all(importlib.util.find_spec(p) is not None for p in ("torch", package))


def model_version(model: str) -> str:
    return importlib.metadata.version(MLIP_PACKAGES[model])


def mlip_calculator(model: str, stress: bool = True):
    """The ASE calculator of a pretrained universal potential, on the CPU. `stress=False`: energy and
    forces only, for what needs no more (dynamics, finite-difference Hessians)."""
    if not mlip_available(model):
        raise MLIPUnavailable(f"{model}: not installed; {INSTALL_HINT}")
    if model == "chgnet":
        from chgnet.model.dynamics import CHGNetCalculator

        if stress:
            return CHGNetCalculator(use_device="cpu", on_isolated_atoms="ignore")

        class EnergyForcesCHGNet(CHGNetCalculator):
            """CHGNet's calculator computes stress and magnetic moments at every call, whatever was asked;
            without them a 56-atom step costs 64-72 ms instead of 107 ms (1 thread), the same energy and
            forces."""

            implemented_properties = ("energy", "free_energy", "forces")

            def calculate(self, atoms=None, properties=None, system_changes=None, task="ef"):
                super().calculate(atoms, properties, system_changes, task="ef")

        return EnergyForcesCHGNet(use_device="cpu", on_isolated_atoms="ignore")
    from sevenn.calculator import SevenNetCalculator

    return SevenNetCalculator("7net-0", device="cpu")


# BFGS's default curvature (ase.optimize.BFGS alpha), kept for fixed atoms, and the smallest curvature
# the seeded Hessian may have: the free slab's translations are zero modes, and BFGS divides by |omega|
DEFAULT_CURVATURE = 70.0
MIN_CURVATURE = 2.0


def mlip_hessian(atoms: Atoms, model: str, delta_a: float = 0.01) -> np.ndarray:
    """The potential's Hessian of `atoms` (eV/A^2, 3N x 3N) by central differences of the forces.

    Fixed atoms (FixAtoms) keep BFGS's default diagonal and no coupling, so that a seeded relaxation
    moves exactly the atoms a cold one would. The matrix is made symmetric, averaged over the
    structure's symmetry operations (the potential's noise would otherwise let a step break a symmetry
    the DFT code uses), and its eigenvalues are taken as |omega| floored at MIN_CURVATURE.
    """
    trial = atoms.copy()
    trial.set_constraint()
    trial.calc = mlip_calculator(model, stress=False)
    fixed = set(fixed_indices(atoms))
    n = 3 * len(atoms)
    hessian = np.eye(n) * DEFAULT_CURVATURE
    free = [3 * a + k for a in range(len(atoms)) if a not in fixed for k in range(3)]
    start = trial.positions.copy()
    for column in free:
        gradients = []
        for sign in (1.0, -1.0):
            trial.positions = start
            trial.positions[column // 3, column % 3] += sign * delta_a
            gradients.append(-trial.get_forces().ravel())
        hessian[free, column] = (gradients[0] - gradients[1])[free] / (2.0 * delta_a)
    hessian = symmetrize_hessian(atoms, 0.5 * (hessian + hessian.T))
    block = hessian[np.ix_(free, free)]
    omega, vectors = np.linalg.eigh(block)
    hessian[np.ix_(free, free)] = (vectors * np.maximum(np.abs(omega), MIN_CURVATURE)) @ vectors.T
    return hessian


def mlip_relax(atoms: Atoms, model: str, workdir: str | Path, task: str, fmax_ev_per_a: float, max_steps: int,
               optimizer: str = "BFGS"):  # fmt: skip
    """Relax `atoms` in place with `model` (resumable, like every relaxation here); return the outcome."""
    atoms.calc = mlip_calculator(model)
    return relax(atoms, Path(workdir), fmax_ev_per_a, max_steps, optimizer, cell_mask=CELL_MASKS[task])


def run_mlip(atoms: Atoms, settings, workdir: str | Path, task: str, name: str) -> tuple[CalcRecord, Atoms]:
    """Relax or evaluate `atoms` with the model of settings.mlip_model; the record's code is the model."""
    model = settings.mlip_model
    input_hash = structure_hash(atoms)
    atoms = atoms.copy()
    atoms.pbc = True  # the potentials see slabs and atoms as periodic cells with vacuum
    start = time.perf_counter()
    if task == "single-point":
        atoms.calc = mlip_calculator(model)
        outcome = None
    else:
        outcome = mlip_relax(atoms, model, workdir, task, settings.fmax_ev_per_a, settings.max_steps,
                             settings.optimizer)  # fmt: skip
    converged = True if outcome is None else outcome.converged
    record = new_record(
        name,
        task,
        model,
        model_version(model),
        settings,
        atoms,
        energy_ev=float(atoms.get_potential_energy()),
        forces=atoms.get_forces(),
        max_force_ev_per_a=max_free_force(atoms),
        converged=converged,
        ionic_steps=0 if outcome is None else outcome.steps,
        wall_time_s=time.perf_counter() - start,
        input_hash=input_hash,
        resumed_from_step=0 if outcome is None else outcome.resumed_from_step,
        attempts=[{"label": model, "outcome": "ok"}],
        message="" if converged else f"not converged in {settings.max_steps} ionic steps",
    )
    final = atoms.copy()
    final.calc = None
    final.info = dict(atoms.info)
    return record, final
