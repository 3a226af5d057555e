"""Calculation settings: what a DFT run uses, presets, and the fingerprint that guards subtractions."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
from ase import Atoms

from nanophase.symmetry import faces_equivalent

# Ground-state spin moments of the free atoms (Hund's rules), muB: Se/S p4 and Pb p2 -> 2, Cd d10s2 -> 0.
HUND_MOMENTS_MU_B = {"Se": 2.0, "S": 2.0, "Pb": 2.0, "Cd": 0.0}

MODES = ("pw", "lcao")
SMEARINGS = ("gaussian", "fermi-dirac")
POLICIES = ("auto", "on", "off")
OPTIMIZERS = ("BFGS", "FIRE")
MLIP_MODELS = ("chgnet", "sevenn")
PRERELAX = ("none", *MLIP_MODELS)

# Fields whose values must be identical for two energies to be subtracted. Force tolerance, step
# limits, the optimiser and the launcher change how a minimum is reached, not the energy surface.
PHYSICS_FIELDS = (
    "functional",
    "mode",
    "encut_ev",
    "basis",
    "grid_spacing_a",
    "smearing",
    "smearing_ev",
    "kpoint_length_a",  # one k-point density for every structure: sampling errors cancel in differences
    "spin",
    "dipole_correction",
    "relax_cell",  # which lattice the references sit at: relaxed or the curated (experimental) one
)

# How a mesh is placed, part of every DFT record's physics: the Monkhorst-Pack grid (odd subdivisions
# contain Gamma, even ones lie half a spacing off, as VASP's "Monkhorst" KPOINTS), Gamma-centred on
# hexagonal nets. Earlier versions handed GPAW gamma=False, which ASE reads as "shift Gamma out" and so
# placed odd meshes off Gamma where VASP keeps it: records made that way carry no such entry.
KPOINT_GRID = "Monkhorst-Pack, Gamma-centred on hexagonal nets"


@dataclass(frozen=True)
class CalcSettings:
    """Settings of one DFT calculation, units in the names.

    Attributes:
        functional: exchange-correlation functional (PBE).
        mode: "pw" (plane waves, encut_ev) or "lcao" (GPAW only, basis + grid_spacing_a).
        encut_ev: plane-wave cutoff, eV.
        basis: LCAO basis set name (dzp).
        grid_spacing_a: real-space grid spacing of LCAO mode, angstrom.
        smearing: "gaussian" or "fermi-dirac"; smearing_ev its width, eV.
        scf_energy_tol_ev: electronic convergence, eV (VASP EDIFF; GPAW energy criterion).
        fmax_ev_per_a: relaxation stops when every free force is below this, eV/angstrom.
        kpoint_length_a: Gamma-centred mesh with n_i = max(1, ceil(L / |a_i|)) along periodic
            directions (1 along vacuum): the k-point density (spacing 2 pi / L per direction), one for
            every structure of a study - bulk references, slabs, stacks - so that the sampling errors of
            the terms of an energy difference are those of one density (the fingerprint holds it).
            L = 44 A gives the study's 4x3x1 (wz) and 4x4x1 (zb) meshes.
        spin: "auto" spin-polarises isolated atoms only (with their Hund's-rule moment), "on", "off".
        dipole_correction: "auto" for slabs whose two faces are not symmetry-equivalent, "on", "off".
        max_steps: ionic steps before a relaxation is recorded as unconverged.
        optimizer: ASE optimiser of GPAW relaxations (BFGS, FIRE).
        scf_max_iterations: SCF iterations of the first attempt (the recovery ladder raises it).
        mlip_model: the machine-learned potential of the mlip backend (chgnet, sevenn = SevenNet-0).
        prerelax: "none", or a potential that relaxes a structure before the DFT relaxation starts
            from its geometry (same constraints and task); the DFT energy alone is recorded.
        prerelax_hessian: with prerelax, a GPAW BFGS relaxation of positions starts from the
            potential's Hessian at its minimum instead of BFGS's uniform 70 eV/A^2 guess.
        relax_cell: bulk references relax their cell (relax-cell) and strained shells their normal
            (relax-c). False keeps the curated lattice for every structure (positions still relax):
            for low cutoffs, whose stress (Pulay error) would shrink the cells.
    """

    functional: str = "PBE"
    mode: str = "pw"
    encut_ev: float = 400.0
    basis: str = "dzp"
    grid_spacing_a: float = 0.2
    smearing: str = "gaussian"
    smearing_ev: float = 0.1
    scf_energy_tol_ev: float = 1e-5
    fmax_ev_per_a: float = 0.01
    kpoint_length_a: float = 44.0
    spin: str = "auto"
    dipole_correction: str = "auto"
    max_steps: int = 200
    optimizer: str = "BFGS"
    scf_max_iterations: int = 300
    mlip_model: str = "chgnet"
    prerelax: str = "none"
    prerelax_hessian: bool = True
    relax_cell: bool = True

    def __post_init__(self) -> None:
        choices = {
            "mode": MODES,
            "smearing": SMEARINGS,
            "spin": POLICIES,
            "dipole_correction": POLICIES,
            "optimizer": OPTIMIZERS,
            "mlip_model": MLIP_MODELS,
            "prerelax": PRERELAX,
        }
        for key, allowed in choices.items():
            if getattr(self, key) not in allowed:
                raise ValueError(f"{key}: {getattr(self, key)!r} is not one of {list(allowed)}")
        positive = (
            "encut_ev",
            "grid_spacing_a",
            "smearing_ev",
            "scf_energy_tol_ev",
            "fmax_ev_per_a",
            "kpoint_length_a",
            "max_steps",
            "scf_max_iterations",
        )
        for key in positive:
            if not getattr(self, key) > 0:
                raise ValueError(f"{key}: must be > 0, got {getattr(self, key)}")

    @classmethod
    def from_config(cls, cfg: dict) -> CalcSettings:
        """Settings from the config's `calculator` block: a preset, then explicit overrides."""
        preset = PRESETS[cfg.get("preset", "quick")]
        overrides = {f.name: cfg[f.name] for f in fields(cls) if f.name in cfg}
        return replace(preset, **overrides)

    def physics(self, code: str) -> dict:
        """The settings that decide the energy surface, with the code that computes it."""
        if code in MLIP_MODELS:
            # a potential's energy surface is the model (weights ship with the package version)
            return {"code": code}
        values = {key: getattr(self, key) for key in PHYSICS_FIELDS} | {"kpoint_grid": KPOINT_GRID}
        if self.mode == "pw":
            values.pop("basis"), values.pop("grid_spacing_a")
        else:
            values.pop("encut_ev")
        return {"code": code, **values}

    def fingerprint(self, code: str) -> str:
        """Short hash of physics(code): equal fingerprints <=> energies may be subtracted."""
        text = json.dumps(self.physics(code), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS = {
    # the published set-up (../shared/science.md): PAW-PBE, 400 eV, Gaussian 0.1 eV, 1e-5 eV, 0.01 eV/A
    "paper": CalcSettings(),
    # laptop: 200 eV, 0.15 eV/A, and one k-point density for everything, L = 11.5 A (spacing 2 pi / L =
    # 0.55 1/A, about VASP's default KSPACING of 0.5): 2x2x1 (Monkhorst-Pack) in the 6-7.5 A slab and
    # stack cells, 3x3x3 in the bulk primitive cells, so every structure is sampled over a 12-17 A
    # supercell. Coarser rules do not give one density: at L = 5.9 A the 5.94 A PbS slab cell has the
    # Gamma point alone (5.9 A) and the 4.2 A bulk cell 2x2x2 (8.4 A), and the PbS surface energy came
    # out at -227 meV/A^2. The Gamma point alone against a 6x6x6 bulk (earlier versions) is worse.
    # At 200 eV the stress is dominated by the basis-set (Pulay) error - Cd hcp shrinks by 20 % - so every
    # structure keeps the curated (experimental) lattice: consistent, never mixed with a relaxed one.
    "quick": CalcSettings(
        encut_ev=200.0,
        scf_energy_tol_ev=1e-4,
        fmax_ev_per_a=0.15,
        kpoint_length_a=11.5,
        max_steps=150,
        relax_cell=False,
    ),
}


def periodic_directions(atoms: Atoms, vacuum_gap_a: float = 5.0) -> list[bool]:
    """Which cell directions are truly periodic: a gap of vacuum >= vacuum_gap_a means not."""
    scaled = atoms.get_scaled_positions(wrap=True)
    periodic = []
    for axis in range(3):
        coords = np.sort(scaled[:, axis])
        gaps = np.diff(np.concatenate([coords, [coords[0] + 1.0]]))
        periodic.append(bool(gaps.max() * atoms.cell.lengths()[axis] < vacuum_gap_a))
    return periodic


def kpoint_mesh(atoms: Atoms, kpoint_length_a: float) -> tuple[int, int, int]:
    """Mesh size: ceil(L/|a_i|) along periodic directions, 1 along vacuum (kpoint_style places it)."""
    lengths = atoms.cell.lengths()
    return tuple(
        max(1, math.ceil(kpoint_length_a / length - 1e-9)) if periodic else 1
        for length, periodic in zip(lengths, periodic_directions(atoms), strict=True)
    )


def hexagonal_net(atoms: Atoms, tolerance_deg: float = 1.0) -> bool:
    """Whether two cell vectors of equal length meet at 60 or 120 degrees with the third perpendicular to
    both: a hexagonal lattice, or a slab on a hexagonal net (c or the normal as the third vector).

    An angle near 60 or 120 degrees alone is not enough: the primitive cells of fcc (60, 60, 60) and of
    a tetragonally strained zinc blende shell (~120, ~120, ~90, depending on its normal) have such angles
    without the six-fold axis, and a rule on angles alone changed the strained shell's mesh as its
    normal moved (0.2 eV per formula unit between two starts of one E(c) scan).
    """
    lengths, angles = atoms.cell.lengths(), atoms.cell.angles()  # angles: (b,c), (a,c), (a,b)
    for first, second, third in ((0, 1, 2), (0, 2, 1), (1, 2, 0)):
        in_plane = angles[third]
        perpendicular = (angles[first], angles[second])  # each in-plane vector against the third
        if (
            abs(lengths[first] - lengths[second]) <= 1e-3 * lengths[first]
            and min(abs(in_plane - 60.0), abs(in_plane - 120.0)) < tolerance_deg
            and all(abs(angle - 90.0) < tolerance_deg for angle in perpendicular)
        ):
            return True
    return False


def kpoint_style(atoms: Atoms, mesh: tuple[int, int, int]) -> tuple[str, str]:
    """Monkhorst-Pack (the study's choice, and for even meshes the better sampling: a 2x2 slab mesh has
    two irreducible points instead of four), unless the mesh needs Gamma-centring; and why. Both codes
    use it, so that GPAW and VASP sample the same points."""
    if all(n == 1 for n in mesh):
        return "Gamma", "Gamma point only"
    if hexagonal_net(atoms):
        return "Gamma", "Gamma-centred: hexagonal lattice (an even Monkhorst-Pack mesh breaks its symmetry)"
    return "Monkhorst", "Monkhorst-Pack, as in the study"


def sampling_lengths(atoms: Atoms, mesh: tuple[int, int, int]) -> list[float]:
    """n_i |a_i| along each periodic direction (0 along vacuum): the supercell the mesh is equivalent to.

    The meshes of one k-point length give sampling lengths between L and L + |a_i| (the ceiling); a
    record reports them so that a reader sees the density each energy was sampled at.
    """
    periodic = periodic_directions(atoms)
    return [
        round(float(n * length), 2) if p else 0.0
        for n, length, p in zip(mesh, atoms.cell.lengths(), periodic, strict=True)
    ]


def structure_kind(atoms: Atoms) -> str:
    """ "bulk" (periodic in 3D), "slab" (vacuum along z) or "atom" (one atom in a box)."""
    periodic = periodic_directions(atoms)
    if all(periodic):
        return "bulk"
    if len(atoms) == 1 and not any(periodic):
        return "atom"
    return "slab"


def spin_polarised(atoms: Atoms, settings: CalcSettings) -> bool:
    return settings.spin == "on" or (settings.spin == "auto" and structure_kind(atoms) == "atom")


def needs_dipole_correction(atoms: Atoms, settings: CalcSettings) -> bool:
    if settings.dipole_correction != "auto" or structure_kind(atoms) != "slab":
        return settings.dipole_correction == "on" and structure_kind(atoms) == "slab"
    return not faces_equivalent(atoms)
