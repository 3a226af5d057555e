"""Electron-beam knock-on: energy transferred to a nucleus, threshold voltages, displacement cross-sections.

Energies in eV, voltages in kV (an electron accelerated through V kV has E0 = V keV), cross-sections in
barn (1 b = 1e-28 m^2). Atomic masses: ASE's standard table (IUPAC average atomic weights).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ase.data import atomic_masses, atomic_numbers

ELECTRON_REST_ENERGY_EV = 510_998.95  # m0 c^2, CODATA 2018
ATOMIC_MASS_UNIT_EV = 931_494_102.42  # u c^2, CODATA 2018
BOHR_RADIUS_M = 5.29177210903e-11
RYDBERG_EV = 13.605693122994
FINE_STRUCTURE = 1 / 137.035999084
BARN_M2 = 1e-28


def nucleus_rest_energy_ev(element: str) -> float:
    """M c^2 of the element's nucleus (average atomic mass; electrons' mass negligible here), eV."""
    try:
        return float(atomic_masses[atomic_numbers[element]]) * ATOMIC_MASS_UNIT_EV
    except KeyError:
        raise ValueError(f"element: {element!r} is not a chemical symbol") from None


def max_transfer_ev(voltage_kv: float, element: str) -> float:
    """Largest energy a beam electron of `voltage_kv` hands to a free nucleus at rest (head-on), eV.

    Exact relativistic two-body kinematics:
        E_max = 2 Mc^2 (pc)^2 / [(m0c^2 + Mc^2)^2 + 2 Mc^2 E0],  (pc)^2 = E0 (E0 + 2 m0c^2).
    """
    e0 = _beam_energy_ev(voltage_kv)
    mc2, m0c2 = nucleus_rest_energy_ev(element), ELECTRON_REST_ENERGY_EV
    return 2 * mc2 * e0 * (e0 + 2 * m0c2) / ((m0c2 + mc2) ** 2 + 2 * mc2 * e0)


def max_transfer_egerton_ev(voltage_kv: float, element: str) -> float:
    """Egerton's form (Microsc. Microanal. 19, 479 (2013)), the m0 << M limit of max_transfer_ev:
    E_max = 2 E0 (E0 + 2 m0c^2) / (Mc^2)."""
    e0 = _beam_energy_ev(voltage_kv)
    return 2 * e0 * (e0 + 2 * ELECTRON_REST_ENERGY_EV) / nucleus_rest_energy_ev(element)


def threshold_voltage_kv(displacement_energy_ev: float, element: str) -> float:
    """The beam voltage whose max_transfer_ev equals the displacement energy (exact inverse), kV.

    E_max(E0) = Ed is a quadratic in E0: 2Mc^2 E0^2 + 2Mc^2 (2m0c^2 - Ed) E0 - Ed (m0c^2 + Mc^2)^2 = 0.
    """
    if displacement_energy_ev <= 0:
        raise ValueError(f"displacement energy must be > 0 eV, got {displacement_energy_ev}")
    mc2, m0c2, ed = nucleus_rest_energy_ev(element), ELECTRON_REST_ENERGY_EV, displacement_energy_ev
    a = 2 * mc2
    b = 2 * mc2 * (2 * m0c2 - ed)
    c = -ed * (m0c2 + mc2) ** 2
    e0 = (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    return e0 / 1e3


def _beam_energy_ev(voltage_kv: float) -> float:
    if voltage_kv <= 0:
        raise ValueError(f"voltage_kv: must be > 0, got {voltage_kv}")
    return voltage_kv * 1e3


def _beta_squared(voltage_kv: float) -> float:
    gamma = 1 + _beam_energy_ev(voltage_kv) / ELECTRON_REST_ENERGY_EV
    return 1 - 1 / gamma**2


def _prefactor_m2(element: str, beta2: float) -> float:
    """4 pi a0^2 Z^2 E_R^2 / (m0c^2)^2 * (1 - beta^2) / beta^4, m^2."""
    z = atomic_numbers[element]
    return (
        4 * math.pi * BOHR_RADIUS_M**2 * z**2 * RYDBERG_EV**2 / ELECTRON_REST_ENERGY_EV**2
        * (1 - beta2) / beta2**2
    )  # fmt: skip


def rutherford_cross_section_barn(voltage_kv: float, element: str, displacement_energy_ev: float) -> float:
    """Displacement cross-section from Rutherford scattering with relativistic kinematics, barn.

    sigma = prefactor * (T_m/T_d - 1); zero below threshold.
    """
    ratio = max_transfer_ev(voltage_kv, element) / displacement_energy_ev
    if ratio <= 1:
        return 0.0
    return _prefactor_m2(element, _beta_squared(voltage_kv)) * (ratio - 1) / BARN_M2


def mckinley_feshbach_cross_section_barn(
    voltage_kv: float, element: str, displacement_energy_ev: float
) -> float:
    """McKinley-Feshbach displacement cross-section (valid for Z < 28; Rutherford above), barn.

    sigma = prefactor * {(r - 1) - beta^2 ln r + pi alpha Z beta [2 (sqrt(r) - 1) - ln r]},
    r = T_m/T_d; zero below threshold.
    """
    ratio = max_transfer_ev(voltage_kv, element) / displacement_energy_ev
    if ratio <= 1:
        return 0.0
    beta2 = _beta_squared(voltage_kv)
    z = atomic_numbers[element]
    bracket = (ratio - 1) - beta2 * math.log(ratio) + math.pi * FINE_STRUCTURE * z * math.sqrt(beta2) * (
        2 * (math.sqrt(ratio) - 1) - math.log(ratio))  # fmt: skip
    return _prefactor_m2(element, beta2) * bracket / BARN_M2


def recommended_cross_section(element: str) -> str:
    """Which cross-section suits the element: McKinley-Feshbach below Z = 28, Rutherford from there."""
    return "mckinley-feshbach" if atomic_numbers[element] < 28 else "rutherford"


@dataclass(frozen=True)
class KnockOn:
    """Knock-on numbers of one element (and displacement energy) at one voltage."""

    element: str
    voltage_kv: float
    max_transfer_ev: float
    max_transfer_egerton_ev: float
    displacement_energy_ev: float | None = None
    threshold_voltage_kv: float | None = None
    mckinley_feshbach_barn: float | None = None
    rutherford_barn: float | None = None


def knock_on(element: str, voltage_kv: float, displacement_energy_ev: float | None = None) -> KnockOn:
    """Every knock-on number of `element` at `voltage_kv`; threshold and cross-sections need Ed."""
    numbers = {
        "max_transfer_ev": max_transfer_ev(voltage_kv, element),
        "max_transfer_egerton_ev": max_transfer_egerton_ev(voltage_kv, element),
    }
    if displacement_energy_ev is not None:
        numbers.update(
            displacement_energy_ev=displacement_energy_ev,
            threshold_voltage_kv=threshold_voltage_kv(displacement_energy_ev, element),
            mckinley_feshbach_barn=mckinley_feshbach_cross_section_barn(
                voltage_kv, element, displacement_energy_ev
            ),
            rutherford_barn=rutherford_cross_section_barn(voltage_kv, element, displacement_energy_ev),
        )
    return KnockOn(element=element, voltage_kv=voltage_kv, **numbers)
