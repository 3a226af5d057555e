"""Convergence series: the verdict on known sequences, the Fiorentini-Methfessel fit, formula units, and real
series on the potential (thickness) and on GPAW (vacuum, cutoff, k-point density)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from ase import Atoms
from ase.io import read

from nanophase.calculators.mlip_calc import mlip_available
from nanophase.calculators.records import read_record
from nanophase.calculators.settings import CalcSettings
from nanophase.config import ConfigError
from nanophase.convergence import (
    ConvergenceSettings,
    PointCache,
    converged_at,
    fiorentini_methfessel,
    formula_units,
    margin_sheets,
    run_series,
    series_context,
    series_rows,
    surface_energy_fit,
    with_vacuum,
)
from nanophase.energetics import composition
from nanophase.slabs import SlabSettings, build_slab
from nanophase.symmetry import primitive_cell
from tests.test_energetics import record

WZ_SLAB = {"bulk": "CdSe-wz", "phase": "wurtzite", "surface": "11-20", "monolayers": 2, "vacuum_a": 8.0,
           "fixed": "none", "vacancies": {"species": "Se"}}  # fmt: skip


def test_converged_at_is_the_first_value_after_which_changes_stay_small():
    values = [3, 5, 7, 9]
    assert converged_at(values, [1.00, 0.80, 0.77, 0.76], 0.05) == (5, pytest.approx(0.01), True)
    assert converged_at(values, [1.00, 0.99, 0.80, 0.79], 0.05) == (7, pytest.approx(0.01), True)
    value, last, settled = converged_at(values, [1.0, 0.9, 0.8, 0.7], 0.05)
    assert (value, settled) == (9, False) and last == pytest.approx(0.1)
    assert np.isnan(converged_at([3], [1.0], 0.05)[1])


def test_fiorentini_methfessel_recovers_bulk_energy_and_surface_energy():
    e_bulk, gamma, area = -4.2, 0.03, 52.0  # eV/f.u., eV/A^2, A^2
    n = [4, 6, 8, 10]
    energies = [k * e_bulk + 2 * gamma * area for k in n]
    fit = fiorentini_methfessel(n, energies, area)
    assert fit["e_bulk_fit_ev"] == pytest.approx(e_bulk) and fit["gamma_mev_per_a2"] == pytest.approx(30.0)
    # a bulk calculation 10 meV/f.u. off makes the naive surface energy drift linearly with N; the fit does not
    series = {"points": [{"value": k, "slab_energy_ev": e, "n_formula_units": k, "e_bulk_ev": e_bulk + 0.01,
                          "area_a2": area, "stoichiometric": True} for k, e in zip(n, energies, strict=True)]}  # fmt: skip
    rows = surface_energy_fit(series)
    naive = [r["gamma vs bulk calculation (meV/A^2)"] for r in rows]
    assert np.diff(naive) == pytest.approx([-1000 * 0.01 * 2 / (2 * area)] * 3)
    assert all(r["gamma Fiorentini-Methfessel (meV/A^2)"] == pytest.approx(30.0) for r in rows)
    assert rows[0]["e_bulk fit - e_bulk calculation (meV/f.u.)"] == pytest.approx(-10.0)


def test_formula_units_and_stoichiometry():
    bulk = record("CdSe-wz", "Cd2Se2", -8.0)
    assert formula_units(record("slab", "Cd6Se6", -20.0), bulk) == {
        "n_formula_units": 6.0, "e_bulk_ev": -4.0, "stoichiometric": True}  # fmt: skip
    assert not formula_units(record("zb", "Cd7Se6", -20.0), bulk)["stoichiometric"]


def test_a_sheet_that_is_not_a_slab_model_is_refused():
    with pytest.raises(ConfigError, match=r"convergence.sheet: 'wx' is not a slabs key \(allowed: wz, zb\)"):
        ConvergenceSettings.from_config({"sheet": "wx"}).for_study(["wz", "zb"])
    assert ConvergenceSettings.from_config({}).for_study(["zb", "wz"]).sheet == "zb"


def context_for(bulk, dft=None, **convergence):
    settings = ConvergenceSettings.from_config(convergence).for_study(["wz"])
    dft = dft or CalcSettings(encut_ev=200.0, kpoint_length_a=5.0, scf_energy_tol_ev=1e-4)
    bulks = {"compound": bulk["CdSe-wz"], "anion_solid": bulk["Se-trigonal"]}
    return settings, series_context(settings, WZ_SLAB, None, dft, "gpaw", bulks)


@pytest.mark.skipif(not mlip_available("chgnet"), reason="chgnet not installed")
def test_potential_series_thickness(bulk, tmp_path):
    """On the potential: E_f is finite and positive, the slope of E(N) is the bulk energy per formula unit
    (within 20 meV), and a rerun reads every point back."""
    settings, context = context_for(bulk)
    thickness = run_series(context, "vacancy", "monolayers", [2, 3, 4], tmp_path / "ml")
    assert all(0 < p["quantities"][0] < 8 for p in thickness["points"])
    assert [p["n_formula_units"] for p in thickness["points"]] == [4, 6, 8]  # two CdSe per (11-20) monolayer
    fit = surface_energy_fit(thickness)
    assert abs(fit[0]["e_bulk fit - e_bulk calculation (meV/f.u.)"]) < 20
    assert 5 < fit[0]["gamma Fiorentini-Methfessel (meV/A^2)"] < 60
    rows = series_rows(thickness, settings.tolerance("vacancy"), 2)
    assert rows[0]["tier"] == "potential" and rows[0]["values"] == "2 / 3 / 4"
    again = run_series(context, "vacancy", "monolayers", [2, 3, 4], tmp_path / "ml")
    assert [p["quantities"] for p in again["points"]] == [p["quantities"] for p in thickness["points"]]


def test_with_vacuum_keeps_the_structure_and_gives_a_defect_its_hosts_cell(bulk):
    slab = build_slab(bulk["CdSe-wz"], replace(SlabSettings.from_config(WZ_SLAB), vacuum_a=8.0))
    wide = with_vacuum(slab, 14.0)
    z = wide.positions[:, 2]
    assert wide.cell[2, 2] == pytest.approx(z.max() - z.min() + 14.0)
    assert z.min() == pytest.approx(7.0) and np.allclose(wide.cell[:2], slab.cell[:2])
    assert np.allclose(wide.positions - wide.positions[0], slab.positions - slab.positions[0])
    kept = [atom.index for atom in slab if atom.position[2] < slab.positions[:, 2].max() - 0.1]  # top removed
    defect = with_vacuum(slab[kept], 14.0, host=slab)
    assert np.allclose(defect.cell, wide.cell) and np.allclose(defect.positions, wide.positions[kept])


@pytest.mark.skipif(not mlip_available("chgnet"), reason="chgnet not installed")
def test_dft_series_cutoff_and_kpoints_at_a_fixed_geometry(bulk, tmp_path):
    """GPAW single points at the potential's geometry: each point's three records share the point's
    settings (cutoff, k-point density) and only those change between points."""
    _, context = context_for(bulk)
    context.slab = replace(SlabSettings.from_config(WZ_SLAB), monolayers=1)
    series = run_series(context, "vacancy", "kpoint_length_a", [4.0, 8.0], tmp_path / "k")
    meshes = []
    for point in series["points"]:
        label = f"kpoint_length_a-{point['value']:g}"
        records = [read_record(tmp_path / "k" / f"{name}-{label}" / "record.json")
                   for name in ("slab", "vacancy", "anion-solid")]  # fmt: skip
        assert {r.physics["kpoint_length_a"] for r in records} == {point["value"]}
        assert len({r.fingerprint for r in records}) == 1 and records[0].task == "single-point"
        meshes.append(records[0].kpoints)
        assert np.isfinite(point["quantities"][0])
    assert meshes[0] != meshes[1]  # the density changed, the geometry did not
    slab = build_slab(bulk["CdSe-wz"], context.slab)
    assert meshes[1][:2] == [int(np.ceil(8.0 / x)) for x in slab.cell.lengths()[:2]]


@pytest.mark.skipif(not mlip_available("chgnet"), reason="chgnet not installed")
def test_dft_series_vacuum_changes_the_cell_only(bulk, tmp_path):
    """A vacuum point is a GPAW single point of the same relaxed sheet in a taller cell: the settings and
    the anion solid are the study's (one record for every point), only the slabs' c changes."""
    _, context = context_for(bulk)
    context.slab = replace(SlabSettings.from_config(WZ_SLAB), monolayers=1)
    series = run_series(context, "vacancy", "vacuum_a", [8.0, 11.0], tmp_path / "vac")
    slabs = [read_record(tmp_path / "vac" / f"slab-vacuum_a-{v:g}" / "record.json") for v in (8.0, 11.0)]
    assert slabs[0].fingerprint == slabs[1].fingerprint and slabs[0].task == "single-point"
    assert sorted(p.name for p in (tmp_path / "vac").iterdir() if p.name.startswith("anion")) == [
        "anion-solid-study-settings"]  # fmt: skip
    heights = [
        read(tmp_path / "vac" / f"slab-vacuum_a-{v:g}" / "final.extxyz").cell[2, 2] for v in (8.0, 11.0)
    ]
    assert heights[1] - heights[0] == pytest.approx(3.0)
    assert all(np.isfinite(p["quantities"][0]) for p in series["points"])
    assert series["tier"] == "dft"


@pytest.mark.skipif(not mlip_available("chgnet"), reason="chgnet not installed")
def test_a_point_is_reused_only_for_the_same_structure_and_settings(bulk, tmp_path):
    cache = PointCache(tmp_path)
    solid = primitive_cell(bulk["Se-trigonal"])
    first = cache.compute(solid, CalcSettings(mlip_model="chgnet"), "mlip", "single-point", "solid")
    again = cache.compute(solid, CalcSettings(mlip_model="chgnet"), "mlip", "single-point", "solid")
    assert again.wall_time_s == first.wall_time_s  # read back, not recomputed
    other_model = cache.compute(solid, CalcSettings(mlip_model="sevenn"), "mlip", "single-point", "solid")
    assert other_model.settings["mlip_model"] == "sevenn" and other_model.energy_ev != first.energy_ev
    strained = solid.copy()
    strained.set_cell(solid.cell * 1.02, scale_atoms=True)
    moved = cache.compute(strained, CalcSettings(mlip_model="sevenn"), "mlip", "single-point", "solid")
    assert moved.input_hash != other_model.input_hash and moved.energy_ev != other_model.energy_ev


ZB_SLAB = {"bulk": "CdSe-zb", "phase": "zincblende", "surface": "001", "monolayers": 2, "vacuum_a": 8.0,
           "termination": "cation", "fixed": "none", "vacancies": {"species": "Se"}}  # fmt: skip


def test_margin_sheets_pair_the_convergence_sheet_with_the_other_phase():
    slabs = {"wz": {"monolayers": 3}, "zb": {"monolayers": 3}, "wz5": {"monolayers": 5}}
    pairs = {3: {"wurtzite": ["wz"], "zincblende": ["zb"]}}
    assert margin_sheets(slabs, pairs, "zb") == {"wurtzite": "wz", "zincblende": "zb"}
    assert margin_sheets(slabs, pairs, "wz5") == {"wurtzite": "wz", "zincblende": "zb"}  # first pair
    assert margin_sheets(slabs, {}, "wz") == {}


@pytest.mark.skipif(not mlip_available("chgnet"), reason="chgnet not installed")
def test_margin_point_is_the_hull_difference_at_the_highest_common_composition(bulk, tmp_path):
    """The potential stands in for the DFT code: the margin equals e(zb) - e(wz hull) per Cd computed by
    hand from the four sheets' records at the composition both hulls reach last."""
    settings, context = context_for(bulk, dft=CalcSettings(mlip_model="chgnet"))
    context.dft_backend = "mlip"
    context.phase_sheets = {
        "wurtzite": (bulk["CdSe-wz"], SlabSettings.from_config(WZ_SLAB)),
        "zincblende": (bulk["CdSe-zb"], SlabSettings.from_config(ZB_SLAB)),
    }
    point = run_series(context, "margin", "vacuum_a", [8.0], tmp_path)["points"][0]
    per_cd = {}
    for key in ("wurtzite", "wurtzite-layer", "zincblende", "zincblende-layer"):
        r = read_record(tmp_path / f"{key}-vacuum_a-8" / "record.json")
        counts = composition(r)
        per_cd[key] = (counts["Se"] / counts["Cd"], r.energy_ev / counts["Cd"])
    assert per_cd["zincblende"][0] == pytest.approx(2 / 3)  # Cd3Se2 per column: cation-terminated
    assert per_cd["wurtzite"][0] == 1.0 and per_cd["wurtzite-layer"][0] < 2 / 3
    x = point["composition"]
    assert x == pytest.approx(per_cd["zincblende"][0])
    (x0, e0), (x1, e1) = per_cd["wurtzite-layer"], per_cd["wurtzite"]
    e_wz = e0 + (e1 - e0) * (x - x0) / (x1 - x0)
    assert point["quantities"][0] == pytest.approx(1000 * (per_cd["zincblende"][1] - e_wz))
    assert settings.tolerance("margin") == 10.0


def test_the_dft_tier_is_frozen_at_the_table_rows_own_structures():
    """The default study's bars: the wurtzite sheet, its single top-surface vacancy and trigonal Se; the
    bare substrate, the 1 ML rock-salt and zinc blende stacks and the zinc blende shell bulk; for the
    margin both phases' pristine sheets (the vacuum series' hosts) and every sheet of the table's hulls."""
    from nanophase.config import load_config
    from nanophase.convergence import study_geometries
    from nanophase.study import Study

    study = Study.from_config(load_config("config/config.yaml"))
    geometries = study_geometries(study, "wz", {"wurtzite": "wz", "zincblende": "zb"})
    assert geometries["vacancy"] == {"slab": "CdSe-wz-1120-3ml-1x1", "vacancy": "CdSe-wz-1120-3ml-1x1_vSe-top-1-a",
                                     "anion_solid": "Se-trigonal"}  # fmt: skip
    assert geometries["interface"] == {"bare": "PbS-100-2L-1x1", "rs": "PbS-100-2L-1x1_rsCdS1-zbCdS0-top",
                                       "zb": "PbS-100-2L-1x1_rsCdS0-zbCdS1-top", "shell": "CdS-zb"}  # fmt: skip
    margin = geometries["margin"]
    assert (
        margin["wurtzite"] == "CdSe-wz-1120-3ml-1x1" and margin["zincblende"] == "CdSe-zb-001-3ml-1x1-Cdterm"
    )
    sheets = [name for role, name in margin.items() if ":" in role]
    assert len(sheets) == 2 * (1 + 5) and set(sheets) <= set(study.structure_names())


@pytest.mark.skipif(not mlip_available("chgnet"), reason="chgnet not installed")
def test_a_frozen_point_is_the_study_structures_own_energy_difference(bulk, tmp_path):
    """With the study's relaxed structures given (here: rattled ones, the potential standing in for the DFT
    code), a cutoff point is computed at exactly those geometries, and E_f is their energy difference."""
    from nanophase.calculators.mlip_calc import mlip_calculator
    from nanophase.calculators.records import structure_hash
    from nanophase.convergence import top_vacancy

    _, context = context_for(bulk, dft=CalcSettings(mlip_model="chgnet"))
    context.dft_backend = "mlip"
    slab = build_slab(bulk["CdSe-wz"], context.slab)
    slab.rattle(0.05, seed=3)
    vacancy = top_vacancy(slab, "Se")
    solid = primitive_cell(bulk["Se-trigonal"])
    context.frozen = {"slab": slab, "vacancy": vacancy, "anion_solid": solid}
    series = run_series(context, "vacancy", "encut_ev", [200.0], tmp_path)
    assert series["geometry"] == "study's relaxed structures"
    host = read_record(tmp_path / "slab-encut_ev-200" / "record.json")
    assert host.input_hash == structure_hash(slab)
    energies = {}
    for key, atoms in (("slab", slab), ("vacancy", vacancy), ("solid", solid)):
        atoms = atoms.copy()
        atoms.calc = mlip_calculator("chgnet")
        energies[key] = atoms.get_potential_energy()
    expected = energies["vacancy"] + energies["solid"] / len(solid) - energies["slab"]
    assert series["points"][0]["quantities"][0] == pytest.approx(expected, abs=1e-4)
    assert not (tmp_path / "slab-base").exists()  # nothing relaxed with the potential


def test_margin_facets_keep_the_sheets_of_the_tables_hull_segment():
    """Wurtzite sheets at Se/Cd 1, 5/6, 2/3 and 1/3 (eV per Cd -6, -5, -5.7, -5), the 5/6 one above the
    hull: at the zinc blende sheet's 3/4 the table reads the wurtzite hull between 2/3 and 1, and the zinc
    blende hull is that sheet itself."""
    from nanophase.convergence import margin_facets

    sheets = {
        "wurtzite:pristine": ("Cd6Se6", -6.0), "wurtzite:top-1": ("Cd6Se5", -5.0),
        "wurtzite:layer-top": ("Cd6Se4", -5.7), "wurtzite:layer-both": ("Cd6Se2", -5.0),
        "zincblende:pristine": ("Cd4Se3", -4.0), "zincblende:layer-top": ("Cd4Se2", -4.0),
        "zincblende:layer-both": ("Cd4Se1", -3.9),
    }  # fmt: skip
    records = {role: record(role, formula, 6.0 * energy) for role, (formula, energy) in sheets.items()}
    frozen = {role: Atoms() for role in [*sheets, "wurtzite", "zincblende"]}
    kept = margin_facets(frozen, records, "Se")
    assert sorted(kept) == sorted(["wurtzite", "zincblende", "wurtzite:pristine", "wurtzite:layer-top",
                                   "zincblende:pristine"])  # fmt: skip
