"""Regenerate structures/bulk/*.cif from the experimental parameters listed in structures/README.md."""

from __future__ import annotations

from pathlib import Path

from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter

HERE = Path(__file__).parent / "bulk"

# name: (space group, lattice, species, fractional coordinates, source line)
BULK = {
    "CdSe-wz": (
        "P6_3mc",
        Lattice.hexagonal(4.299, 7.010),
        ["Cd", "Se"],
        [[1 / 3, 2 / 3, 0.0], [1 / 3, 2 / 3, 0.376]],
        "wurtzite CdSe, a = 4.299 A, c = 7.010 A, u = 0.376 (room temperature, X-ray)",
    ),
    "CdSe-zb": (
        "F-43m",
        Lattice.cubic(6.050),
        ["Cd", "Se"],
        [[0, 0, 0], [0.25, 0.25, 0.25]],
        "zinc blende CdSe, a = 6.050 A (room temperature, X-ray)",
    ),
    "PbS-rs": (
        "Fm-3m",
        Lattice.cubic(5.936),
        ["Pb", "S"],
        [[0, 0, 0], [0.5, 0.5, 0.5]],
        "rock-salt PbS (galena), a = 5.936 A (room temperature, X-ray)",
    ),
    "CdS-zb": (
        "F-43m",
        Lattice.cubic(5.818),
        ["Cd", "S"],
        [[0, 0, 0], [0.25, 0.25, 0.25]],
        "zinc blende CdS, a = 5.818 A (room temperature, X-ray)",
    ),
    "CdS-rs": (
        "Fm-3m",
        Lattice.cubic(5.420),
        ["Cd", "S"],
        [[0, 0, 0], [0.5, 0.5, 0.5]],
        "rock-salt CdS, high-pressure phase, a ~ 5.42 A near the transition (~3 GPa); starting geometry only",
    ),
    "Cd-hcp": (
        "P6_3/mmc",
        Lattice.hexagonal(2.9794, 5.6186),
        ["Cd"],
        [[1 / 3, 2 / 3, 0.25]],
        "hcp Cd, a = 2.9794 A, c = 5.6186 A (room temperature)",
    ),
    "Se-trigonal": (
        "P3_121",
        Lattice.hexagonal(4.3662, 4.9536),
        ["Se"],
        [[0.2254, 0.0, 1 / 3]],
        "trigonal (grey) Se, a = 4.3662 A, c = 4.9536 A, x = 0.2254 (Cherin & Unger 1967)",
    ),
    "Pb-fcc": (
        "Fm-3m",
        Lattice.cubic(4.9502),
        ["Pb"],
        [[0, 0, 0]],
        "fcc Pb, a = 4.9502 A (room temperature)",
    ),
}


def main() -> None:
    for name, (group, lattice, species, coords, source) in BULK.items():
        structure = Structure.from_spacegroup(group, lattice, species, coords)
        text = str(CifWriter(structure, symprec=0.01))
        header = f"# {name}: {source}\n# Sources and references: structures/README.md\n"
        (HERE / f"{name}.cif").write_text(header + text)
        print(f"{name}: {structure.composition.reduced_formula}, {len(structure)} atoms, {group}")


if __name__ == "__main__":
    main()
