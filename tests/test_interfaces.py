"""PbS(100)/rs-CdS/zb-CdS stacks: counts, shared anion lattice, coordination, dipole."""

from __future__ import annotations

import numpy as np
import pytest
from ase.neighborlist import neighbor_list

from nanophase.interfaces import StackSettings, build_stack, stack_settings_from_config
from nanophase.layers import layer_heights_a

A_PBS = 5.936


def stack(bulk, n_rs, n_zb, faces="both", layers=5, **kw):
    return build_stack(bulk["PbS-rs"], "Cd", StackSettings(layers, n_rs, n_zb, faces, **kw))


def count(atoms, element):
    return atoms.get_chemical_symbols().count(element)


@pytest.mark.parametrize("n_rs", range(5))
@pytest.mark.parametrize("n_zb", range(3))
@pytest.mark.parametrize("faces", ["top", "both"])
def test_counts_and_stoichiometry(bulk, n_rs, n_zb, faces):
    atoms = stack(bulk, n_rs, n_zb, faces)
    n_faces = 0 if n_rs + n_zb == 0 else (1 if faces == "top" else 2)
    assert count(atoms, "Pb") == 5 * 2  # 2 Pb per a x a (100) plane
    assert count(atoms, "Cd") == n_faces * 2 * (n_rs + n_zb)
    assert count(atoms, "S") == count(atoms, "Pb") + count(
        atoms, "Cd"
    )  # every layer is charge-neutral CdS/PbS
    assert atoms.get_array("layer").max() + 1 == atoms.info["n_layers"] == 5 + n_faces * (n_rs + 2 * n_zb)


def test_anions_continue_the_pbs_fcc_anion_lattice(bulk):
    atoms = stack(bulk, 2, 2, "both")
    s = atoms.positions[np.array(atoms.get_chemical_symbols()) == "S"]
    steps = (s - s[0]) / (A_PBS / 2)
    assert np.allclose(steps, np.round(steps), atol=1e-9)  # on the cubic a/2 grid ...
    assert np.all(np.round(steps).sum(axis=1) % 2 == 0)  # ... and on its fcc half
    assert np.allclose(atoms.cell[:2, :2], np.diag([A_PBS, A_PBS]))  # in-plane lattice of PbS


def test_rocksalt_shell_is_octahedral_zincblende_tetrahedral(bulk):
    atoms = stack(bulk, 1, 1, "top")
    symbols = np.array(atoms.get_chemical_symbols())
    layer = atoms.get_array("layer")
    i, j, d = neighbor_list("ijd", atoms, 3.1)
    rs_cd = np.flatnonzero((symbols == "Cd") & (layer == 5))
    zb_cd = np.flatnonzero((symbols == "Cd") & (layer == 6))
    for cd in rs_cd:  # octahedral: 4 in-plane, 1 below, 1 above (the zb anion plane continues the S lattice)
        assert d[(i == cd) & (symbols[j] == "S")] == pytest.approx(A_PBS / 2)
        assert np.sum((i == cd) & (symbols[j] == "S")) == 6
    for cd in zb_cd:  # tetrahedral: 2 S below, 2 S above at sqrt(3)/4 a
        bonds = (i == cd) & (symbols[j] == "S") & (d < 2.8)
        assert np.sum(bonds) == 4
        assert d[bonds] == pytest.approx(np.sqrt(3) / 4 * A_PBS)


def test_plane_spacings(bulk):
    heights = layer_heights_a(stack(bulk, 2, 2, "top"))
    spacing = np.diff(heights)
    assert spacing[:6] == pytest.approx(A_PBS / 2)  # 5 PbS + 2 rs-CdS planes
    assert spacing[6:] == pytest.approx(A_PBS / 4)  # zb: cation and anion planes a/4 apart


def formal_dipole(atoms):
    charge = np.where(np.array(atoms.get_chemical_symbols()) == "S", -2.0, 2.0)
    return float(np.sum(charge * (atoms.positions[:, 2] - atoms.positions[:, 2].mean())))


@pytest.mark.parametrize("layers", [4, 5])
def test_both_faces_cancel_the_dipole_one_face_does_not(bulk, layers):
    assert formal_dipole(stack(bulk, 1, 2, "both", layers)) == pytest.approx(0, abs=1e-9)
    assert abs(formal_dipole(stack(bulk, 1, 2, "top", layers))) > 1.0


def test_decorated_stacks_refer_to_the_bare_substrate_slab(bulk):
    assert stack(bulk, 2, 1).info["parent"] == stack(bulk, 0, 0).info["name"] == "PbS-100-5L-1x1"
    assert stack(bulk, 0, 0).info["parent"] == "PbS-rs"


def test_middle_substrate_layer_fixed(bulk):
    atoms = stack(bulk, 2, 1, "both", fixed="middle")
    fixed = [int(i) for c in atoms.constraints for i in c.index]
    symbols = np.array(atoms.get_chemical_symbols())
    assert set(symbols[fixed]) == {"Pb", "S"}
    assert set(atoms.get_array("layer")[fixed]) == {2 + 2 * 1 + 2}  # 4 shell planes below, middle of 5


def test_all_combinations_of_the_study(bulk):
    cfg = {"substrate_layers": 5, "rocksalt_monolayers": [0, 1, 2, 3, 4], "zincblende_monolayers": [0, 1, 2],
           "faces": ["both", "top"], "supercell": [1, 1], "vacuum_a": 15.0}  # fmt: skip
    stacks = stack_settings_from_config(cfg)
    assert len(stacks) == 1 + 2 * 14  # the bare substrate once, 14 decorated stacks per face choice
    names = [s.name("PbS", "CdS") for s in stacks]
    assert len(set(names)) == len(names)
    assert "PbS-100-5L-1x1_rsCdS2-zbCdS1-both" in names and "PbS-100-5L-1x1" in names


def test_one_sided_fixed_atoms_break_the_slab_symmetry(bulk):
    """A stack fixed at its bottom plane only loses the mirror symmetry (GPAW must not use it);
    the wurtzite slab fixed at its middle layer keeps it."""
    from nanophase.slabs import SlabSettings, build_slab
    from nanophase.symmetry import fixed_atoms_symmetric

    bare = build_stack(bulk["PbS-rs"], "Cd", StackSettings(substrate_layers=3, fixed=(0,)))
    assert not fixed_atoms_symmetric(bare)
    assert fixed_atoms_symmetric(
        build_stack(bulk["PbS-rs"], "Cd", StackSettings(substrate_layers=3, fixed="middle"))
    )
    wz = build_slab(bulk["CdSe-wz"], SlabSettings(phase="wurtzite", surface="11-20", monolayers=3))
    assert len(wz.constraints) == 1 and fixed_atoms_symmetric(wz)


@pytest.mark.parametrize("shell", ["CdS-zb", "CdS-rs"])
def test_strained_shell_keeps_its_volume_at_the_substrate_lattice(bulk, shell):
    from nanophase.interfaces import strained_bulk

    atoms = strained_bulk(bulk[shell], bulk["PbS-rs"], f"{shell}-on-PbS-rs")
    a_sub, a_shell = bulk["PbS-rs"].cell.cellpar()[0], bulk[shell].cell.cellpar()[0]
    assert atoms.cell.cellpar()[:2] == pytest.approx([a_sub, a_sub])
    assert atoms.get_volume() == pytest.approx(bulk[shell].get_volume())  # the start of relax-c
    assert atoms.get_chemical_formula() == bulk[shell].get_chemical_formula()
    assert atoms.info["strain"] == pytest.approx((a_sub - a_shell) / a_shell)
    # the same fractional positions: only the cell is strained
    assert atoms.get_scaled_positions() == pytest.approx(bulk[shell].get_scaled_positions())
