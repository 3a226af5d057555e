"""The normal of a strained cell from an energy-length fit, where the stress is not trusted.

A shell held at the substrate's in-plane lattice (task relax-c) must find the length of its normal that
minimises its energy. With a converged basis the stress does that (a cell filter on the zz component).
At a low plane-wave cutoff the analytic stress carries the Pulay error - the quick preset's reason to keep
the curated lattice (Cd hcp shrinks by 20 % at 200 eV) - while energies at a constant cutoff do not: the
standard remedy is to fit E(c) from single cells at a constant cutoff (G. P. Francis and M. C. Payne,
J. Phys.: Condens. Matter 2, 4395 (1990); VASP manual, "Energy vs volume calculations"). Here c is
scanned in steps of 3 % from the starting length downhill until the energy rises on both sides, a cubic
is fitted to the five points within two steps of the lowest one, and the cell
at the fitted minimum is computed once more: that calculation is the record, the scan its provenance -
unless a scan point came out lower. E(c) at a constant cutoff is not smooth (the plane-wave count changes
in steps with the cell: about 10-20 meV in a 2-atom cell at 200 eV), so the fitted cell can compute above
its neighbours; the lowest cell computed is then the better estimate of the minimum, and it is the record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms

from nanophase.calculators.records import CalcRecord, read_record, write_record

STEP = 0.03  # fractional change of the normal between scan points
MAX_POINTS = 14  # a start more than ~35 % off is a wrong structure, not a strain to scan
FIT_HALF_WIDTH = 2  # points within this many steps of the lowest enter the fit


class NormalScanFailed(RuntimeError):
    """The energy kept falling over the whole scan: no minimum to fit."""


@dataclass
class NormalFit:
    """Scan points (normal length, energy), the fitted minimum, and how far it lies from the start."""

    points: list[tuple[float, float]] = field(default_factory=list)
    c_start_a: float = 0.0
    c_fit_a: float = 0.0
    e_fit_ev: float = 0.0
    degree: int = 0

    def as_dict(self) -> dict:
        return {
            "method": "E(c) at constant cutoff, polynomial fit (stress not used)",
            "points": [[round(float(c), 5), float(e)] for c, e in sorted(self.points)],
            "c_start_a": round(float(self.c_start_a), 5),
            "c_fit_a": round(float(self.c_fit_a), 5),
            "fit_energy_ev": float(self.e_fit_ev),
            "fit_degree": self.degree,
            "change_from_start": round(float(self.c_fit_a / self.c_start_a - 1.0), 5),
        }


def with_normal(atoms: Atoms, factor: float) -> Atoms:
    """A copy with the cell's z components (the normal) scaled by `factor`, the in-plane lattice held."""
    scaled = atoms.copy()
    scaled.set_cell(atoms.cell.array @ np.diag([1.0, 1.0, factor]), scale_atoms=True)
    return scaled


def normal_length(atoms: Atoms) -> float:
    """Repeat length along z (the normal) of a cell whose first two vectors lie in the plane."""
    return float(abs(np.linalg.det(atoms.cell.array)) / np.linalg.norm(np.cross(*atoms.cell.array[:2])))


def fit_minimum(points: list[tuple[float, float]]) -> tuple[float, float, int]:
    """Minimum (factor, energy) of a polynomial through the points near the lowest one, and its degree."""
    factors, energies = (np.array(v) for v in zip(*sorted(points), strict=True))
    lowest = int(np.argmin(energies))
    near = np.abs(factors - factors[lowest]) <= FIT_HALF_WIDTH * STEP + 1e-9
    degree = 3 if near.sum() >= 5 else 2
    polynomial = np.polynomial.Polynomial.fit(factors[near], energies[near], degree)
    roots = [r.real for r in polynomial.deriv().roots() if abs(r.imag) < 1e-12]
    lo, hi = factors[lowest] - STEP, factors[lowest] + STEP
    minima = [r for r in roots if lo <= r <= hi and polynomial.deriv(2)(r) > 0]
    best = min(minima, key=polynomial) if minima else float(factors[lowest])
    return float(best), float(polynomial(best)), degree


def scan_normal(evaluate: Callable[[float], float]) -> tuple[float, float, int, list[tuple[float, float]]]:
    """Walk the normal's scale factor downhill from 1 in steps of STEP until bracketed, then fit.

    Raises:
        NormalScanFailed: no minimum within MAX_POINTS points.
    """
    energies = {1.0: evaluate(1.0), 1.0 + STEP: evaluate(1.0 + STEP)}
    direction = 1 if energies[1.0 + STEP] < energies[1.0] else -1
    if direction < 0:
        energies[1.0 - STEP] = evaluate(1.0 - STEP)
    bracketed = False
    while True:
        lowest = min(energies, key=energies.get)
        # first a neighbour on each side (bracketed), then two: five points for the cubic
        reach = range(1, FIT_HALF_WIDTH + 1) if bracketed else (1,)
        wanted = [round(lowest + sign * n * STEP, 6) for n in reach for sign in (-1, 1)]
        missing = [f for f in wanted if not any(abs(f - k) < 1e-6 for k in energies)]
        if not missing:
            if bracketed:
                break
            bracketed = True
            continue
        if len(energies) >= MAX_POINTS:
            raise NormalScanFailed(
                f"the energy still falls at {lowest:.2f} x the starting normal after {len(energies)} points"
            )
        for factor in missing:
            energies[factor] = evaluate(factor)
    factor, energy, degree = fit_minimum(list(energies.items()))
    return factor, energy, degree, sorted(energies.items())


def relax_normal_by_energy(
    atoms: Atoms,
    compute: Callable[[Atoms, Path, bool], tuple[CalcRecord, Atoms]],
    workdir: Path,
    c_start_a: float,
    is_writer: bool = True,
) -> tuple[CalcRecord, Atoms]:
    """Relax the normal of `atoms` (its cell's z components) by an E(c) scan; each point resumes from its
    own record, the fitted cell is computed once more and that is the record returned, or the lowest scan
    point where the fitted cell computed higher (extra.normal_fit says which).

    Args:
        compute: relaxes the positions (task "relax") of a cell in a folder and returns its record;
            its third argument is True for the scan's points, which hold the starting cell's k-point
            mesh (a mesh that changed along the scan would put a step into E(c)), False for the final
            cell, computed with the study's k-point rule like every other structure.
        c_start_a: the normal's length at scale 1 (of the conventional cell: scaling every z component
            by f scales it by f whatever primitive cell `atoms` is).
        is_writer: this process writes the point records (rank 0 under MPI; every rank computes).
    """
    scan_seconds = []

    def evaluate(factor: float) -> float:
        folder = workdir / f"c{factor:.4f}"
        path = folder / "record.json"
        if path.exists():
            record = read_record(path)
        else:
            record, _ = compute(with_normal(atoms, factor), folder, True)
            if is_writer:
                write_record(record, path)
        scan_seconds.append(record.wall_time_s)
        return record.energy_ev

    factor, energy, degree, points = scan_normal(evaluate)
    fitted, final = compute(with_normal(atoms, factor), workdir / "fitted", False)
    fit = NormalFit(
        points=[(f * c_start_a, e) for f, e in points],
        c_start_a=c_start_a,
        c_fit_a=factor * c_start_a,
        e_fit_ev=energy,
        degree=degree,
    )
    record, chosen, record_factor = fitted, "the fitted cell", factor
    lowest_factor, lowest_energy = min(points, key=lambda point: point[1])
    if lowest_energy < fitted.energy_ev:
        record_factor = lowest_factor
        # the point's relaxation resumes from its converged trajectory: its record and final structure again
        record, final = compute(with_normal(atoms, lowest_factor), workdir / f"c{lowest_factor:.4f}", True)
        chosen = (f"the scan point c = {lowest_factor * c_start_a:.5f} A: the fitted cell computed "
                  f"{1e3 * (fitted.energy_ev - record.energy_ev):.1f} meV higher")  # fmt: skip
    record.task = "relax-c"
    record.wall_time_s = fitted.wall_time_s + sum(scan_seconds)
    record.extra["normal_fit"] = {
        **fit.as_dict(),
        "fit_minus_computed_ev": energy - fitted.energy_ev,
        "fitted_cell_energy_ev": fitted.energy_ev,
        "record": chosen,
        "c_record_a": round(float(record_factor * c_start_a), 5),
    }
    return record, final
