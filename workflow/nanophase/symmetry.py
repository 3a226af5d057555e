"""Space-group symmetry of bulk cells and slabs (spglib), as numbers and as atom permutations."""

from __future__ import annotations

import numpy as np
import spglib
from ase import Atoms

from nanophase.layers import fixed_indices

SYMPREC_A = 0.01


def _cell(atoms: Atoms) -> tuple:
    return (atoms.cell.array, atoms.get_scaled_positions(wrap=True), atoms.numbers)


def spacegroup_number(atoms: Atoms, symprec: float = SYMPREC_A) -> int:
    """International space-group number (spglib, tolerance in angstrom)."""
    dataset = spglib.get_symmetry_dataset(_cell(atoms), symprec=symprec)
    if dataset is None:
        raise ValueError("spglib could not determine the space group")
    return int(dataset.number)


def symmetry_operations(atoms: Atoms, symprec: float = SYMPREC_A) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each space-group operation as (atom permutation, Cartesian rotation matrix).

    The permutation maps atom i onto atom perm[i]; the rotation acts on column vectors.
    """
    lattice, scaled, numbers = _cell(atoms)
    symmetry = spglib.get_symmetry((lattice, scaled, numbers), symprec=symprec)
    operations = []
    for rotation, translation in zip(symmetry["rotations"], symmetry["translations"], strict=True):
        image = scaled @ rotation.T + translation
        delta = image[:, None, :] - scaled[None, :, :]
        delta -= np.round(delta)
        distance = np.linalg.norm(delta @ lattice, axis=2)
        distance[numbers[:, None] != numbers[None, :]] = np.inf
        target = np.argmin(distance, axis=1)
        if np.max(distance[np.arange(len(atoms)), target]) > 2 * symprec + 1e-6:
            raise ValueError("a symmetry operation does not map the structure onto itself")
        # fractional s' = r s + t with Cartesian x = A^T s (A: cell vectors as rows)
        operations.append((target, lattice.T @ rotation @ np.linalg.inv(lattice.T)))
    return operations


def symmetry_permutations(atoms: Atoms, symprec: float = SYMPREC_A) -> np.ndarray:
    """Atom permutations induced by the space-group operations of a (slab) cell.

    Row g maps atom i onto atom perm[g, i]. Includes the pure translations of supercells.
    """
    return np.unique(np.array([perm for perm, _ in symmetry_operations(atoms, symprec)]), axis=0)


def symmetrize_hessian(atoms: Atoms, hessian: np.ndarray, symprec: float = SYMPREC_A) -> np.ndarray:
    """The group average of a 3N x 3N Hessian over the operations that keep the fixed atoms fixed.

    A relaxation step H^-1 f then keeps every symmetry the forces have: codes that reduce k-points by
    the structure's symmetry (GPAW) refuse a step that breaks it.
    """
    fixed = fixed_indices(atoms)
    n = 3 * len(atoms)
    average = np.zeros((n, n))
    kept = [
        (perm, rot)
        for perm, rot in symmetry_operations(atoms, symprec)
        if set(perm[fixed].tolist()) == set(fixed)
    ]
    for perm, rotation in kept:
        operation = np.zeros((n, n))  # displacement u_i -> R u_i on atom perm[i]
        for i, j in enumerate(perm):
            operation[3 * j : 3 * j + 3, 3 * i : 3 * i + 3] = rotation
        average += operation @ hessian @ operation.T
    return average / len(kept)


def faces_equivalent(slab: Atoms, symprec: float = SYMPREC_A) -> bool:
    """True when a symmetry operation of the slab turns it upside down (z -> -z).

    Such a slab carries no net dipole along its normal; one without needs a dipole correction.
    """
    symmetry = spglib.get_symmetry(_cell(slab), symprec=symprec)
    # the slab normal is the third cell vector (nanophase slabs: c along z, a and b in-plane)
    return any(rotation[2, 2] == -1 for rotation in symmetry["rotations"])


def fixed_atoms_symmetric(atoms: Atoms, symprec: float = SYMPREC_A) -> bool:
    """True when every symmetry operation maps the fixed atoms (FixAtoms) onto fixed atoms.

    Otherwise a relaxation breaks the symmetry the code detected from the positions alone (e.g. a
    slab fixed at its bottom plane only), and the code must not reduce k-points or forces by it.
    """
    fixed = fixed_indices(atoms)
    if not fixed:
        return True
    permutations = symmetry_permutations(atoms, symprec)
    return all(set(perm[fixed].tolist()) == set(fixed) for perm in permutations)


def primitive_cell(atoms: Atoms, symprec: float = SYMPREC_A) -> Atoms:
    """The primitive cell of a periodic crystal, in the same orientation (no rotation, no idealisation).

    Cell relaxations run in it: a k-point length then gives a denser mesh than in the conventional
    cell at the same cost, and the normal of a strained shell stays along z.
    """
    lattice, scaled, numbers = spglib.standardize_cell(_cell(atoms), to_primitive=True, no_idealize=True,
                                                       symprec=symprec)  # fmt: skip
    if len(numbers) == len(atoms):
        return atoms.copy()
    primitive = Atoms(numbers=numbers, cell=lattice, scaled_positions=scaled, pbc=True)
    primitive.info = dict(atoms.info)
    return primitive
