"""Collision dynamics for knock-on thresholds: the ZBL repulsion and its blend, energy conservation, the
bisection against a brute-force scan, T_d against the static E_f, failed runs, and resuming."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from ase import Atoms
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

from nanophase import beam
from nanophase import displacement as dd
from nanophase.bulk import read_bulk
from nanophase.calculators import CalcSettings
from nanophase.calculators.mlip_calc import mlip_available, mlip_calculator
from nanophase.collisions import (
    COULOMB_EV_A,
    RepulsionRange,
    ZBLRepulsion,
    close_pairs,
    with_repulsion,
    zbl_energy,
)
from nanophase.config import load_config
from nanophase.study import Study

needs_chgnet = pytest.mark.skipif(not mlip_available("chgnet"), reason="chgnet not installed")
# coarse, so that the scan below stays a minute: the default study uses 0.1 eV
SMALL = dd.KickSettings(min_lateral_a=5.0, resolution_ev=0.5, min_kick_ev=2.0, max_kick_ev=8.0)


def test_zbl_pair_energy_by_hand_and_forces_are_its_gradient():
    # Cd-Se at 1.0 A: a = 0.46850 / (48^0.23 + 34^0.23)
    a = 0.46850 / (48**0.23 + 34**0.23)
    x = 1.0 / a
    phi = 0.18175 * math.exp(-3.19980 * x) + 0.50986 * math.exp(-0.94229 * x) + 0.28022 * math.exp(
        -0.40290 * x) + 0.02817 * math.exp(-0.20162 * x)  # fmt: skip
    energy, _ = zbl_energy(np.array([1.0]), 48, 34)
    assert energy[0] == pytest.approx(COULOMB_EV_A * 48 * 34 * phi, rel=1e-12)
    dimer = Atoms("CdSe", positions=[(5, 5, 5), (5.3, 5.4, 6.1)], cell=[10] * 3, pbc=True)
    dimer.calc = ZBLRepulsion()
    forces = dimer.get_forces()
    assert forces.sum(axis=0) == pytest.approx(np.zeros(3), abs=1e-9)  # Newton's third law
    step = 1e-5
    for axis in range(3):
        plus, minus = dimer.copy(), dimer.copy()
        plus.positions[1, axis] += step
        minus.positions[1, axis] -= step
        plus.calc, minus.calc = ZBLRepulsion(), ZBLRepulsion()
        gradient = (plus.get_potential_energy() - minus.get_potential_energy()) / (2 * step)
        assert forces[1, axis] == pytest.approx(-gradient, rel=1e-6)


@pytest.mark.parametrize("name", ["CdSe-zb", "CdSe-wz"])
def test_close_pairs_are_ases_neighbor_list(bulk, name):
    """The KD-tree path (orthorhombic, periodic) and ASE's fallback (the hexagonal cell) list the same
    ordered pairs, distances and minimum-image vectors, atoms outside the cell included."""
    from ase.build import make_supercell
    from ase.neighborlist import neighbor_list

    crystal = make_supercell(bulk[name], 3 * np.eye(3))
    crystal.rattle(0.4, seed=2)
    crystal.positions[0] -= 1.5 * crystal.cell[0]
    for cutoff in (1.2, 2.9):
        expected, found = neighbor_list("ijdD", crystal, cutoff), close_pairs(crystal, cutoff)
        order_expected, order_found = np.lexsort(expected[1::-1]), np.lexsort(found[1::-1])
        assert len(found[0]) == len(expected[0]) and (cutoff < 2 or len(found[0]) > 100)
        for mine, ase_value in zip(found, expected, strict=True):
            assert np.allclose(np.asarray(mine)[order_found], np.asarray(ase_value)[order_expected])


def test_switch_range_is_checked():
    with pytest.raises(ValueError, match="inner_fraction < outer_fraction"):
        RepulsionRange(inner_fraction=0.7, outer_fraction=0.5)


@needs_chgnet
def test_blend_leaves_equilibrium_forces_unchanged_and_dominates_below_one_angstrom(bulk):
    crystal = bulk["CdSe-zb"].copy()
    crystal.rattle(0.05, seed=1)
    crystal.calc = mlip_calculator("chgnet")
    bare = crystal.get_forces()
    crystal.calc = with_repulsion(mlip_calculator("chgnet"))
    assert crystal.get_forces() == pytest.approx(bare, abs=1e-6)  # every bond is beyond the switch
    dimer = Atoms("CdSe", positions=[(6, 6, 6), (6, 6, 8.6)], cell=[12] * 3, pbc=True)
    far_mlip = _energy(dimer, mlip_calculator("chgnet"))
    for r in (0.6, 0.8, 0.95):
        dimer.positions[1, 2] = 6 + r
        mlip = _energy(dimer, mlip_calculator("chgnet")) - far_mlip
        zbl = _energy(dimer, ZBLRepulsion())
        assert zbl > 3 * abs(mlip), (r, zbl, mlip)


def _energy(atoms, calculator):
    atoms = atoms.copy()
    atoms.calc = calculator
    return float(atoms.get_potential_energy())


@pytest.fixture(scope="module")
def wz_sheet(repo, tmp_path_factory):
    """The default study's wurtzite (11-20) sheet (1x1, 12 atoms), relaxed with CHGNet + ZBL."""
    study = Study.from_config(load_config(repo / "config" / "config.yaml"), root=repo)
    model = next(m for m in study.slabs if m.settings.phase == "wurtzite")
    slab = model.build(read_bulk(repo / study.bulk_files[model.bulk], name=model.bulk))[model.name]
    calculator = dd.collision_calculator(SMALL)
    sheet, info = dd.relaxed_sheet(slab, calculator, SMALL, tmp_path_factory.mktemp("sheet"))
    return sheet, calculator, info


@needs_chgnet
def test_sites_of_the_symmetric_sheet(wz_sheet):
    sheet, _, info = wz_sheet
    assert info["atoms"] == 12 and info["relax_converged"]
    sites = dd.kick_sites(sheet, SMALL)
    # one Se orbit per face plane, the two faces equivalent (a 2-fold axis maps one onto the other)
    assert [(s.species, s.face, s.role, s.direction, s.equivalent_faces) for s in sites] == [
        ("Se", "top", "exit", 1, True)]  # fmt: skip
    top = sheet.positions[:, 2].max()
    assert sheet.positions[sites[0].index, 2] > top - 0.5


@needs_chgnet
def test_nve_without_a_kick_conserves_energy(wz_sheet):
    sheet, calculator, _ = wz_sheet
    atoms = sheet.copy()
    atoms.calc = calculator
    MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(5))
    settings = dd.KickSettings(duration_fs=200.0)
    outcome, steps, elapsed, drift, _ = dd.nve(atoms, atoms.get_velocities(), settings)
    assert outcome is None and elapsed >= 200.0 and steps >= 50
    assert drift < 1e-3  # eV/atom


@needs_chgnet
def test_bisection_matches_a_brute_force_scan_and_sputtering_needs_the_static_formation_energy(
    wz_sheet, tmp_path
):
    sheet, calculator, _ = wz_sheet
    site = dd.kick_sites(sheet, SMALL)[0]
    result = dd.site_threshold(
        sheet, calculator, site, SMALL, SMALL.max_kick_ev, dd.RunLog(tmp_path / "runs.json")
    )
    assert result.threshold_ev is not None and result.outcome not in (dd.RETURNED, dd.FAILED)
    low, high = result.bracket_ev
    assert high - low <= SMALL.resolution_ev and high == result.threshold_ev
    scan = {t: dd.run_kick(sheet, calculator, site, t, SMALL).outcome for t in np.arange(2.0, 8.01, 0.5)}
    lowest_displaced = min(t for t, outcome in scan.items() if outcome != dd.RETURNED)
    assert abs(result.threshold_ev - lowest_displaced) <= SMALL.resolution_ev
    atom = dd.free_atom_energy("Se", calculator)
    static = dd.static_formation_energy(sheet, calculator, site, atom, SMALL)
    sputtering = min(t for t, outcome in scan.items() if outcome == dd.SPUTTERED)
    assert 1.0 < static <= sputtering  # energy conservation: sputtering costs at least E_f


@needs_chgnet
def test_a_run_that_fails_is_retried_and_never_counted_as_returned(wz_sheet):
    sheet, calculator, _ = wz_sheet
    site = dd.kick_sites(sheet, SMALL)[0]
    strict = dd.KickSettings(min_lateral_a=5.0, max_drift_ev_per_atom=1e-9, retries=1, duration_fs=20.0)
    run = dd.run_kick(sheet, calculator, site, 3.0, strict)
    assert run.outcome == dd.FAILED
    assert "try 1: energy drift" in run.reason and "try 2: energy drift" in run.reason
    threshold, bracket, outcome, note = dd.bisect_threshold(lambda t: run, 1.0, 8.0, 0.1)
    assert threshold is None and outcome == dd.FAILED and "failed" in note


def test_the_bisection_resumes_from_its_log(tmp_path, monkeypatch):
    site = dd.KickSite(3, "Se", "top", 0, "exit", 1, True)
    calls = []

    def fake_md(sheet, calculator, site, energy, settings):  # the outcome of a sharp 4.3 eV threshold
        calls.append(energy)
        outcome = dd.RETURNED if energy < 4.3 else dd.SPUTTERED
        return dd.KickRun(energy, outcome, "", 10, 20.0, 0.0, 0.1, 1.0, 0.01)

    monkeypatch.setattr(dd, "run_kick", fake_md)
    settings = dd.KickSettings(resolution_ev=0.1)
    first = dd.site_threshold(None, None, site, settings, 12.0, dd.RunLog(tmp_path / "runs.json"))
    assert first.bracket_ev[0] < 4.3 <= first.threshold_ev <= 4.3 + 0.1
    done = len(calls)
    again = dd.site_threshold(None, None, site, settings, 12.0, dd.RunLog(tmp_path / "runs.json"))
    assert len(calls) == done and again.threshold_ev == first.threshold_ev  # nothing rerun


def test_settings_errors_name_the_key():
    with pytest.raises(ValueError, match=r"knockon.dynamics.roles: \['sideways'\] not allowed"):
        dd.KickSettings(roles=("sideways",))
    assert dd.KickSettings().fingerprint() != dd.KickSettings(resolution_ev=0.2).fingerprint()


@needs_chgnet
def test_the_dft_check_brackets_the_threshold_of_its_own_potential(wz_sheet, tmp_path):
    """The check's logic with the potential standing in for GPAW: kicks at T_sputter -/+ half a width on the
    check cell must bracket the potential's own bisected T_sputter of that cell."""
    sheet, calculator, _ = wz_sheet
    small = replace(SMALL, min_lateral_a=0.0, resolution_ev=0.25, min_kick_ev=3.0, max_kick_ev=6.0)
    site = dd.kick_sites(sheet, small)[0]
    result = dd.site_threshold(
        sheet, calculator, site, small, small.max_kick_ev, dd.RunLog(tmp_path / "a.json")
    )
    assert result.sputtering_ev is not None
    record = {
        "sheet": "wz",
        "sites": [dd._site_record(result)],
        "small_cell": {"sputtering_ev": result.sputtering_ev},
    }
    check = dd.DFTCheckSettings(enabled=True, half_width_ev=0.5, duration_fs=300.0, max_runs=2)
    done = dd.dft_check(sheet, calculator, record, small, check, dd.RunLog(tmp_path / "check.json"))
    low, high = done["sputtering_bracket_ev"]
    # sputtered at T + 0.5 eV, then kept at T - 0.5 eV
    assert [run["energy_ev"] for run in done["runs"]] == [
        round(result.sputtering_ev + 0.5, 6),
        round(result.sputtering_ev - 0.5, 6),
    ]
    assert low < result.sputtering_ev <= high and high - low <= 2 * check.half_width_ev + 1e-9
    assert done["atoms"] == len(sheet)
    assert beam.check_verdict(low, high, result.sputtering_ev) == "agrees within the GPAW bracket"


def _run(energy_ev: float, outcome: str) -> dd.KickRun:
    return dd.KickRun(energy_ev, outcome, "", 40, 160.0, 1e-3, 2.0, 1.0, 100.0)


def test_the_dft_check_kicks_above_the_mlip_threshold_first_then_brackets_and_bisects():
    """T_MLIP = 4 eV, half width 0.5: 4.5 first; kept -> 5.5 (a width up); sputtered -> 3.5 (a width down);
    bracketed -> midpoint; nothing below the lowest kick; a failed run counts as neither."""

    def kick(*runs):
        return dd.next_check_kick(list(runs), 4.0, 0.5, 1.0)

    assert kick() == 4.5
    assert kick(_run(4.5, dd.ADATOM)) == 5.5
    assert kick(_run(4.5, dd.ADATOM), _run(5.5, dd.ADATOM)) == 6.5
    assert kick(_run(4.5, dd.SPUTTERED)) == 3.5
    assert kick(_run(4.5, dd.SPUTTERED), _run(3.5, dd.RETURNED)) == 4.0
    assert kick(_run(4.5, dd.ADATOM), _run(5.5, dd.SPUTTERED)) == 5.0
    assert kick(_run(4.5, dd.FAILED)) == 5.5
    assert dd.next_check_kick([_run(1.4, dd.SPUTTERED)], 0.9, 0.5, 1.0) is None  # 0.4 eV < min_kick_ev


def test_check_verdicts_and_set_up_text():
    assert beam.bracket_text(4.0, 5.0) == "(4.00, 5.00]"
    assert beam.bracket_text(4.0, math.nan) == "> 4.00"
    assert beam.check_verdict(4.0, 5.0, 3.9).startswith("GPAW higher")
    assert beam.check_verdict(4.0, 5.0, 5.2).startswith("GPAW lower")
    assert beam.check_verdict(math.nan, 5.0, 4.9).startswith("GPAW sputters by 5.00 eV like the MLIP")
    check = dd.DFTCheckSettings()
    study = CalcSettings(mode="pw", encut_ev=200.0, kpoint_length_a=11.5)
    lcao = check.calc_settings(study)
    assert (lcao.mode, lcao.basis, lcao.grid_spacing_a, lcao.functional) == ("lcao", "dzp", 0.3, "PBE")
    cell = Atoms(
        "Se2", positions=[(0, 0, 10), (2.1, 3.5, 10)], cell=[4.3, 7.0, 20.0], pbc=(True, True, False)
    )
    assert check.mesh(cell, study) == (1, 1, 1)
    assert replace(check, gamma_only=False).mesh(cell, study) == (3, 2, 1)
    assert (
        check.describe(lcao, (1, 1, 1)) == "PBE, LCAO dzp (h 0.30 A), Gamma point, gaussian smearing 0.1 eV"
    )
