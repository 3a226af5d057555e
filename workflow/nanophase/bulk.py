"""Bulk reference structures: reading curated files and recognising their structure type."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from ase import Atoms
from pymatgen.core import Element
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from nanophase.symmetry import SYMPREC_A, spacegroup_number

# Space-group numbers of the structure types the pipeline builds from.
PROTOTYPE_SPACEGROUPS: dict[str, tuple[int, ...]] = {
    "wurtzite": (186,),
    "zincblende": (216,),
    "rocksalt": (225,),
    "fcc": (225,),
    "hcp": (194,),
    "trigonal": (152, 154),
}


def identify_prototype(atoms: Atoms) -> str:
    """Structure type of a bulk crystal from its space group and number of species.

    Raises:
        ValueError: if the structure is none of the types in PROTOTYPE_SPACEGROUPS.
    """
    number = spacegroup_number(atoms)
    n_species = len(set(atoms.get_chemical_symbols()))
    for prototype, numbers in PROTOTYPE_SPACEGROUPS.items():
        if number not in numbers:
            continue
        if prototype in ("rocksalt", "wurtzite", "zincblende") and n_species != 2:
            continue
        if prototype in ("fcc", "hcp", "trigonal") and n_species != 1:
            continue
        return prototype
    raise ValueError(f"space group {number} with {n_species} species is not a known prototype")


def conventional_cell(atoms: Atoms) -> Atoms:
    """The conventional standard cell of a crystal given in any cell (e.g. a relaxed primitive one)."""
    structure = AseAtomsAdaptor.get_structure(atoms)
    return AseAtomsAdaptor.get_atoms(
        SpacegroupAnalyzer(structure, symprec=SYMPREC_A).get_conventional_standard_structure()
    )


def read_bulk(path: str | Path, name: str | None = None) -> Atoms:
    """Read a bulk crystal and return its conventional standard cell.

    The conventional standard setting (hexagonal: gamma = 120 deg, c along z; cubic: the cube) is what
    the slab builders' Miller indices refer to, so any file (an experimental CIF or a relaxed bulk from a
    later stage) is brought to it here. The lattice itself is kept as given.
    """
    path = Path(path)
    if path.suffix.lower() == ".cif":
        import warnings

        from pymatgen.core import Structure

        with warnings.catch_warnings():
            # CIFs store 1/3 as 0.33333333; pymatgen rounds such coordinates to ideal values and says so
            warnings.filterwarnings("ignore", message="Issues encountered while parsing CIF")
            structure = Structure.from_file(path)
    else:
        from ase.io import read

        structure = AseAtomsAdaptor.get_structure(read(path))
    atoms = conventional_cell(AseAtomsAdaptor.get_atoms(structure))
    atoms.info = {
        "name": name or path.stem,
        "source": str(path),
        "prototype": identify_prototype(atoms),
        "spacegroup": spacegroup_number(atoms),
    }
    return atoms


def cation_anion(symbols: list[str] | set[str]) -> tuple[str, str]:
    """The (cation, anion) pair of a binary compound, by Pauling electronegativity."""
    elements = sorted(set(symbols), key=lambda s: Element(s).X)
    if len(elements) != 2:
        raise ValueError(f"expected a binary compound, got {elements}")
    return elements[0], elements[1]


def formula_counts(formula: str) -> list[tuple[str, int]]:
    """(element, count) pairs of a formula such as "CdSe" or "Cd28Se26", in order."""
    return [(element, int(n) if n else 1) for element, n in re.findall(r"([A-Z][a-z]?)(\d*)", formula)]


def formula_elements(formula: str) -> list[str]:
    """Element symbols of a formula such as "CdSe" or "Cd28Se26"."""
    return [element for element, _ in formula_counts(formula)]


def reduced_formula(atoms: Atoms) -> str:
    """Reduced formula with the cation first, e.g. CdSe, PbS."""
    symbols = atoms.get_chemical_symbols()
    if len(set(symbols)) == 1:
        return symbols[0]
    cation, anion = cation_anion(symbols)
    counts = np.array([symbols.count(cation), symbols.count(anion)])
    counts = counts // np.gcd.reduce(counts)
    return "".join(f"{el}{n if n > 1 else ''}" for el, n in zip((cation, anion), counts, strict=True))


def atom_name(symbol: str) -> str:
    """The structure name of the free-atom reference of `symbol` ("Se-atom")."""
    return f"{symbol}-atom"


def isolated_atom(symbol: str, box_a: float) -> Atoms:
    """One atom in a box for the free-atom reference (chemical potential of the study).

    The box edges differ by 0.5 A so that the cell does not impose cubic symmetry on the atom's
    partially filled p shell.
    """
    if box_a <= 0:
        raise ValueError(f"box_a: must be > 0, got {box_a}")
    atoms = Atoms(symbol, cell=[box_a, box_a + 0.5, box_a + 1.0], pbc=True)
    atoms.center()
    atoms.info.update(name=atom_name(symbol), family="atom", box_a=box_a)
    return atoms
