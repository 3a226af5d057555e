"""Atomic planes of a bulk crystal along a surface normal, and slabs assembled from them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.build import make_supercell
from ase.constraints import FixAtoms

# Atoms whose heights along the normal differ by less than this belong to one plane. Planes of the
# structures built here are >= 1.4 A apart; relaxed inputs are still ideal bulk, so 0.3 A is safe.
PLANE_TOLERANCE_A = 0.3

# Which faces of a slab a vacancy series or a shell decorates: the top one, or both (symmetric).
FACES = ("top", "both")

# In-plane vectors u, v and a stacking vector w (rows), in conventional-cell coordinates, of each
# supported surface. u x v points along +w's normal component.
SURFACE_CUTS: dict[tuple[str, str], tuple[tuple[int, int, int], ...]] = {
    # (11-20), a-plane: in-plane [0001] and [1-100]; consecutive planes a/2 apart, each holds Cd and Se.
    ("wurtzite", "11-20"): ((0, 0, 1), (1, -1, 0), (1, 0, 0)),
    # (001): cation and anion planes alternate, a/4 apart.
    ("zincblende", "001"): ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    # (100): mixed cation + anion planes, a/2 apart.
    ("rocksalt", "100"): ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
}


@dataclass(frozen=True, eq=False)
class Plane:
    """One atomic plane: species, in-plane Cartesian positions (N x 2) and height along the normal."""

    symbols: tuple[str, ...]
    xy: np.ndarray
    height_a: float

    @property
    def species(self) -> frozenset[str]:
        return frozenset(self.symbols)


@dataclass(frozen=True, eq=False)
class PlaneStack:
    """The planes of one repeat period of a crystal cut along a surface, in a frame with z = normal."""

    cell_2d: np.ndarray  # rows: in-plane cell vectors (x, y), 2 x 2
    planes: tuple[Plane, ...]
    period_a: float
    period_shift_2d: np.ndarray  # in-plane component of the stacking vector (x, y)

    def plane(self, index: int) -> Plane:
        """Plane `index` counted from the bottom of period 0; indices run on over periods."""
        base = self.planes[index % len(self.planes)]
        periods = index // len(self.planes)
        return Plane(
            base.symbols, base.xy + periods * self.period_shift_2d, base.height_a + periods * self.period_a
        )


def cut_planes(bulk: Atoms, phase: str, surface: str, supercell: tuple[int, int] = (1, 1)) -> PlaneStack:
    """Cut a conventional bulk cell into the atomic planes parallel to `surface`.

    Args:
        bulk: conventional standard cell (see nanophase.bulk.read_bulk); its lattice is used as is.
        phase: structure type, a key of SURFACE_CUTS together with `surface`.
        surface: Miller(-Bravais) indices without parentheses, e.g. "11-20".
        supercell: in-plane repetitions of the surface cell.
    """
    try:
        rows = np.array(SURFACE_CUTS[(phase, surface)])
    except KeyError:
        allowed = ", ".join(f"{p} {s}" for p, s in SURFACE_CUTS)
        raise ValueError(f"surface {surface} of {phase} is not supported (supported: {allowed})") from None
    rows = rows * np.array([[supercell[0]], [supercell[1]], [1]])
    u, v, w = rows @ bulk.cell.array
    if np.dot(np.cross(u, v), w) < 0:  # keep the frame right-handed with the normal pointing up
        rows[1] *= -1
        v = -v
    oriented = make_supercell(bulk, rows, wrap=True)

    normal = np.cross(u, v)
    normal /= np.linalg.norm(normal)
    e1 = u / np.linalg.norm(u)
    e2 = np.cross(normal, e1)
    frame = np.array([e1, e2, normal])

    period = float(np.dot(w, normal))
    frac_w = oriented.get_scaled_positions(wrap=True)[:, 2]
    frac_w[frac_w > 1 - 1e-6] -= 1.0
    heights = frac_w * period
    cell_2d = np.array([u @ frame.T, v @ frame.T])[:, :2]
    # in-plane fractional coordinates, wrapped into the surface cell; rounded so that the order of
    # atoms below is the same for the experimental and a relaxed lattice
    frac_2d = np.linalg.solve(cell_2d.T, (oriented.positions @ frame.T)[:, :2].T).T % 1.0
    frac_2d[np.isclose(frac_2d, 1.0, atol=1e-9)] = 0.0
    xy = frac_2d @ cell_2d
    sort_key = np.round(frac_2d, 4) % 1.0
    symbols = np.array(oriented.get_chemical_symbols())

    order = np.argsort(heights, kind="stable")
    planes: list[Plane] = []
    start = 0
    for end in range(1, len(order) + 1):
        if end == len(order) or heights[order[end]] - heights[order[end - 1]] > PLANE_TOLERANCE_A:
            members = order[start:end]
            # atoms of one plane sorted by species then position: a fixed, lattice-independent order
            members = members[np.lexsort((sort_key[members, 1], sort_key[members, 0], symbols[members]))]
            planes.append(
                Plane(
                    tuple(str(s) for s in symbols[members]),
                    xy[members].copy(),
                    float(np.mean(heights[members])),
                )
            )
            start = end
    return PlaneStack(
        cell_2d=cell_2d, planes=tuple(planes), period_a=period, period_shift_2d=(w @ frame.T)[:2]
    )


def assemble_slab(planes: list[Plane], cell_2d: np.ndarray, vacuum_a: float) -> Atoms:
    """Atoms of the given planes (bottom to top) in a cell with `vacuum_a` between periodic images.

    Each atom carries its plane index in the per-atom array "layer" (0 = bottom).
    """
    heights = [p.height_a for p in planes]
    bottom, top = min(heights), max(heights)
    thickness = top - bottom
    cell = np.zeros((3, 3))
    cell[:2, :2] = cell_2d
    cell[2, 2] = thickness + vacuum_a
    symbols: list[str] = []
    positions: list[np.ndarray] = []
    layer: list[int] = []
    for index, plane in enumerate(planes):
        z = plane.height_a - bottom + vacuum_a / 2
        for symbol, (x, y) in zip(plane.symbols, plane.xy, strict=True):
            symbols.append(symbol)
            positions.append(np.array([x, y, z]))
            layer.append(index)
    atoms = Atoms(symbols=symbols, positions=positions, cell=cell, pbc=(True, True, True))
    scaled = atoms.get_scaled_positions(wrap=False)
    scaled[:, :2] %= 1.0
    scaled[:, :2][np.isclose(scaled[:, :2], 1.0, atol=1e-9)] = 0.0
    atoms.set_scaled_positions(scaled)
    atoms.set_array("layer", np.array(layer, dtype=int))
    return atoms


def in_plane_area_a2(atoms: Atoms) -> float:
    """Area of the in-plane cell, angstrom^2."""
    return float(np.linalg.norm(np.cross(atoms.cell[0], atoms.cell[1])))


def layer_heights_a(atoms: Atoms) -> np.ndarray:
    """Mean z of each layer (index = layer), angstrom."""
    layer = atoms.get_array("layer")
    return np.array([atoms.positions[layer == i, 2].mean() for i in range(layer.max() + 1)])


def middle_layers(n_layers: int) -> tuple[int, ...]:
    """The central layer of an odd stack, the two central layers of an even one."""
    if n_layers % 2:
        return (n_layers // 2,)
    return (n_layers // 2 - 1, n_layers // 2)


def fixed_indices(atoms: Atoms) -> list[int]:
    """Indices of the atoms held by FixAtoms constraints, sorted."""
    return sorted({int(i) for c in atoms.constraints if isinstance(c, FixAtoms) for i in c.index})
