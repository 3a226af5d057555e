"""Slabs: counts, stoichiometry, layer spacings, thickness, vacuum, layers and fixed atoms."""

from __future__ import annotations

import numpy as np
import pytest
from ase.neighborlist import neighbor_list

from nanophase.layers import layer_heights_a
from nanophase.slabs import SlabSettings, build_slab


def wz(bulk, **kw):
    return build_slab(bulk["CdSe-wz"], SlabSettings("wurtzite", "11-20", **kw))


def zb(bulk, **kw):
    return build_slab(bulk["CdSe-zb"], SlabSettings("zincblende", "001", **kw))


def counts(atoms):
    symbols = atoms.get_chemical_symbols()
    return symbols.count("Cd"), symbols.count("Se")


def fixed_indices(atoms):
    return sorted(int(i) for c in atoms.constraints for i in c.index)


@pytest.mark.parametrize("supercell, n_atoms", [((1, 1), 28), ((2, 2), 112), ((2, 1), 56)])
def test_wurtzite_1120_is_stoichiometric_with_4_atoms_per_cell_and_plane(bulk, supercell, n_atoms):
    slab = wz(bulk, monolayers=7, supercell=supercell)
    assert len(slab) == n_atoms
    assert counts(slab) == (n_atoms // 2, n_atoms // 2)
    layer = slab.get_array("layer")
    for index in range(7):  # every (11-20) plane holds Cd and Se in equal numbers
        symbols = np.array(slab.get_chemical_symbols())[layer == index]
        assert (symbols == "Cd").sum() == (symbols == "Se").sum() == n_atoms // 14


def test_wurtzite_plane_spacing_is_half_a_and_thickness_six_spacings(bulk):
    slab = wz(bulk, monolayers=7)
    heights = layer_heights_a(slab)
    assert np.diff(heights) == pytest.approx(4.299 / 2, abs=1e-6)
    assert heights[-1] - heights[0] == pytest.approx(6 * 4.299 / 2, abs=1e-6)  # 12.9 A, the ~1.4 nm sheet


def test_wurtzite_in_plane_cell_is_c_by_sqrt3_a(bulk):
    slab = wz(bulk, supercell=(2, 3))
    assert np.linalg.norm(slab.cell[0]) == pytest.approx(2 * 7.010, abs=1e-6)
    assert np.linalg.norm(slab.cell[1]) == pytest.approx(3 * np.sqrt(3) * 4.299, abs=1e-6)
    assert slab.info["area_a2"] == pytest.approx(6 * 7.010 * np.sqrt(3) * 4.299, rel=1e-9)


def test_zincblende_001_cd_terminated_has_one_extra_cd_plane(bulk):
    slab = zb(bulk, monolayers=7, termination="cation")
    assert counts(slab) == (16, 14)
    symbols = np.array(slab.get_chemical_symbols())
    layer = slab.get_array("layer")
    assert set(symbols[layer == 0]) == set(symbols[layer == 14]) == {"Cd"}
    heights = layer_heights_a(slab)
    assert np.diff(heights) == pytest.approx(6.05 / 4, abs=1e-6)
    assert heights[-1] - heights[0] == pytest.approx(14 * 6.05 / 4, abs=1e-6)


def test_zincblende_stoichiometric_and_anion_terminations(bulk):
    stoich = zb(bulk, monolayers=7, termination="stoichiometric")
    assert counts(stoich) == (14, 14)
    anion = zb(bulk, monolayers=7, termination="anion", supercell=(2, 2))
    assert counts(anion) == (56, 64)


@pytest.mark.parametrize("vacuum", [10.0, 15.0, 22.5])
def test_vacuum_is_the_gap_to_the_periodic_image(bulk, vacuum):
    for slab in (wz(bulk, vacuum_a=vacuum), zb(bulk, vacuum_a=vacuum, termination="cation")):
        z = slab.positions[:, 2]
        assert slab.cell[2, 2] - (z.max() - z.min()) == pytest.approx(vacuum, abs=1e-9)
        assert np.allclose(slab.cell[2, :2], 0) and np.allclose(slab.cell[:2, 2], 0)


def test_layers_count_upwards(bulk):
    slab = zb(bulk, termination="cation")
    layer = slab.get_array("layer")
    order = np.argsort(slab.positions[:, 2], kind="stable")
    assert np.all(np.diff(layer[order]) >= 0)
    assert layer.max() + 1 == slab.info["n_layers"] == 15


def test_fixed_layers_follow_the_study(bulk):
    slab = wz(bulk, monolayers=7)  # auto: the middle layer of wurtzite
    layer = slab.get_array("layer")
    assert fixed_indices(slab) == np.flatnonzero(layer == 3).tolist()
    assert zb(bulk, termination="cation").constraints == []  # zinc blende fully free
    even = wz(bulk, monolayers=6, fixed="middle")
    assert sorted(set(layer_of := even.get_array("layer")[fixed_indices(even)])) == [2, 3], layer_of
    explicit = zb(bulk, fixed=(0, 1))
    assert sorted(set(explicit.get_array("layer")[fixed_indices(explicit)])) == [0, 1]


def test_slab_bonds_are_bulk_bonds(bulk):
    """Cut, not distorted: every Cd-Se distance below 3 A equals a bulk bond length."""
    for slab, name in ((wz(bulk, monolayers=5), "CdSe-wz"), (zb(bulk, termination="cation"), "CdSe-zb")):
        bulk_bonds = np.unique(neighbor_list("d", bulk[name], 3.0))
        slab_bonds = neighbor_list("d", slab, 3.0)
        assert len(slab_bonds) > 0
        assert np.abs(slab_bonds[:, None] - bulk_bonds[None, :]).min(axis=1).max() < 1e-6


def test_builder_takes_the_lattice_it_is_given(bulk):
    """A relaxed (here: 2 % larger) bulk gives proportionally larger spacings and cell."""
    larger = bulk["CdSe-wz"].copy()
    larger.set_cell(larger.cell * 1.02, scale_atoms=True)
    slab = build_slab(larger, SlabSettings("wurtzite", "11-20"))
    assert np.diff(layer_heights_a(slab)) == pytest.approx(1.02 * 4.299 / 2, abs=1e-6)
    assert np.linalg.norm(slab.cell[0]) == pytest.approx(1.02 * 7.010, abs=1e-6)
    same_order = wz(bulk)
    assert slab.get_chemical_symbols() == same_order.get_chemical_symbols()
    assert np.array_equal(slab.get_array("layer"), same_order.get_array("layer"))


def test_names_say_what_the_slab_is(bulk):
    assert wz(bulk, monolayers=7, supercell=(2, 2)).info["name"] == "CdSe-wz-1120-7ml-2x2"
    assert zb(bulk, termination="cation").info["name"] == "CdSe-zb-001-7ml-1x1-Cdterm"
    assert zb(bulk).info["name"] == "CdSe-zb-001-7ml-1x1-stoich"


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"monolayers": 0}, "monolayers"),
        ({"vacuum_a": -1.0}, "vacuum_a"),
        ({"supercell": (0, 1)}, "supercell"),
        ({"termination": "cation"}, "termination"),
        ({"fixed": (9,)}, "fixed"),
        ({"fixed": "top"}, "fixed"),
    ],
)
def test_bad_settings_name_the_key(kwargs, key):
    with pytest.raises(ValueError, match=f"^{key}:"):
        SlabSettings("wurtzite", "11-20", **kwargs)


def test_phase_must_match_the_bulk(bulk):
    with pytest.raises(ValueError, match="phase"):
        build_slab(bulk["CdSe-zb"], SlabSettings("wurtzite", "11-20"))


def test_faces_equivalent_tells_polar_from_symmetric_slabs(bulk):
    from nanophase.symmetry import faces_equivalent

    assert faces_equivalent(wz(bulk))  # non-polar (11-20)
    assert faces_equivalent(zb(bulk, termination="cation"))  # Cd on both faces
    assert not faces_equivalent(zb(bulk, termination="stoichiometric"))  # Cd face and Se face
