"""Vacancy series: symmetry-distinct placements, concentrations, depth and whole-layer removal."""

from __future__ import annotations

from itertools import combinations, product

import numpy as np
import pytest

from nanophase.slabs import SlabSettings, build_slab
from nanophase.symmetry import symmetry_permutations
from nanophase.vacancies import (
    VacancySettings,
    count_distinct,
    distinct_placements,
    make_vacancy_structure,
    plan_vacancies,
    species_planes,
)


@pytest.fixture(scope="module")
def zb22(bulk):
    return build_slab(
        bulk["CdSe-zb"], SlabSettings("zincblende", "001", supercell=(2, 2), termination="cation")
    )


@pytest.fixture(scope="module")
def wz22(bulk):
    return build_slab(bulk["CdSe-wz"], SlabSettings("wurtzite", "11-20", supercell=(2, 2)))


def brute_force_orbits(groups, counts, perms):
    """Orbits by explicit enumeration: the independent check of Burnside's count."""
    union = {s for g in groups for s in g}
    ops = [p for p in perms if {int(p[s]) for s in union} == union]
    seen, orbits = set(), 0
    for placement in product(*(combinations(g, n) for g, n in zip(groups, counts, strict=True))):
        flat = frozenset(s for part in placement for s in part)
        if flat in seen:
            continue
        orbits += 1
        seen.update(frozenset(int(p[s]) for s in flat) for p in ops)
    return orbits


def test_symmetry_operations_permute_atoms_of_one_species(zb22):
    perms = symmetry_permutations(zb22)
    symbols = np.array(zb22.get_chemical_symbols())
    assert len(perms) > 1
    for perm in perms:
        assert sorted(perm) == list(range(len(zb22)))
        assert np.array_equal(symbols[perm], symbols)


def test_hand_counted_zincblende_001_top_plane(zb22):
    """2x2 zb(001), 8 Se in the top plane (a square net, spacing a/sqrt2, site symmetry 2mm).

    One vacancy: all sites equivalent (translations). Two vacancies: the pair vectors (a/2)(1,1),
    (a/2)(1,-1) (not related: the 4-fold axis of zb is -4, it flips the slab), a(1,0) ~ a(0,1)
    (mirror), a(1,1): 4 distinct pairs.
    """
    perms = symmetry_permutations(zb22)
    top = species_planes(zb22, "Se")[-1]
    assert len(top) == 8
    assert count_distinct([top], [1], perms) == 1
    assert count_distinct([top], [2], perms) == 4
    assert count_distinct([top], [8], perms) == 1


@pytest.mark.parametrize("fixture", ["zb22", "wz22"])
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_burnside_count_equals_enumeration(request, fixture, n):
    slab = request.getfixturevalue(fixture)
    perms = symmetry_permutations(slab)
    planes = species_planes(slab, "Se")
    for groups in ([planes[-1]], [planes[-1], planes[0]]):
        counts = [n] * len(groups)
        n_distinct, kept = distinct_placements(groups, counts, perms, limit=10_000)
        assert n_distinct == len(kept) == brute_force_orbits(groups, counts, perms)


def test_kept_placements_are_distinct_and_deterministic(wz22):
    perms = symmetry_permutations(wz22)
    top = species_planes(wz22, "Se")[-1]
    n_distinct, kept = distinct_placements([top], [3], perms, limit=3)
    assert n_distinct == 7 and len(kept) == 3
    canon = {min(tuple(sorted(p[list(k)])) for p in perms) for k in kept}
    assert len(canon) == 3
    assert distinct_placements([top], [3], perms, limit=3)[1] == kept


def test_whole_layer_removal_gives_the_published_cd_se_ratios(bulk):
    """Result 2 of the study: one surface Se layer gone -> Cd:Se = 1:0.85, both -> 1:0.7."""
    slab = build_slab(bulk["CdSe-wz"], SlabSettings("wurtzite", "11-20", monolayers=7))
    settings = VacancySettings(surface_counts=(), depth=False, whole_layer=("top", "both"))
    specs = {s.faces: s for s in plan_vacancies(slab, settings)}
    ratios = {}
    for faces, spec in specs.items():
        symbols = make_vacancy_structure(slab, spec).get_chemical_symbols()
        ratios[faces] = symbols.count("Se") / symbols.count("Cd")
    assert ratios["top"] == pytest.approx(6 / 7) and round(ratios["top"], 2) == 0.86
    assert ratios["both"] == pytest.approx(5 / 7) and round(ratios["both"], 1) == 0.7
    assert specs["top"].concentration == pytest.approx(1 / 7)


def test_surface_series_concentration_and_placement(zb22):
    settings = VacancySettings(surface_counts=(1, 2, 3), surface_faces=("top", "both"), depth=False,
                               whole_layer=(), max_configurations=2)  # fmt: skip
    specs = plan_vacancies(zb22, settings)
    top_plane = set(species_planes(zb22, "Se")[-1])
    bottom_plane = set(species_planes(zb22, "Se")[0])
    for spec in specs:
        n = len(spec.removed)
        assert spec.concentration == pytest.approx(n / 56)
        if spec.faces == "top":
            assert set(spec.removed) <= top_plane
        else:
            assert len(set(spec.removed) & top_plane) == len(set(spec.removed) & bottom_plane) == n // 2
        assert spec.n_kept == min(2, spec.n_distinct)
    names = [s.name for s in specs]
    assert "CdSe-zb-001-7ml-2x2-Cdterm_vSe-top-2-b" in names
    assert "CdSe-zb-001-7ml-2x2-Cdterm_vSe-both-3x2-a" in names
    assert len(names) == len(set(names))


def test_depth_series_runs_from_surface_to_middle(wz22):
    specs = plan_vacancies(wz22, VacancySettings(surface_counts=(1,), surface_faces=("top",), whole_layer=()))
    depth = sorted((s for s in specs if "depth" in s.series), key=lambda s: s.depth)
    layer = wz22.get_array("layer")
    assert [s.depth for s in depth] == [0, 1, 2, 3]  # 7 layers: surface (6) down to the middle (3)
    assert [int(layer[s.removed[0]]) for s in depth] == [6, 5, 4, 3]
    # a single top vacancy is both surface n=1 and depth 0: one structure, two series
    assert depth[0].series == "surface-top;depth"
    assert depth[0].name.endswith("_vSe-top-1-a")


def test_vacancy_structure_keeps_layers_and_constraints(wz22):
    spec = plan_vacancies(wz22, VacancySettings(surface_counts=(), whole_layer=(), depth=True))[-1]
    assert spec.depth == 3  # the middle, fixed layer
    structure = make_vacancy_structure(wz22, spec)
    assert len(structure) == len(wz22) - 1
    fixed = sorted(int(i) for c in structure.constraints for i in c.index)
    assert len(fixed) == 15  # 16 atoms of the middle layer, one removed
    assert set(structure.get_array("layer")[fixed]) == {3}
    assert structure.info["parent"] == wz22.info["name"]


def test_too_many_vacancies_name_the_key_and_range(bulk):
    slab = build_slab(bulk["CdSe-wz"], SlabSettings("wurtzite", "11-20"))
    with pytest.raises(ValueError, match=r"^surface_counts: 3 exceeds the 2 Se sites .*allowed: 1\.\.2"):
        plan_vacancies(slab, VacancySettings(surface_counts=(3,)))
    with pytest.raises(ValueError, match="^species: Te"):
        plan_vacancies(slab, VacancySettings(species="Te"))


def test_plan_is_lattice_independent(bulk, wz22):
    """The same placements are found on a relaxed (strained) bulk: names and atoms agree."""
    strained = bulk["CdSe-wz"].copy()
    strained.set_cell(strained.cell * np.array([1.01, 1.01, 1.02]), scale_atoms=True)
    other = build_slab(strained, SlabSettings("wurtzite", "11-20", supercell=(2, 2)))
    settings = VacancySettings(surface_counts=(1, 2, 3))
    assert [(s.name, s.removed) for s in plan_vacancies(other, settings)] == [
        (s.name, s.removed) for s in plan_vacancies(wz22, settings)
    ]


def test_cd_loss_after_the_top_se_plane(zb22, wz22):
    """Cd removed from the outermost Cd plane of a sheet that lost its top Se plane: counts, species, host."""
    from nanophase.vacancies import AfterLayerSettings

    for slab in (zb22, wz22):
        settings = VacancySettings(surface_counts=(), depth=False, whole_layer=("top",), max_configurations=26,
                                   after_layer=AfterLayerSettings("Cd", ("top",), (1, 2)))  # fmt: skip
        specs = plan_vacancies(slab, settings)
        layer = next(s for s in specs if s.series == "layer")
        cd_top = set(species_planes(slab, "Cd")[-1])
        n_cd = sum(1 for s in slab.get_chemical_symbols() if s == "Cd")
        for spec in (s for s in specs if s.series == "after-layer"):
            assert spec.host == layer.name and spec.prior == layer.removed and spec.species == "Cd"
            extra = set(spec.removed) - set(layer.removed)
            assert extra <= cd_top and len(extra) == spec.n_vacancies
            assert spec.concentration == pytest.approx(spec.n_vacancies / n_cd)
            atoms = make_vacancy_structure(slab, spec)
            symbols = atoms.get_chemical_symbols()
            assert symbols.count("Se") == slab.get_chemical_symbols().count("Se") - len(layer.removed)
            assert symbols.count("Cd") == n_cd - spec.n_vacancies
            assert atoms.info["removed_species"] == "Se+Cd" and atoms.info["reference"] == layer.name
        # every placement is kept (26 allowed), so the kept ones are all the symmetry-distinct ones
        for n in (1, 2):
            kept = [s for s in specs if s.series == "after-layer" and s.n_vacancies == n]
            assert len(kept) == kept[0].n_distinct
            # orbit sizes add up to every way of choosing n of the exposed Cd, on either face if they are equivalent
            from math import comb

            from nanophase.symmetry import faces_equivalent

            faces = 2 if faces_equivalent(slab) else 1
            assert sum(s.multiplicity for s in kept) == comb(len(cd_top), n) * faces


def test_after_layer_needs_its_whole_layer_structure():
    from nanophase.vacancies import AfterLayerSettings

    with pytest.raises(ValueError, match=r"after_layer.faces: \['both'\] need the whole-layer structure"):
        VacancySettings(whole_layer=("top",), after_layer=AfterLayerSettings("Cd", ("both",), (1,)))
    with pytest.raises(ValueError, match="after_layer.species: must differ"):
        VacancySettings(after_layer=AfterLayerSettings("Se", ("top",), (1,)))


def test_multiplicity_is_the_orbit_size(wz22):
    specs = plan_vacancies(wz22, VacancySettings(surface_counts=(1,), surface_faces=("top",), depth=False,
                                                 whole_layer=(), max_configurations=26))  # fmt: skip
    perms = symmetry_permutations(wz22)
    for spec in specs:
        images = {tuple(sorted(p[list(spec.removed)].tolist())) for p in perms}
        assert spec.multiplicity == len(images)
    top, bottom = species_planes(wz22, "Se")[-1], species_planes(wz22, "Se")[0]
    # one vacancy in either surface Se plane: the orbits cover both planes' sites exactly
    assert sum(s.multiplicity for s in specs) == len(top) + len(bottom)
