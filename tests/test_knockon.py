"""Knock-on kinematics against the published numbers, hand calculations and exact identities."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nanophase.knockon import (
    knock_on,
    max_transfer_egerton_ev,
    max_transfer_ev,
    mckinley_feshbach_cross_section_barn,
    recommended_cross_section,
    rutherford_cross_section_barn,
    threshold_voltage_kv,
)


def test_published_maximum_transfer_to_se():
    """../shared/science.md: about 6.64 eV at 200 keV and 10.81 eV at 300 keV (Egerton's formula)."""
    assert max_transfer_egerton_ev(200, "Se") == pytest.approx(6.64, abs=0.01)
    assert max_transfer_egerton_ev(300, "Se") == pytest.approx(10.81, rel=0.005)  # 10.78 with M = 78.971 u


def test_hand_calculation_with_codata_constants():
    # 2 E0 (E0 + 2 m0c^2) / Mc^2 with E0 = 2e5 eV, m0c^2 = 510998.95 eV, M = 78.971 u = 7.35617e10 eV
    hand = 2 * 2e5 * (2e5 + 2 * 510998.95) / (78.971 * 931494102.42)
    assert max_transfer_egerton_ev(200, "Se") == pytest.approx(hand, rel=1e-12)
    assert max_transfer_egerton_ev(200, "Se") == pytest.approx(6.6448, abs=1e-4)


def test_exact_kinematics_differ_from_egerton_only_by_the_electron_to_nucleus_mass_ratio():
    for element in ("S", "Se", "Cd", "Pb"):
        exact, egerton = max_transfer_ev(200, element), max_transfer_egerton_ev(200, element)
        assert exact < egerton
        assert (egerton - exact) / egerton < 5e-5  # m0/M ~ 1e-5 and E0/Mc^2 ~ 1e-6
    lighter_first = [max_transfer_ev(200, e) for e in ("S", "Se", "Cd", "Pb")]
    assert lighter_first == sorted(lighter_first, reverse=True)  # 1/M


def test_non_relativistic_limit():
    """At 10 V the exact formula is the classical head-on result 4 m M E0 / (m + M)^2, up to the
    relativistic factor 1 + E0 / (2 m0c^2) = 1 + 1e-5."""
    m, mass = 510998.95, 78.971 * 931494102.42
    classical = 4 * m * mass * 10 / (m + mass) ** 2
    assert max_transfer_ev(0.01, "Se") == pytest.approx(classical * (1 + 10 / (2 * m)), rel=1e-9)


@pytest.mark.parametrize("element, ed", [("Se", 5.12), ("Se", 10.0), ("S", 6.9), ("Cd", 3.0), ("Pb", 2.5)])
def test_threshold_voltage_is_the_exact_inverse(element, ed):
    voltage = threshold_voltage_kv(ed, element)
    assert max_transfer_ev(voltage, element) == pytest.approx(ed, rel=1e-10)


def test_se_vacancy_energy_of_the_study_is_reached_below_200_kv():
    """5.12 eV < 6.64 eV: Se can be sputtered at 200 kV (the study's argument)."""
    assert 150 < threshold_voltage_kv(5.12, "Se") < 200


def test_rutherford_cross_section_by_hand():
    # beta^2 at 200 kV: gamma = 1 + 200/510.99895; prefactor 4 pi a0^2 Z^2 E_R^2/(m0c^2)^2 (1-b^2)/b^4
    gamma = 1 + 200 / 510.99895
    beta2 = 1 - 1 / gamma**2
    prefactor_barn = (4 * 3.141592653589793 * (5.29177210903e-11) ** 2 * 34**2 * 13.605693122994**2
                      / 510998.95**2 * (1 - beta2) / beta2**2) / 1e-28  # fmt: skip
    assert prefactor_barn == pytest.approx(637.3, abs=0.5)
    expected = prefactor_barn * (max_transfer_ev(200, "Se") / 5.12 - 1)
    assert rutherford_cross_section_barn(200, "Se", 5.12) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("model", [rutherford_cross_section_barn, mckinley_feshbach_cross_section_barn])
def test_cross_sections_vanish_below_threshold_and_grow_above(model):
    threshold = threshold_voltage_kv(5.12, "Se")
    assert model(threshold * 0.99, "Se", 5.12) == 0.0
    values = [model(v, "Se", 5.12) for v in (200, 250, 300)]
    assert 0 < model(threshold * 1.0001, "Se", 5.12) < 0.01 * values[0]  # continuous at threshold
    assert 0 < values[0] < values[1] < values[2]


def test_which_cross_section_for_which_element():
    assert recommended_cross_section("S") == "mckinley-feshbach"
    assert recommended_cross_section("Se") == "rutherford"  # Z = 34 >= 28


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="element"):
        max_transfer_ev(200, "Xx")
    with pytest.raises(ValueError, match="voltage_kv"):
        max_transfer_ev(-1, "Se")
    with pytest.raises(ValueError, match="displacement energy"):
        threshold_voltage_kv(0, "Se")


def test_knock_on_bundle_and_cli():
    result = knock_on("Se", 200, 5.12)
    assert result.threshold_voltage_kv == pytest.approx(threshold_voltage_kv(5.12, "Se"))
    out = subprocess.run(
        [sys.executable, "-m", "nanophase", "knockon", "Se", "--voltage", "200", "--ed", "5.12"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Se at 200 kV: E_max = 6.645 eV" in out and "threshold 159.4 kV" in out
    assert f"sigma_Rutherford = {result.rutherford_barn:.2f} b" in out
