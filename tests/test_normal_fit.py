"""The normal of a strained shell from an E(c) fit: the scan brackets and fits a known minimum, agrees with
a stress relaxation where the stress is exact (a potential), and resumes from its points."""

from __future__ import annotations

import numpy as np
import pytest

from nanophase.calculators.mlip_calc import mlip_available, run_mlip
from nanophase.calculators.normal_fit import (
    STEP,
    NormalScanFailed,
    normal_length,
    relax_normal_by_energy,
    scan_normal,
    with_normal,
)
from nanophase.calculators.settings import CalcSettings
from nanophase.interfaces import strained_bulk
from nanophase.symmetry import primitive_cell


@pytest.mark.parametrize("minimum", [0.83, 0.95, 1.0, 1.04, 1.17])
def test_scan_finds_an_anharmonic_minimum_on_either_side(minimum):
    """A Morse-like E(f), steeper on compression: the fitted minimum within 0.3 % (the fit: 3 % steps, a cubic through five points) of the true one."""
    calls = []

    def energy(f):
        calls.append(f)
        x = f - minimum
        return 2.0 * (np.exp(-4.0 * x) - 2.0 * np.exp(-2.0 * x))

    factor, e_min, degree, points = scan_normal(energy)
    assert factor == pytest.approx(minimum, abs=2e-3)
    assert e_min == pytest.approx(-2.0, abs=2e-3)
    assert len(calls) == len(set(calls)) == len(points)  # no point computed twice
    lowest = min(points, key=lambda p: p[1])[0]
    assert any(abs(f - (lowest - STEP)) < 1e-6 for f, _ in points)  # bracketed on both sides
    assert any(abs(f - (lowest + STEP)) < 1e-6 for f, _ in points)


def test_scan_without_a_minimum_fails_with_the_reason():
    with pytest.raises(NormalScanFailed, match="still falls"):
        scan_normal(lambda f: -f)


def test_with_normal_scales_only_the_normal(bulk):
    strained = strained_bulk(bulk["CdS-zb"], bulk["PbS-rs"], "CdS-zb-on-PbS-rs")
    primitive = primitive_cell(strained)
    scaled = with_normal(primitive, 1.1)
    assert abs(np.linalg.det(scaled.cell.array)) == pytest.approx(
        1.1 * abs(np.linalg.det(primitive.cell.array))
    )
    assert scaled.cell.array[:, :2] == pytest.approx(primitive.cell.array[:, :2])
    assert normal_length(with_normal(strained, 1.1)) == pytest.approx(1.1 * strained.cell[2, 2])


@pytest.mark.skipif(not mlip_available("chgnet"), reason="chgnet not installed")
def test_energy_fit_agrees_with_the_stress_where_the_stress_is_exact(bulk, tmp_path):
    """Rock-salt CdS at the PbS in-plane lattice with CHGNet, whose stress is the derivative of its
    energy: the E(c) fit and the zz-stress relaxation find the same normal, within 0.3 % (the fit: 3 % steps, a cubic through five points). The volume-
    conserving start is far off (about 17 %): the scan walks there. A rerun resumes from the points."""
    strained = strained_bulk(bulk["CdS-rs"], bulk["PbS-rs"], "CdS-rs-on-PbS-rs")
    primitive = primitive_cell(strained)
    settings = CalcSettings(mlip_model="chgnet", fmax_ev_per_a=0.01)

    def relax_positions(cell, folder, scan_point):
        return run_mlip(cell, settings, folder, "relax", "CdS-rs-on-PbS-rs")

    c_start = normal_length(strained)
    record, final = relax_normal_by_energy(primitive, relax_positions, tmp_path / "scan", c_start)
    fit = record.extra["normal_fit"]
    stress_record, stress_final = run_mlip(primitive, settings, tmp_path / "stress", "relax-c", "stress")
    c_by_stress = c_start * abs(np.linalg.det(stress_final.cell.array) / np.linalg.det(primitive.cell.array))
    assert fit["c_fit_a"] == pytest.approx(c_by_stress, rel=3e-3)
    assert abs(fit["change_from_start"]) > 0.05  # the start was not the answer
    assert record.energy_ev <= min(e for _, e in fit["points"]) + 2e-3  # the fitted cell is the lowest
    assert abs(fit["fit_minus_computed_ev"]) < 5e-3 and record.task == "relax-c"
    assert record.energy_ev == pytest.approx(stress_record.energy_ev, abs=5e-3)
    assert final.cell.array[:, :2] == pytest.approx(primitive.cell.array[:, :2])  # in-plane lattice held
    # a rerun computes no scan point again: every point's record is read back
    computed = []

    def counting(cell, folder, scan_point):
        computed.append(folder.name)
        return relax_positions(cell, folder, scan_point)

    again, _ = relax_normal_by_energy(primitive, counting, tmp_path / "scan", c_start)
    assert computed == ["fitted"] and again.extra["normal_fit"]["points"] == fit["points"]


@pytest.mark.skipif(not mlip_available("chgnet"), reason="chgnet not installed")
def test_a_fitted_cell_computed_above_a_scan_point_gives_way_to_it(bulk, tmp_path):
    """E(c) at a constant plane-wave cutoff steps where the plane-wave count changes (10-20 meV in a
    2-atom cell at 200 eV), so the fitted cell can compute above its neighbours: modelled by raising the
    fitted cell's energy by 20 meV, the record is then the lowest scan point - its energy and its cell -
    and says so."""
    strained = strained_bulk(bulk["CdS-rs"], bulk["PbS-rs"], "CdS-rs-on-PbS-rs")
    primitive = primitive_cell(strained)
    settings = CalcSettings(mlip_model="chgnet", fmax_ev_per_a=0.01)

    def stepped(cell, folder, scan_point):
        record, final = run_mlip(cell, settings, folder, "relax", "CdS-rs-on-PbS-rs")
        if folder.name == "fitted":
            record.energy_ev += 0.02
        return record, final

    c_start = normal_length(strained)
    record, final = relax_normal_by_energy(primitive, stepped, tmp_path / "scan", c_start)
    fit = record.extra["normal_fit"]
    c_lowest, e_lowest = min(fit["points"], key=lambda point: point[1])
    assert record.energy_ev == pytest.approx(e_lowest, abs=1e-4)
    assert record.energy_ev < fit["fitted_cell_energy_ev"]
    volume_ratio = abs(np.linalg.det(final.cell.array) / np.linalg.det(primitive.cell.array))
    assert volume_ratio == pytest.approx(c_lowest / c_start, rel=1e-4)  # the point's cell, not the fitted one
    assert fit["c_record_a"] == pytest.approx(c_lowest) and "scan point" in fit["record"]
    assert record.task == "relax-c" and final.cell.array[:, :2] == pytest.approx(primitive.cell.array[:, :2])
