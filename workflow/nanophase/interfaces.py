"""PbS(100) / rock-salt CdS / zinc blende CdS stacks on one shared anion (S) sublattice."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np
from ase import Atoms
from ase.constraints import FixAtoms

from nanophase.bulk import cation_anion, reduced_formula
from nanophase.layers import FACES, Plane, assemble_slab, cut_planes, in_plane_area_a2, middle_layers


@dataclass(frozen=True)
class StackSettings:
    """One substrate/shell stack.

    Attributes:
        substrate_layers: (100) planes of the rock-salt substrate (each holds cations and anions).
        n_rocksalt: shell monolayers in the rock-salt structure, directly on the substrate.
        n_zincblende: shell monolayers in the zinc blende structure, on top of the rock-salt ones.
        faces: "top" (one face decorated; polar) or "both" (mirror images, no net dipole).
        supercell: in-plane repetitions of the conventional a x a (100) cell.
        vacuum_a: gap between periodic images along the normal, angstrom.
        fixed: "middle" (central substrate plane(s)), "none", or layer indices (0 = bottom).
    """

    substrate_layers: int = 5
    n_rocksalt: int = 0
    n_zincblende: int = 0
    faces: str = "both"
    supercell: tuple[int, int] = (1, 1)
    vacuum_a: float = 15.0
    fixed: str | tuple[int, ...] = "none"

    def __post_init__(self) -> None:
        if self.substrate_layers < 1:
            raise ValueError(f"substrate_layers: must be >= 1, got {self.substrate_layers}")
        if self.n_rocksalt < 0 or self.n_zincblende < 0:
            raise ValueError("rocksalt_monolayers / zincblende_monolayers: must be >= 0")
        if self.faces not in FACES:
            raise ValueError(f"faces: {self.faces!r} is not one of {list(FACES)}")
        if len(self.supercell) != 2 or any(int(n) != n or n < 1 for n in self.supercell):
            raise ValueError(f"supercell: must be two positive integers, got {list(self.supercell)}")
        if self.vacuum_a <= 0:
            raise ValueError(f"vacuum_a: must be > 0 angstrom, got {self.vacuum_a}")
        if isinstance(self.fixed, str) and self.fixed not in ("middle", "none"):
            raise ValueError(f"fixed: {self.fixed!r} is not one of ['middle', 'none'] or a list")

    @property
    def decorated_faces(self) -> int:
        return 0 if self.n_rocksalt + self.n_zincblende == 0 else (2 if self.faces == "both" else 1)

    @property
    def n_layers(self) -> int:
        """Atomic planes: substrate planes, one per rock-salt monolayer, two per zinc blende one."""
        return self.substrate_layers + self.decorated_faces * (self.n_rocksalt + 2 * self.n_zincblende)

    def name(self, substrate: str, shell: str) -> str:
        """E.g. PbS-100-5L-1x1 (bare) or PbS-100-5L-1x1_rsCdS2-zbCdS1-both."""
        n1, n2 = self.supercell
        base = f"{substrate}-100-{self.substrate_layers}L-{n1}x{n2}"
        if self.decorated_faces == 0:
            return base
        return f"{base}_rs{shell}{self.n_rocksalt}-zb{shell}{self.n_zincblende}-{self.faces}"


def stack_settings_from_config(cfg: dict) -> list[StackSettings]:
    """Every stack of the config's `interfaces` block, on every configured face choice: the listed
    `stacks` ([n_rs, n_zb] pairs) or else all rocksalt_monolayers x zincblende_monolayers combinations.

    The bare substrate (0, 0) appears once, whatever the faces, and always: every interface energy
    is taken against it.
    """
    fixed = cfg.get("fixed", "none")
    stacks: dict[tuple[int, int, str], StackSettings] = {}
    pairs = cfg.get("stacks") or list(product(cfg["rocksalt_monolayers"], cfg["zincblende_monolayers"]))
    combos = [(n_rs, n_zb, faces) for n_rs, n_zb in [(0, 0), *pairs] for faces in cfg["faces"]]
    for n_rs, n_zb, faces in combos:
        faces = faces if n_rs + n_zb else "both"
        stacks[(n_rs, n_zb, faces)] = StackSettings(
            substrate_layers=int(cfg["substrate_layers"]),
            n_rocksalt=int(n_rs),
            n_zincblende=int(n_zb),
            faces=faces,
            supercell=tuple(cfg["supercell"]),
            vacuum_a=float(cfg["vacuum_a"]),
            fixed=fixed if isinstance(fixed, str) else tuple(fixed),
        )
    return sorted(stacks.values(), key=lambda s: (s.faces != "both", s.n_rocksalt, s.n_zincblende))


def _with_cation(plane: Plane, old: str, new: str) -> Plane:
    return Plane(tuple(new if s == old else s for s in plane.symbols), plane.xy, plane.height_a)


def _anions(plane: Plane, anion: str) -> Plane:
    mask = np.array(plane.symbols) == anion
    return Plane(tuple(np.array(plane.symbols)[mask].tolist()), plane.xy[mask], plane.height_a)


def _tetrahedral_cations(anion_plane: Plane, cation: str, a: float, cell_2d: np.ndarray) -> Plane:
    """Zinc blende cations above an anion plane, at anion + a(1/4, 1/4, 1/4).

    Taking every cation at anion + a(1/4, 1/4, 1/4) from the anion plane below it puts the shell on
    one zinc blende lattice that shares the substrate's fcc anion sublattice, above and below.
    """
    shift = np.array([a / 4, a / 4])
    xy = anion_plane.xy + shift
    frac = np.linalg.solve(cell_2d.T, xy.T).T % 1.0
    return Plane((cation,) * len(xy), frac @ cell_2d, anion_plane.height_a + a / 4)


def build_stack(substrate_bulk: Atoms, shell_cation: str, settings: StackSettings) -> Atoms:
    """A rock-salt (100) substrate slab covered with rock-salt then zinc blende shell monolayers.

    All anions sit on the substrate's fcc anion sublattice (commensurate, in-plane lattice of the
    substrate). A rock-salt shell monolayer is the next substrate plane with the cation exchanged;
    a zinc blende monolayer is a cation plane on tetrahedral sites plus the next anion plane.

    Args:
        substrate_bulk: conventional rock-salt cell of the substrate (e.g. relaxed PbS).
        shell_cation: cation of the shell compound (Cd).
        settings: stack geometry.
    """
    if substrate_bulk.info.get("prototype", "rocksalt") != "rocksalt":
        raise ValueError(f"substrate: must be rock salt, got {substrate_bulk.info['prototype']}")
    cation, anion = cation_anion(substrate_bulk.get_chemical_symbols())
    a = float(substrate_bulk.cell.cellpar()[0])
    stack = cut_planes(substrate_bulk, "rocksalt", "100", settings.supercell)
    n_sub = settings.substrate_layers

    planes = [stack.plane(i) for i in range(n_sub)]
    faces = [+1] if settings.faces == "top" else [+1, -1]
    if settings.decorated_faces == 0:
        faces = []
    for direction in faces:
        index = n_sub - 1 if direction > 0 else 0
        added: list[Plane] = []
        for _ in range(settings.n_rocksalt):
            index += direction
            added.append(_with_cation(stack.plane(index), cation, shell_cation))
        for _ in range(settings.n_zincblende):
            # the cation goes a/4 above the lower anion plane of the pair
            lower = _anions(stack.plane(index if direction > 0 else index - 1), anion)
            added.append(_tetrahedral_cations(lower, shell_cation, a, stack.cell_2d))
            index += direction
            added.append(_anions(stack.plane(index), anion))
        planes += added
    planes.sort(key=lambda p: p.height_a)

    atoms = assemble_slab(planes, stack.cell_2d, settings.vacuum_a)
    offset = settings.n_rocksalt + 2 * settings.n_zincblende if settings.faces == "both" else 0
    substrate_layers = list(range(offset, offset + n_sub)) if settings.decorated_faces else list(range(n_sub))
    if settings.fixed == "middle":
        fixed_layers = tuple(substrate_layers[i] for i in middle_layers(n_sub))
    elif settings.fixed == "none":
        fixed_layers = ()
    else:
        fixed_layers = tuple(settings.fixed)
    fixed = [i for i, layer in enumerate(atoms.get_array("layer")) if layer in fixed_layers]
    if fixed:
        atoms.set_constraint(FixAtoms(indices=fixed))
    shell = reduced_formula(Atoms(f"{shell_cation}{anion}"))
    substrate = reduced_formula(substrate_bulk)
    bare = StackSettings(n_sub, 0, 0, supercell=settings.supercell, vacuum_a=settings.vacuum_a)
    parent = (
        substrate_bulk.info.get("name", substrate)
        if settings.decorated_faces == 0
        else bare.name(substrate, shell)
    )
    atoms.info.update(
        {
            "name": settings.name(substrate, shell),
            "family": "interface",
            "parent": parent,
            "phase": "rocksalt",
            "surface": "100",
            "n_layers": settings.n_layers,
            "substrate_layers": n_sub,
            "n_rocksalt": settings.n_rocksalt,
            "n_zincblende": settings.n_zincblende,
            "faces": settings.faces if settings.decorated_faces else "none",
            "supercell": f"{settings.supercell[0]}x{settings.supercell[1]}",
            "vacuum_a": settings.vacuum_a,
            "fixed_layers": ",".join(str(i) for i in fixed_layers) or "none",
            "area_a2": in_plane_area_a2(atoms),
            "bulk": substrate_bulk.info.get("name", substrate),
            "bulk_a": a,
        }
    )
    return atoms


def strained_bulk(shell_bulk: Atoms, substrate_bulk: Atoms, name: str) -> Atoms:
    """The shell's conventional cubic cell held at the substrate's in-plane lattice constant.

    The normal starts at the length that keeps the volume (the relaxation, task relax-c, finds its
    minimum): E(strained) - E(bulk) per formula unit is the shell's biaxial strain energy in a stack.
    """
    a_shell, b_shell, c_shell, *angles = shell_bulk.cell.cellpar()
    if not (np.allclose([a_shell, b_shell], c_shell, atol=1e-3) and np.allclose(angles, 90.0, atol=1e-3)):
        raise ValueError(
            f"{name}: the shell's conventional cell must be cubic, got {shell_bulk.cell.cellpar()}"
        )
    a_substrate = float(substrate_bulk.cell.cellpar()[0])
    c_start = a_shell**3 / a_substrate**2
    atoms = shell_bulk.copy()
    atoms.set_cell(np.diag([a_substrate, a_substrate, c_start]), scale_atoms=True)
    atoms.info = {
        "name": name,
        "family": "strained",
        "bulk": shell_bulk.info.get("name", reduced_formula(shell_bulk)),
        "phase": shell_bulk.info.get("prototype", ""),
        "prototype": shell_bulk.info.get("prototype", ""),
        "in_plane_a": a_substrate,
        "strain": (a_substrate - a_shell) / a_shell,
    }
    return atoms
