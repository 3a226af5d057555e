"""Energetics from records: hand calculations, identities between references, the settings guard."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from nanophase.calculators.records import CalcRecord
from nanophase.calculators.settings import PRESETS
from nanophase.energetics import (
    SettingsMismatch,
    energy_per_atom_change,
    ev_per_a2_to_j_per_m2,
    ev_per_a2_to_mev_per_a2,
    interface_excess_energy,
    require_same_settings,
    se_references,
    slab_grand_potential_per_area,
    vacancy_formation_energy,
)

SETTINGS = PRESETS["paper"]


def record(name: str, formula: str, energy: float, settings=SETTINGS, code="gpaw") -> CalcRecord:
    n_atoms = sum(int(n) if n else 1 for n in re.findall(r"[A-Z][a-z]?(\d*)", formula))
    return CalcRecord(
        name=name,
        task="relax",
        code=code,
        code_version="x",
        energy_ev=energy,
        forces_ev_per_a=[],
        max_force_ev_per_a=0.0,
        converged=True,
        ionic_steps=1,
        wall_time_s=1.0,
        settings=settings.to_dict(),
        physics=settings.physics(code),
        fingerprint=settings.fingerprint(code),
        input_hash="",
        output_hash="",
        n_atoms=n_atoms,
        formula=formula,
        kpoints=[1, 1, 1],
        spin_polarized=False,
    )


# A consistent set of made-up energies (eV): CdSe -4.0 per f.u. ... in a 4 f.u. cell, and so on.
CDSE = record("CdSe-zb", "Cd4Se4", -16.0)
CD = record("Cd-hcp", "Cd2", -1.8)  # -0.9 per atom
SE = record("Se-trigonal", "Se3", -10.5)  # -3.5 per atom
SE_ATOM = record("Se-atom", "Se", -0.5)
HOST = record("slab", "Cd8Se8", -31.0)
DEFECT = record("slab_vSe", "Cd8Se7", -26.2)


def test_references_by_hand():
    refs = se_references(CDSE, CD, SE, SE_ATOM)
    assert refs.atom == pytest.approx(-0.5)
    assert refs.anion_rich == pytest.approx(-3.5)
    assert refs.cation_rich == pytest.approx(-4.0 + 0.9)
    assert refs.formation_enthalpy == pytest.approx(-4.0 + 0.9 + 3.5)
    assert refs.cohesive_energy == pytest.approx(3.0)


def test_allowed_range_is_the_formation_enthalpy():
    refs = se_references(CDSE, CD, SE, SE_ATOM)
    assert refs.cation_rich - refs.anion_rich == pytest.approx(refs.formation_enthalpy)
    scan = refs.scan(5)
    assert scan[0] == pytest.approx(refs.cation_rich) and scan[-1] == pytest.approx(refs.anion_rich)


def test_formation_energy_by_hand():
    # E_f = E_defect - E_host + mu_Se = -26.2 + 31.0 - 0.5
    assert vacancy_formation_energy(DEFECT, HOST, {"Se": -0.5}) == pytest.approx(4.3)


def test_atom_minus_se_rich_formation_energy_is_the_cohesive_energy():
    refs = se_references(CDSE, CD, SE, SE_ATOM)
    two = record("slab_vSe2", "Cd8Se6", -21.1)
    for defect, n in ((DEFECT, 1), (two, 2)):
        by_atom = vacancy_formation_energy(defect, HOST, {"Se": refs.mu("atom")})
        by_rich = vacancy_formation_energy(defect, HOST, {"Se": refs.mu("anion-rich")})
        assert by_atom - by_rich == pytest.approx(n * refs.cohesive_energy)


def test_guard_refuses_different_settings_naming_both_records():
    other = record("Se-atom", "Se", -0.5, settings=replace(SETTINGS, encut_ev=300.0))
    with pytest.raises(
        SettingsMismatch, match=r"slab_vSe \(\w+\) and Se-atom \(\w+\) differ in encut_ev: 400.0 vs 300.0"
    ):
        require_same_settings(DEFECT, other)
    with pytest.raises(SettingsMismatch, match="code: 'gpaw' vs 'vasp'"):
        vacancy_formation_energy(DEFECT, record("slab", "Cd8Se8", -31.0, code="vasp"), {"Se": -0.5})
    with pytest.raises(SettingsMismatch):
        se_references(CDSE, CD, SE, other)


def test_guard_refuses_a_bulk_reference_sampled_at_another_k_point_density():
    """The quick preset once sampled slabs at the Gamma point and bulk references on a 6x6x6 mesh from
    one config: two records differing only in the density are never subtracted, and both are named."""
    quick = PRESETS["quick"]
    slab = record("slab_vSe", "Cd8Se7", -26.2, settings=quick)
    dense_bulk = record("CdSe-zb", "Cd4Se4", -16.0, settings=replace(quick, kpoint_length_a=25.0))
    with pytest.raises(
        SettingsMismatch,
        match=r"slab_vSe \(\w+\) and CdSe-zb \(\w+\) differ in kpoint_length_a: 11.5 vs 25.0",
    ):
        require_same_settings(slab, dense_bulk)
    assert require_same_settings(slab, record("CdSe-zb", "Cd4Se4", -16.0, settings=quick))


def test_defect_must_be_the_host_minus_atoms():
    with pytest.raises(ValueError, match="lacks"):
        vacancy_formation_energy(record("x", "Cd8Se8S1", -30.0), HOST, {"Se": -0.5})
    with pytest.raises(ValueError, match="no chemical potential"):
        vacancy_formation_energy(DEFECT, HOST, {"Cd": -0.9})


def test_study_measure_energy_per_atom():
    assert energy_per_atom_change(DEFECT, HOST) == pytest.approx(-26.2 / 15 + 31.0 / 16)


def test_stoichiometric_slab_grand_potential_does_not_depend_on_mu():
    values = [slab_grand_potential_per_area(HOST, -4.0, mu, area_a2=50.0) for mu in (-3.5, -3.3, -3.1)]
    assert values == pytest.approx([values[0]] * 3)
    # a Se-poor slab gets cheaper as Se gets scarcer (lower mu_Se)
    poor = [slab_grand_potential_per_area(DEFECT, -4.0, mu, area_a2=50.0) for mu in (-3.5, -3.1)]
    # d(Omega/A)/d(mu_Se) = (N_Cd - N_Se) / (2 A) = 1 / 100
    assert poor[1] - poor[0] == pytest.approx(0.01 * 0.4)


def test_interface_excess_energy_by_hand():
    bare = record("PbS-100-5L", "Pb10S10", -100.0)
    stack = record("PbS-100-5L_rsCdS1-zbCdS0-both", "Cd4Pb10S14", -130.0)
    cds = record("CdS-rs", "Cd4S4", -28.0)  # -7 per f.u.
    value = interface_excess_energy(stack, bare, cds, "CdS", area_a2=35.0, faces=2)
    assert value == pytest.approx((-130.0 + 100.0 + 4 * 7.0) / 70.0)


def test_unit_conversions():
    assert ev_per_a2_to_mev_per_a2(0.069) == pytest.approx(69.0)
    assert ev_per_a2_to_j_per_m2(0.001) * 62.415 == pytest.approx(1.0, rel=1e-4)  # 1 J/m^2 = 62.415 meV/A^2
