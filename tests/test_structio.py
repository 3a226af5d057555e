"""Structure files and the index: what a later stage reads back is what was built."""

from __future__ import annotations

import numpy as np
import pytest

from nanophase.slabs import SlabSettings, build_slab
from nanophase.structio import INDEX_COLUMNS, read_structure, structure_index, write_structure
from nanophase.vacancies import VacancySettings, make_vacancy_structure, plan_vacancies


@pytest.fixture(scope="module")
def files(bulk, tmp_path_factory):
    folder = tmp_path_factory.mktemp("structures")
    slab = build_slab(bulk["CdSe-wz"], SlabSettings("wurtzite", "11-20", monolayers=5))
    spec = plan_vacancies(slab, VacancySettings(surface_counts=(), depth=False, whole_layer=("both",)))[0]
    vacancy = make_vacancy_structure(slab, spec)
    paths = {}
    for atoms in (slab, vacancy):
        paths[atoms.info["family"]] = folder / f"{atoms.info['name']}.extxyz"
        write_structure(atoms, paths[atoms.info["family"]])
    return slab, vacancy, paths


def test_round_trip_keeps_positions_layers_constraints_and_metadata(files):
    slab, _, paths = files
    again = read_structure(paths["slab"])
    assert np.allclose(again.positions, slab.positions) and np.allclose(again.cell, slab.cell)
    assert np.array_equal(again.get_array("layer"), slab.get_array("layer"))
    assert [list(c.index) for c in again.constraints] == [list(c.index) for c in slab.constraints]
    assert again.info["name"] == "CdSe-wz-1120-5ml-1x1" and again.info["surface"] == "11-20"


def test_atomic_write_leaves_no_temporary_files(files):
    _, _, paths = files
    assert sorted(p.name for p in paths["slab"].parent.iterdir()) == sorted(p.name for p in paths.values())


def test_index_rows_describe_the_structures(files):
    _, vacancy, paths = files
    index = structure_index([paths["slab"], paths["vacancy"]]).set_index("name")
    assert list(index.reset_index().columns[: len(INDEX_COLUMNS)]) == INDEX_COLUMNS
    row = index.loc[vacancy.info["name"]]
    assert row.family == "vacancy" and row.parent == "CdSe-wz-1120-5ml-1x1"
    assert row.formula == "Cd10Se6" and row.n_atoms == 16 and row.n_Se == 6 and row.n_Cd == 10
    assert row.n_removed == 4 and row.removed_species == "Se" and row.faces == "both"
    assert row.concentration == pytest.approx(4 / 10)
    assert row.n_layers == 5 and row.area_a2 == pytest.approx(7.010 * np.sqrt(3) * 4.299)
    assert row.n_fixed == 4  # the middle layer: 2 Cd + 2 Se
