"""Convergence series: the verdict on known sequences, the Fiorentini-Methfessel fit, formula units, and real
series on the potential (thickness, vacuum) and on GPAW (cutoff, k-point density)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from nanophase.calculators.mlip_calc import mlip_available
from nanophase.calculators.records import read_record
from nanophase.calculators.settings import CalcSettings
from nanophase.config import ConfigError
from nanophase.convergence import (
    ConvergenceSettings,
    converged_at,
    fiorentini_methfessel,
    formula_units,
    run_series,
    series_context,
    series_rows,
    surface_energy_fit,
)
from nanophase.slabs import SlabSettings, build_slab
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
def test_potential_series_thickness_and_vacuum(bulk, tmp_path):
    """On the potential: E_f is finite and positive, the slope of E(N) is the bulk energy per formula unit
    (within 20 meV), and beyond the potential's reach (6 A) more vacuum changes nothing."""
    settings, context = context_for(bulk)
    thickness = run_series(context, "vacancy", "monolayers", [2, 3, 4], tmp_path / "ml")
    assert all(0 < p["quantities"][0] < 8 for p in thickness["points"])
    assert [p["n_formula_units"] for p in thickness["points"]] == [4, 6, 8]  # two CdSe per (11-20) monolayer
    fit = surface_energy_fit(thickness)
    assert abs(fit[0]["e_bulk fit - e_bulk calculation (meV/f.u.)"]) < 20
    assert 5 < fit[0]["gamma Fiorentini-Methfessel (meV/A^2)"] < 60
    vacuum = run_series(context, "vacancy", "vacuum_a", [8.0, 12.0], tmp_path / "vacuum")
    e_f = [p["quantities"][0] for p in vacuum["points"]]
    assert e_f[1] == pytest.approx(e_f[0], abs=1e-3)
    rows = series_rows(vacuum, settings.tolerance("vacancy"), 8.0)
    assert rows[0]["converged at"] == "8" and rows[0]["error at the study setting"] < 1e-3
    # resumable: a rerun reads every point back
    again = run_series(context, "vacancy", "vacuum_a", [8.0, 12.0], tmp_path / "vacuum")
    assert [p["quantities"] for p in again["points"]] == [p["quantities"] for p in vacuum["points"]]


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
