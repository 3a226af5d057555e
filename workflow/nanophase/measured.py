"""Particles from measured atomic coordinates (electron tomography): checks, bond strain, precision."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ase import Atoms
from scipy.spatial import cKDTree

from nanophase.particles import (
    BULK_COORDINATION,
    ParticleSpec,
    bond_cutoff,
    bond_length_a,
    bonded_pairs,
    info_values,
)


def read_measured(spec: ParticleSpec, bulk: Atoms) -> Atoms:
    """A particle from a file of measured atomic positions (xyz, extxyz, CIF, PDB), checked.

    Args:
        spec: the `measured` particle (file, species for files without usable species).
        bulk: the ideal crystal the positions are compared with (bond length, coordination).

    Raises:
        ValueError: naming the atom, for a species that is not an element of `bulk` (or unknown), or
            for two atoms closer than half the bulk bond (overlapping or duplicated positions).
    """
    from ase.io import read

    atoms = read(spec.file)
    if spec.species is not None:
        atoms.set_chemical_symbols([spec.species] * len(atoms))
    allowed = set(bulk.get_chemical_symbols())
    for index, symbol in enumerate(atoms.get_chemical_symbols()):
        if symbol not in allowed:
            raise ValueError(
                f"particles.{spec.key}: {spec.file}: atom {index} is {symbol!r}, not an element of "
                f"{spec.bulk} ({sorted(allowed)}); set `species` if the file has none"
            )
    atoms = Atoms(atoms.get_chemical_symbols(), positions=atoms.positions - atoms.positions.mean(axis=0))
    bond = bond_length_a(bulk)
    distances, neighbours = cKDTree(atoms.positions).query(atoms.positions, k=2)
    close = int(np.argmin(distances[:, 1]))
    if distances[close, 1] < 0.5 * bond:
        raise ValueError(
            f"particles.{spec.key}: {spec.file}: atoms {close} and {int(neighbours[close, 1])} are "
            f"{distances[close, 1]:.3f} A apart, less than half the {spec.bulk} bond ({bond:.3f} A): "
            "overlapping or duplicated positions"
        )
    atoms.new_array("region", np.zeros(len(atoms), dtype=int))
    atoms.info.update(
        name=spec.name, family="particle", kind="measured", series=spec.key, source=spec.file,
        target_conversion=-1.0, lattices_a=f"{bulk.cell.lengths()[0]:.4f}", bonds_a=f"{bond:.4f}",
        coordination=str(BULK_COORDINATION[bulk.info["prototype"]]), precision_pm=spec.precision_pm,
        copies=spec.copies,
    )  # fmt: skip
    return atoms


def bond_strain(atoms: Atoms, bond_a: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-atom mean bond length (A) and bond strain (mean bond / ideal bond - 1).

    The bonds are the hetero-atomic neighbours (all neighbours for an element) within the bond cut-off.
    This is the isotropic part of the per-atom strain: the full tensor needs the ideal neighbour
    vectors of every atom, i.e. the particle's orientation, which this does not fit.
    """
    i, j = bonded_pairs(atoms.positions, bond_cutoff(bond_a))
    symbols = np.array(atoms.get_chemical_symbols())
    keep = symbols[i] != symbols[j] if len(set(symbols)) > 1 else np.ones(len(i), bool)
    i, j = i[keep], j[keep]
    lengths = np.linalg.norm(atoms.positions[i] - atoms.positions[j], axis=1)
    totals = np.bincount(
        np.concatenate([i, j]), weights=np.concatenate([lengths, lengths]), minlength=len(atoms)
    )
    counts = np.bincount(np.concatenate([i, j]), minlength=len(atoms))
    mean = np.divide(totals, counts, out=np.full(len(atoms), np.nan), where=counts > 0)
    return mean, mean / bond_a - 1


def perturbed_copies(atoms: Atoms, precision_pm: float, copies: int, seed: int = 0) -> list[Atoms]:
    """Copies of a measured particle with every position moved at random within the precision.

    Gaussian, sigma = precision / sqrt(3) per Cartesian component: a 3D rms displacement equal to the
    stated precision (tomography papers quote the 3D precision).
    """
    rng = np.random.default_rng(seed)
    sigma_a = precision_pm / 100 / np.sqrt(3)
    out = []
    for _ in range(copies):
        copy = atoms.copy()
        copy.positions = atoms.positions + rng.normal(0.0, sigma_a, atoms.positions.shape)
        out.append(copy)
    return out


def _cubic_axes(atoms: Atoms, lattice_a: float) -> np.ndarray:
    """Rotation R (columns: the crystal's cube axes in the lab frame) of a cubic particle.

    The like-atom neighbours of the atom nearest the centre lie along <110> at a/sqrt(2): two of them
    at 90 degrees give two face diagonals and hence the cube axes (which of the equivalent cubic
    settings comes out does not matter for a strain tensor). Refined by Kabsch superposition of every
    like-atom neighbour vector of the particle on its nearest ideal <110> vector.
    """
    symbols = np.array(atoms.get_chemical_symbols())
    centre = int(np.argmin(np.linalg.norm(atoms.positions - atoms.positions.mean(axis=0), axis=1)))
    like = np.nonzero(symbols == symbols[centre])[0]
    shell = lattice_a / np.sqrt(2)
    vectors = atoms.positions[like] - atoms.positions[centre]
    vectors = vectors[np.abs(np.linalg.norm(vectors, axis=1) - shell) < 0.15 * shell]
    units = vectors / np.linalg.norm(vectors, axis=1)[:, None]
    i, j = np.unravel_index(np.argmin(np.abs(units @ units.T)), (len(units), len(units)))
    x, y = units[i] + units[j], units[i] - units[j]
    x, y = x / np.linalg.norm(x), y / np.linalg.norm(y)
    rotation = np.column_stack([x, y, np.cross(x, y)])
    pairs_i, pairs_j = bonded_pairs(atoms.positions, 1.15 * shell)
    same = (symbols[pairs_i] == symbols[pairs_j]) & (
        np.abs(np.linalg.norm(atoms.positions[pairs_j] - atoms.positions[pairs_i], axis=1) - shell)
        < 0.15 * shell
    )
    measured = atoms.positions[pairs_j[same]] - atoms.positions[pairs_i[same]]
    for _ in range(3):
        ideal = rotation @ (np.rint((measured @ rotation) / (lattice_a / 2)) * (lattice_a / 2)).T
        u, _, vt = np.linalg.svd(ideal @ measured)
        rotation = (u @ np.diag([1, 1, np.linalg.det(u @ vt)]) @ vt).T @ rotation
    return rotation


def strain_tensors(atoms: Atoms, lattice_a: float) -> np.ndarray:
    """Per-atom small-strain tensors (N, 3, 3) against the ideal cubic lattice of parameter lattice_a.

    Each atom's deformation gradient F maps the ideal vectors to its neighbours (the nearest vectors of
    the a/4 grid, in the particle's fitted orientation: rock salt and zinc blende sites both lie on it)
    onto the measured ones, by least squares over every neighbour within 1.15 a/sqrt(2) (the first two
    shells); eps = (F + F^T)/2 - 1. Atoms with fewer than four non-coplanar neighbours get NaN.
    """
    rotation = _cubic_axes(atoms, lattice_a)
    grid = lattice_a / 4
    i, j = bonded_pairs(atoms.positions, 1.15 * lattice_a / np.sqrt(2))
    first = np.concatenate([i, j])
    second = np.concatenate([j, i])
    measured = atoms.positions[second] - atoms.positions[first]
    ideal = (np.rint((measured @ rotation) / grid) * grid) @ rotation.T
    md = np.zeros((len(atoms), 3, 3))
    dd = np.zeros((len(atoms), 3, 3))
    np.add.at(md, first, np.einsum("ni,nj->nij", measured, ideal))
    np.add.at(dd, first, np.einsum("ni,nj->nij", ideal, ideal))
    counts = np.bincount(first, minlength=len(atoms))
    strain = np.full((len(atoms), 3, 3), np.nan)
    for k in np.nonzero(counts >= 4)[0]:
        if np.linalg.matrix_rank(dd[k], tol=1e-6 * lattice_a**2) < 3:
            continue
        gradient = md[k] @ np.linalg.inv(dd[k])
        strain[k] = (gradient + gradient.T) / 2 - np.eye(3)
    return strain


def strain_profile(atoms: Atoms, shell_width_a: float = 2.5, copies: list[Atoms] = ()) -> pd.DataFrame:
    """Bond length and bond strain against distance from the centre, in radial shells.

    With perturbed copies, the spread (standard deviation over the copies) of each shell's mean strain.
    """
    bond = max(info_values(atoms, "bonds_a"))
    radii = np.linalg.norm(atoms.positions - atoms.positions.mean(axis=0), axis=1)
    edges = np.arange(0.0, radii.max() + shell_width_a, shell_width_a)
    index = np.digitize(radii, edges) - 1

    lattice_a = info_values(atoms, "lattices_a")[0]

    def shell_means(particle: Atoms) -> np.ndarray:
        _, strain = bond_strain(particle, bond)
        volumetric = np.trace(strain_tensors(particle, lattice_a), axis1=1, axis2=2)
        return np.array(
            [
                [
                    np.nanmean(values[index == k]) if (index == k).any() else np.nan
                    for k in range(len(edges) - 1)
                ]
                for values in (strain, volumetric)
            ]
        )

    mean_bond, strain = bond_strain(atoms, bond)
    tensors = strain_tensors(atoms, lattice_a)
    volumetric = np.trace(tensors, axis1=1, axis2=2)
    directions = (atoms.positions - atoms.positions.mean(axis=0)) / np.maximum(radii, 1e-9)[:, None]
    radial = np.einsum("ni,nij,nj->n", directions, tensors, directions)
    spread = (
        np.nanstd([shell_means(c) for c in copies], axis=0)
        if copies
        else np.full((2, len(edges) - 1), np.nan)
    )
    rows = []
    for k in range(len(edges) - 1):
        mask = index == k
        if not mask.any():
            continue
        rows.append({
            "particle": atoms.info["name"],
            "r from (A)": edges[k],
            "r to (A)": edges[k + 1],
            "atoms": int(mask.sum()),
            "mean bond (A)": float(np.nanmean(mean_bond[mask])),
            "bond strain (%)": 100 * float(np.nanmean(strain[mask])),
            "strain std over atoms (%)": 100 * float(np.nanstd(strain[mask])),
            "strain spread over copies (%)": 100 * float(spread[0, k]),
            "volumetric strain (%)": 100 * float(np.nanmean(volumetric[mask])),
            "volumetric strain spread over copies (%)": 100 * float(spread[1, k]),
            "radial strain (%)": 100 * float(np.nanmean(radial[mask])),
        })  # fmt: skip
    return pd.DataFrame(rows)
