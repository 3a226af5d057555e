"""Debye-scattering XRD: form factors, the Debye sum against a direct double sum, Bragg positions."""

from __future__ import annotations

import numpy as np
import pytest

from nanophase.particles import build_particle, particle_specs
from nanophase.powder import XrdSettings, particle_pattern
from nanophase.xrd import (
    bragg_powder_intensities,
    debye_intensity,
    debye_intensity_direct,
    fit_reflections,
    form_factor,
    pair_histogram,
    polarisation_factor,
    q_from_two_theta,
    reflection_q,
    two_theta_deg,
)

PROTOTYPES = {"PbS-rs": "rocksalt", "CdS-zb": "zincblende", "CdS-rs": "rocksalt"}


def _particle(bulks, **entry):
    return build_particle(particle_specs({"p": entry}, PROTOTYPES)[0], bulks)


@pytest.mark.parametrize(("symbol", "z"), [("Pb", 82), ("Cd", 48), ("S", 16), ("Se", 34)])
def test_form_factor_is_the_electron_count_at_q0_and_falls(symbol, z):
    f = form_factor(symbol, np.array([0.0, 2.0, 6.0]))
    assert f[0] == pytest.approx(z, abs=0.05)
    assert f[0] > f[1] > f[2] > 0


def test_unknown_element_has_no_form_factor():
    with pytest.raises(ValueError, match="no X-ray form factor for Xe"):
        form_factor("Xe", np.array([1.0]))


@pytest.fixture(scope="module")
def small_core_shell(bulk):
    return _particle(
        bulk, kind="core_shell", core="PbS-rs", shell="CdS-zb", diameter_nm=1.6, conversions=[0.5]
    )


def test_debye_sum_equals_the_direct_double_sum(small_core_shell):
    assert len(set(small_core_shell.get_chemical_symbols())) == 3
    uniform = np.arange(0.5, 6.0, 0.01)  # the recurrence path
    scattered = np.sort(np.random.default_rng(3).uniform(0.5, 6.0, 40))  # the direct-sine path
    for q in (uniform, scattered):
        exact = debye_intensity(pair_histogram(small_core_shell, bin_width_a=0.0), q)
        direct = debye_intensity_direct(small_core_shell, q)
        assert np.max(np.abs(exact / direct - 1)) < 1e-8


def test_binned_distances_stay_within_the_bin_bound(small_core_shell):
    q = np.arange(1.0, 6.0, 0.01)
    direct = debye_intensity_direct(small_core_shell, q)
    binned = debye_intensity(pair_histogram(small_core_shell, bin_width_a=1e-3), q)
    coarse = debye_intensity(pair_histogram(small_core_shell, bin_width_a=2e-2), q)
    error, coarse_error = np.max(np.abs(binned / direct - 1)), np.max(np.abs(coarse / direct - 1))
    assert error < 5e-3
    assert coarse_error > error  # the bin width is what sets the error
    # the pair count is kept: the Q -> 0 limit (sum f)^2 holds exactly with any bin
    histogram = pair_histogram(small_core_shell, bin_width_a=2e-2)
    n = len(small_core_shell)
    assert histogram.counts.sum() == n * (n - 1) / 2


def test_debye_waller_damps_pairs_only(small_core_shell):
    q = np.array([1.0, 3.0, 5.0])
    histogram = pair_histogram(small_core_shell, bin_width_a=0.0)
    static = debye_intensity(histogram, q)
    damped = debye_intensity(histogram, q, {"Pb": 1.0, "Cd": 1.0, "S": 1.0})
    self_term = sum(form_factor(s, q) ** 2 for s in small_core_shell.get_chemical_symbols())
    s2 = (q / (4 * np.pi)) ** 2
    assert np.allclose(damped - self_term, (static - self_term) * np.exp(-2 * s2))


def test_bulk_like_particle_has_its_peaks_at_the_bragg_positions(bulk):
    atoms = _particle(bulk, kind="sphere", bulk="PbS-rs", diameter_nm=6.0)
    settings = XrdSettings(two_theta_deg=(20.0, 50.0))
    pattern = particle_pattern(atoms, settings)
    peaks = fit_reflections(pattern["q (1/A)"].to_numpy(), pattern["diffractometer intensity (e^2)"].to_numpy(),
                            [5.936], settings.wavelength_a, diameter_a=60.0)  # fmt: skip
    for label, hkl in (("(111)", (1, 1, 1)), ("(200)", (2, 0, 0)), ("(220)", (2, 2, 0))):
        assert peaks[label].centre_inv_a == pytest.approx(reflection_q(5.936, hkl), rel=3e-3)
        assert not peaks[label].split
    # Scherrer: FWHM ~ 2 pi K / D for a 6 nm sphere (K ~ 0.9-1.2 depending on the definition)
    assert 2 * np.pi * 0.8 / 60 < peaks["(220)"].fwhm_inv_a[0] < 2 * np.pi * 1.4 / 60
    # and I111/I200 of the particle near that of the bulk powder (finite size moves it a little)
    bragg = bragg_powder_intensities(bulk["PbS-rs"], settings.wavelength_a)
    ratio = peaks["(111)"].area_two_theta / peaks["(200)"].area_two_theta
    assert ratio == pytest.approx(bragg["(111)"] / bragg["(200)"], rel=0.1)


@pytest.mark.parametrize(("key", "published"), [("PbS-rs", 0.96), ("CdS-zb", 4.6), ("CdS-rs", 0.6)])
def test_bulk_powder_ratio_near_the_powder_file(bulk, key, published):
    intensities = bragg_powder_intensities(bulk[key], 1.5406)
    # no Debye-Waller factor here, the files have one: agreement within 10 %
    assert intensities["(111)"] / intensities["(200)"] == pytest.approx(published, rel=0.1)


def test_rock_salt_structure_factor_identity(bulk):
    """(111): |F| = 4 |f_Pb - f_S|, (200): 4 (f_Pb + f_S); multiplicities 8 and 6."""
    lam = 1.5406
    intensities = bragg_powder_intensities(bulk["PbS-rs"], lam)
    for label, hkl, sign, m in (("(111)", (1, 1, 1), -1, 8), ("(200)", (2, 0, 0), 1, 6)):
        q = reflection_q(5.936, hkl)
        f = 4 * (form_factor("Pb", np.array([q]))[0] + sign * form_factor("S", np.array([q]))[0])
        theta = np.radians(two_theta_deg(q, lam) / 2)
        lp = (1 + np.cos(2 * theta) ** 2) / (np.sin(theta) ** 2 * np.cos(theta))
        assert intensities[label] == pytest.approx(m * f**2 * lp, rel=1e-10)


def test_angles_and_polarisation():
    q = q_from_two_theta(np.array([30.0, 90.0]), 1.5406)
    assert np.allclose(two_theta_deg(q, 1.5406), [30.0, 90.0])
    assert polarisation_factor(np.array([0.0, 90.0])) == pytest.approx([1.0, 0.5])


def test_zinc_blende_shell_raises_and_rock_salt_shell_lowers_i111_over_i200(bulk):
    """The study's simulated trends, on 4 nm particles: zb shell I111/I200 up, rs shell down, rs peaks to higher Q."""
    settings = XrdSettings(two_theta_deg=(20.0, 50.0))
    ratios, q200 = {}, {}
    for shell in ("CdS-zb", "CdS-rs"):
        for fraction in (0.0, 1.0):
            atoms = _particle(bulk, kind="core_shell", core="PbS-rs", shell=shell, shell_lattice_a=5.818,
                              diameter_nm=4.0, conversions=[fraction])  # fmt: skip
            pattern = particle_pattern(atoms, settings)
            peaks = fit_reflections(pattern["q (1/A)"].to_numpy(), pattern["diffractometer intensity (e^2)"].to_numpy(),
                                    [5.936, 5.818], settings.wavelength_a, diameter_a=40.0)  # fmt: skip
            ratios[shell, fraction] = peaks["(111)"].height / peaks["(200)"].height
            q200[shell, fraction] = peaks["(200)"].centre_inv_a
    assert ratios["CdS-zb", 1.0] > 2 * ratios["CdS-zb", 0.0]
    assert ratios["CdS-rs", 1.0] < 0.8 * ratios["CdS-rs", 0.0]
    assert q200["CdS-rs", 1.0] > q200["CdS-rs", 0.0]


def test_debye_sum_matches_debyecalculator(small_core_shell):
    """The maintained implementation (DebyeCalculator, Johansen et al.; float32 on CPU) agrees up to its
    normalisation: it returns half the double sum over ordered pairs, i.e. I(Q)/2."""
    debyecalculator = pytest.importorskip("debyecalculator", reason="dev extra: pip install -e .[dev]")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q, reference = debyecalculator.DebyeCalculator(
            qmin=1.0, qmax=5.0, qstep=0.01, biso=0.0, device="cpu"
        ).iq(small_core_shell)
    ours = debye_intensity(pair_histogram(small_core_shell, bin_width_a=0.0), np.asarray(q, dtype=float))
    assert np.allclose(np.asarray(reference) / ours, 0.5, rtol=1e-5)


def test_pair_distribution_peaks_at_the_bonds(bulk):
    """G(r) of a PbS particle from its Debye I(Q): first maximum at the Pb-S bond a/2, then a/sqrt(2)."""
    from nanophase.powder import particle_pdf

    atoms = _particle(bulk, kind="sphere", bulk="PbS-rs", diameter_nm=2.5)
    pdf = particle_pdf(atoms, XrdSettings(pdf_r_max_a=5.0))
    r, g = pdf["r (A)"].to_numpy(), pdf["G(r) (1/A^2)"].to_numpy()
    first = r[np.argmax(np.where(r < 3.5, g, -np.inf))]
    second = r[np.argmax(np.where((r > 3.5) & (r < 4.8), g, -np.inf))]
    assert first == pytest.approx(5.936 / 2, abs=0.03)
    assert second == pytest.approx(5.936 / np.sqrt(2), abs=0.03)
    assert g[r < 2.0].max() < 0.2 * g.max()  # nothing inside the shortest distance but termination ripples
