"""Bulk references: structure types, experimental lattices, bond lengths."""

from __future__ import annotations

import numpy as np
import pytest
from ase.neighborlist import neighbor_list

from nanophase.bulk import cation_anion, read_bulk, reduced_formula
from nanophase.structio import write_structure

# experimental lattice constants, angstrom (../shared/science.md section 3 and structures/README.md)
EXPECTED = {
    "CdSe-wz": ("wurtzite", "CdSe", {"a": 4.299, "c": 7.010}),
    "CdSe-zb": ("zincblende", "CdSe", {"a": 6.050}),
    "PbS-rs": ("rocksalt", "PbS", {"a": 5.936}),
    "CdS-zb": ("zincblende", "CdS", {"a": 5.818}),
    "CdS-rs": ("rocksalt", "CdS", {"a": 5.420}),
    "Cd-hcp": ("hcp", "Cd", {"a": 2.9794, "c": 5.6186}),
    "Se-trigonal": ("trigonal", "Se", {"a": 4.3662, "c": 4.9536}),
    "Pb-fcc": ("fcc", "Pb", {"a": 4.9502}),
}


def test_every_reference_is_curated(bulk):
    assert set(bulk) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_structure_type_formula_and_lattice(bulk, name):
    prototype, formula, lattice = EXPECTED[name]
    atoms = bulk[name]
    assert atoms.info["prototype"] == prototype
    assert reduced_formula(atoms) == formula
    a, _, c, *_ = atoms.cell.cellpar()
    assert a == pytest.approx(lattice["a"], abs=1e-4)
    if "c" in lattice:
        assert c == pytest.approx(lattice["c"], abs=1e-4)


def test_nearest_neighbour_distances(bulk):
    """Tetrahedral bonds sqrt(3)/4 a (zb), octahedral a/2 (rs), wurtzite ~ a sqrt(3/8)."""
    for name, factor in [("CdSe-zb", np.sqrt(3) / 4), ("CdS-zb", np.sqrt(3) / 4), ("PbS-rs", 0.5)]:
        atoms = bulk[name]
        d = neighbor_list("d", atoms, 0.8 * atoms.cell.cellpar()[0])
        assert d.min() == pytest.approx(factor * atoms.cell.cellpar()[0], abs=1e-6)
    wz = bulk["CdSe-wz"]
    d = neighbor_list("d", wz, 3.0)
    assert d.min() == pytest.approx(0.376 * 7.010, abs=0.02)  # the bond along c: u*c


def test_trigonal_se_chains(bulk):
    """Grey Se: helical chains, two neighbours each at ~2.37 A."""
    i, d = neighbor_list("id", bulk["Se-trigonal"], 2.6)
    assert np.bincount(i).tolist() == [2, 2, 2]
    assert d == pytest.approx(2.37, abs=0.02)


def test_cation_anion_by_electronegativity():
    assert cation_anion(["Se", "Cd"]) == ("Cd", "Se")
    assert cation_anion({"S", "Pb"}) == ("Pb", "S")


def test_relaxed_bulk_keeps_its_lattice(bulk, tmp_path):
    """A later stage hands the builders a relaxed bulk: its lattice must survive reading."""
    strained = bulk["CdSe-zb"].copy()
    strained.set_cell(strained.cell * 1.02, scale_atoms=True)
    write_structure(strained, tmp_path / "relaxed.extxyz")
    again = read_bulk(tmp_path / "relaxed.extxyz")
    assert again.info["prototype"] == "zincblende"
    assert again.cell.cellpar()[0] == pytest.approx(6.05 * 1.02, abs=1e-6)
