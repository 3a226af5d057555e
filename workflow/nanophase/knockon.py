"""Electron-beam knock-on: energy transferred to a nucleus, threshold voltages, displacement cross-sections.

Energies in eV, voltages in kV (an electron accelerated through V kV has E0 = V keV), cross-sections in
barn (1 b = 1e-28 m^2). Atomic masses: ASE's standard table (IUPAC average atomic weights).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ase.data import atomic_masses, atomic_numbers
from scipy.special import loggamma

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
    voltage_kv: float, element: str, displacement_energy_ev: float, max_transfer: float | None = None
) -> float:
    """McKinley-Feshbach displacement cross-section (valid for Z < 28; Mott above), barn.

    sigma = prefactor * {(r - 1) - beta^2 ln r + pi alpha Z beta [2 (sqrt(r) - 1) - ln r]},
    r = T_m/T_d; zero below threshold. `max_transfer` replaces E_max (a moving nucleus).
    """
    transfer = max_transfer_ev(voltage_kv, element) if max_transfer is None else max_transfer
    ratio = transfer / displacement_energy_ev
    if ratio <= 1:
        return 0.0
    beta2 = _beta_squared(voltage_kv)
    z = atomic_numbers[element]
    bracket = (ratio - 1) - beta2 * math.log(ratio) + math.pi * FINE_STRUCTURE * z * math.sqrt(beta2) * (
        2 * (math.sqrt(ratio) - 1) - math.log(ratio))  # fmt: skip
    return _prefactor_m2(element, beta2) * bracket / BARN_M2


def recommended_cross_section(element: str) -> str:
    """Which cross-section suits the element: McKinley-Feshbach below Z = 28, the exact Mott from there."""
    return "mckinley-feshbach" if atomic_numbers[element] < 28 else "mott"


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
    mott_barn: float | None = None


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
            mott_barn=mott_cross_section_barn(voltage_kv, element, displacement_energy_ev),
        )
    return KnockOn(element=element, voltage_kv=voltage_kv, **numbers)


# --- Mott cross-section -----------------------------------------------------------------------------------
# The exact (unscreened, point-nucleus) Mott cross-section from the Dirac partial-wave series (Mott, Proc. R.
# Soc. A 124, 425 (1929); the series and its evaluation as in Doggett & Spencer, Phys. Rev. 103, 1597 (1956)).
# McKinley-Feshbach (Phys. Rev. 74, 1759 (1948)) is its expansion to first order in alpha Z: fine for light
# atoms, wrong by tens of per cent for Se, Cd and Pb; Boschini et al. (arXiv:1304.5871) fit this same ratio
# (their Pb fit and this series agree within 1.5 % at 80-300 kV: tests/test_knockon.py).
MOTT_PARTIAL_WAVES = 600
MOTT_REDUCTIONS = 3  # Yennie-Ravenhall-Wilson reductions that make the Coulomb series converge
MOTT_QUADRATURE = 48


def _coulomb_phases(z: int, beta: float, positron: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """exp(2 i delta_kappa) of the Dirac-Coulomb problem for kappa = -l-1 (j = l+1/2) and kappa = l.

    exp(2 i delta) = (kappa - i eta/gamma) / (rho - i eta) * Gamma(rho + 1 - i eta) / Gamma(rho + 1 + i eta)
                     * exp(i pi (l - rho)),  rho = sqrt(kappa^2 - (alpha Z)^2),  eta = +-alpha Z / beta.
    Index l = 0..L for kappa = -l-1; for kappa = l the entry l = 0 is unused (no such state).
    """
    alpha_z = FINE_STRUCTURE * z
    gamma = 1 / math.sqrt(1 - beta * beta)
    eta = (-1.0 if positron else 1.0) * alpha_z / beta
    ell = np.arange(MOTT_PARTIAL_WAVES + MOTT_REDUCTIONS + 2, dtype=float)

    def phase(kappa: np.ndarray, l_of: np.ndarray) -> np.ndarray:
        rho = np.sqrt(kappa**2 - alpha_z**2)
        ratio = (kappa - 1j * eta / gamma) / (rho - 1j * eta)
        gammas = np.exp(-2j * loggamma(rho + 1 + 1j * eta).imag)
        return ratio * gammas * np.exp(1j * np.pi * (l_of - rho))

    minus = phase(-(ell + 1), ell)
    plus = np.ones_like(minus)
    plus[1:] = phase(ell[1:], ell[1:])
    return minus, plus


def _reduce(coefficients: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Coefficients of (1 - x) * series: c_l - lower_l c_(l-1) - upper_l c_(l+1) (the last one dropped)."""
    n = len(coefficients)
    reduced = coefficients[:-1].copy()
    reduced[1:] -= lower[1 : n - 1] * coefficients[:-2]
    reduced -= upper[: n - 1] * coefficients[1:]
    return reduced


def _legendre_sums(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sum a_l P_l(x) and sum b_l P_l^1(x), by upward recurrence."""
    p_prev, p = np.ones_like(x), x.copy()
    q_prev, q = np.zeros_like(x), -np.sqrt(1 - x * x)
    f = a[0] * p_prev + a[1] * p
    g = b[1] * q
    for ell in range(1, len(a) - 1):
        p_prev, p = p, ((2 * ell + 1) * x * p - ell * p_prev) / (ell + 1)
        q_prev, q = q, ((2 * ell + 1) * x * q - (ell + 1) * q_prev) / ell
        f = f + a[ell + 1] * p
        g = g + b[ell + 1] * q
    return f, g


def mott_rutherford_ratio(theta: np.ndarray, z: int, beta: float, positron: bool = False) -> np.ndarray:
    """sigma_Mott / sigma_Rutherford at scattering angles theta (rad, > 0) for a point nucleus of charge z.

    dsigma/dOmega = |f|^2 + |g|^2 with f = (1/2ik) sum_l [(l+1) e^(2i delta_-l-1) + l e^(2i delta_l)] P_l,
    g = (1/2ik) sum_l [e^(2i delta_l) - e^(2i delta_-l-1)] P_l^1; Rutherford's |f_R|^2 = eta^2/(4k^2 sin^4).
    """
    theta = np.atleast_1d(np.asarray(theta, dtype=float))
    minus, plus = _coulomb_phases(z, beta, positron)
    ell = np.arange(len(minus), dtype=float)
    a = (ell + 1) * minus + ell * plus
    b = plus - minus
    b[0] = 0.0
    # (1 - x)^m f and (1 - x)^m g converge fast; divide by (1 - x)^m afterwards
    with np.errstate(divide="ignore", invalid="ignore"):
        a_lower, a_upper = ell / (2 * ell - 1), (ell + 1) / (2 * ell + 3)
        b_lower, b_upper = (ell - 1) / (2 * ell - 1), (ell + 2) / (2 * ell + 3)
    for _ in range(MOTT_REDUCTIONS):
        a, b = _reduce(a, a_lower, a_upper), _reduce(b, b_lower, b_upper)
    a, b = a[: MOTT_PARTIAL_WAVES + 1], b[: MOTT_PARTIAL_WAVES + 1]
    x = np.cos(theta)
    f, g = _legendre_sums(a, b, x)
    scale = (1 - x) ** MOTT_REDUCTIONS
    eta = FINE_STRUCTURE * z / beta
    return (np.abs(f / scale) ** 2 + np.abs(g / scale) ** 2) * np.sin(theta / 2) ** 4 / eta**2


def mckinley_feshbach_ratio(theta: np.ndarray, z: int, beta: float) -> np.ndarray:
    """McKinley-Feshbach's first order in alpha Z: 1 - b^2 s^2 + pi alpha Z b s (1 - s), s = sin(theta/2)."""
    s = np.sin(np.asarray(theta, dtype=float) / 2)
    return 1 - beta**2 * s**2 + math.pi * FINE_STRUCTURE * z * beta * s * (1 - s)


def _displacement_integral(ratio_of_angle, transfer_ratio: float) -> float:
    """int_{s0}^{1} R(s) ds / s^2 with s = sin^2(theta/2) = 1/u: the integral over u in [1, T_max/T_d]."""
    nodes, weights = np.polynomial.legendre.leggauss(MOTT_QUADRATURE)
    u = 1 + (transfer_ratio - 1) * (nodes + 1) / 2
    theta = 2 * np.arcsin(np.sqrt(1 / u))
    return float(np.sum(weights * ratio_of_angle(theta)) * (transfer_ratio - 1) / 2)


def mott_cross_section_barn(
    voltage_kv: float, element: str, displacement_energy_ev: float, max_transfer: float | None = None
) -> float:
    """Displacement cross-section with the exact Mott ratio: prefactor * int R dOmega over T > T_d, barn.

    `max_transfer` replaces E_max (a moving nucleus, see thermal_cross_section_barn).
    """
    transfer = max_transfer_ev(voltage_kv, element) if max_transfer is None else max_transfer
    ratio = transfer / displacement_energy_ev
    if ratio <= 1:
        return 0.0
    beta2 = _beta_squared(voltage_kv)
    z = atomic_numbers[element]
    integral = _displacement_integral(lambda t: mott_rutherford_ratio(t, z, math.sqrt(beta2)), ratio)
    return _prefactor_m2(element, beta2) * integral / BARN_M2


# --- thermal vibrations -----------------------------------------------------------------------------------
BOLTZMANN_EV_PER_K = 8.617333262e-5
SPEED_OF_LIGHT_M_S = 299_792_458.0
THERMAL_POINTS = 41  # Gauss-Hermite nodes over the velocity distribution


def debye_mean_square_velocity(element: str, temperature_k: float, debye_temperature_k: float,
                               zero_point: bool = True) -> float:  # fmt: skip
    """<v_z^2>/c^2 of a nucleus along one direction in a Debye solid (dimensionless).

    Half the oscillator energy is kinetic: M <v_z^2> = <hbar w (n(w) + 1/2)> over the Debye spectrum
    = 3 kT (T/theta)^3 int_0^(theta/T) x^3/(e^x - 1) dx + (3/8) k theta (the zero-point part, kept by
    default: Meyer et al., PRL 108, 196102 (2012) needed it for graphene's thresholds); -> kT at high T.
    """
    if temperature_k < 0 or debye_temperature_k <= 0:
        raise ValueError(f"need temperature_k >= 0 and debye_temperature_k > 0, got {temperature_k}, "
                         f"{debye_temperature_k}")  # fmt: skip
    energy = (3 / 8) * BOLTZMANN_EV_PER_K * debye_temperature_k if zero_point else 0.0
    if temperature_k > 0:
        upper = debye_temperature_k / temperature_k
        x = np.linspace(1e-9, min(upper, 60.0), 2001)  # the integrand is below 1e-20 beyond x = 60
        integral = float(np.trapezoid(x**3 / np.expm1(x), x))
        energy += 3 * BOLTZMANN_EV_PER_K * temperature_k * integral / upper**3
    return energy / nucleus_rest_energy_ev(element)


def max_transfer_moving_ev(voltage_kv: float, element: str, velocity_over_c: float) -> float:
    """E_max to a nucleus moving along the beam at v: E_max(0) + 2 p v, to first order in v/c (Meyer et al.
    2012): the momentum transfer 2p adds q.v to the nucleus's kinetic energy. Head-on, any angle scales
    with sin^2(theta/2) alike."""
    e0 = _beam_energy_ev(voltage_kv)
    momentum_ev = math.sqrt(e0 * (e0 + 2 * ELECTRON_REST_ENERGY_EV))  # p c
    return max_transfer_ev(voltage_kv, element) + 2 * momentum_ev * velocity_over_c


def thermal_cross_section_barn(voltage_kv: float, element: str, displacement_energy_ev: float,
                               mean_square_velocity: float, model: str = "mott") -> float:  # fmt: skip
    """Displacement cross-section averaged over the Gaussian velocity of the target along the beam.

    sigma(E0) = int P(v) sigma(E_max(v)) dv, P normal with variance `mean_square_velocity` (units of c^2,
    debye_mean_square_velocity); the threshold region widens and sigma > 0 slightly below threshold.
    """
    cross_section = {"mott": mott_cross_section_barn,
                     "mckinley-feshbach": mckinley_feshbach_cross_section_barn}[model]  # fmt: skip
    if mean_square_velocity <= 0:
        return cross_section(voltage_kv, element, displacement_energy_ev)
    nodes, weights = np.polynomial.hermite_e.hermegauss(THERMAL_POINTS)
    spread = math.sqrt(mean_square_velocity)
    total = 0.0
    for node, weight in zip(nodes, weights, strict=True):
        transfer = max_transfer_moving_ev(voltage_kv, element, node * spread)
        if transfer > displacement_energy_ev:
            total += weight * cross_section(voltage_kv, element, displacement_energy_ev, transfer)
    return total / math.sqrt(2 * math.pi)


# --- dose ---------------------------------------------------------------------------------------------------
A2_PER_BARN = 1e-8  # 1 b = 1e-28 m^2 = 1e-8 A^2


def removal_dose_e_per_a2(cross_section_barn: float, fraction: float) -> float:
    """Electron dose (e/A^2) after which `fraction` of such sites are gone: 1 - exp(-sigma D) = fraction."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction: must be in (0, 1), got {fraction}")
    if cross_section_barn <= 0:
        return math.inf
    return -math.log1p(-fraction) / (cross_section_barn * A2_PER_BARN)


def removal_time_s(cross_section_barn: float, fraction: float, dose_rate_e_per_a2_s: float) -> float:
    """Time under a dose rate (e/A^2/s) for the beam to remove `fraction` of such sites (rate sigma phi)."""
    return removal_dose_e_per_a2(cross_section_barn, fraction) / dose_rate_e_per_a2_s
