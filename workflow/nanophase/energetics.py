"""Energetics from calculation records: chemical potentials, vacancy formation and interface energies.

Every difference of energies goes through `require_same_settings`: terms computed with different
settings (fingerprints) are never subtracted. Energies in eV, areas in angstrom^2.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from nanophase.bulk import formula_counts, formula_elements
from nanophase.calculators.records import CalcRecord

EV_PER_A2_TO_J_PER_M2 = 16.02176634  # 1 eV/A^2 = 16.02 J/m^2
MEV_PER_A2_PER_J_PER_M2 = 62.415090744  # 1 J/m^2 = 62.415 meV/A^2


class SettingsMismatch(ValueError):
    """Two energies of one difference were computed with different settings."""


def require_same_settings(*records: CalcRecord) -> str:
    """The common fingerprint of `records`; raise naming the first two that differ.

    Raises:
        SettingsMismatch: with both record names, fingerprints and the physics settings that differ.
    """
    first = records[0]
    for other in records[1:]:
        if other.fingerprint != first.fingerprint:
            differing = sorted(k for k in set(first.physics) | set(other.physics)
                               if first.physics.get(k) != other.physics.get(k))  # fmt: skip
            details = ", ".join(
                f"{k}: {first.physics.get(k)!r} vs {other.physics.get(k)!r}" for k in differing
            )
            raise SettingsMismatch(
                f"refusing to subtract energies computed with different settings: {first.name} "
                f"({first.fingerprint}) and {other.name} ({other.fingerprint}) differ in {details}"
            )
    return first.fingerprint


def composition(record: CalcRecord) -> Counter[str]:
    """Atoms of each element of a record's structure, from its formula (e.g. Cd28Se27)."""
    counts: Counter[str] = Counter()
    for element, number in formula_counts(record.formula):
        counts[element] += number
    return counts


def energy_per_formula_unit(record: CalcRecord, formula: str) -> float:
    """Bulk energy per formula unit (e.g. "CdSe", "Se"), eV."""
    counts = composition(record)
    elements = formula_elements(formula)
    units = {counts[el] / n for el, n in formula_counts(formula)}
    if len(units) != 1 or set(counts) != set(elements):
        raise ValueError(f"{record.name} ({record.formula}) is not made of {formula} units")
    return record.energy_ev / units.pop()


@dataclass(frozen=True)
class AnionReferences:
    """Chemical potentials of the anion X (Se) and the limits of its allowed range, eV.

    Attributes:
        atom: the isolated, spin-polarised atom (the study's reference).
        anion_rich: the elemental solid (trigonal Se): upper limit of mu_X.
        cation_rich: E(compound per f.u.) - E(cation solid per atom): lower limit of mu_X.
        formation_enthalpy: dH_f = E(compound) - E(cation) - E(anion), per formula unit (< 0).
        cohesive_energy: E(atom) - E(solid per atom) of the anion (> 0).
        compound: E(compound per formula unit); mu_cation = compound - mu_anion in equilibrium with it.
        fingerprint: the settings every term shares.
    """

    anion: str
    atom: float
    anion_rich: float
    cation_rich: float
    formation_enthalpy: float
    cohesive_energy: float
    compound: float
    fingerprint: str

    def mu(self, reference: str) -> float:
        """mu of the anion for "atom", "anion-rich" (Se-rich) or "cation-rich" (Cd-rich)."""
        return {"atom": self.atom, "anion-rich": self.anion_rich, "cation-rich": self.cation_rich}[reference]

    def delta_mu(self, mu_anion: float) -> float:
        """mu of the anion relative to its elemental solid: dH_f (cation-rich) ... 0 (anion-rich)."""
        return mu_anion - self.anion_rich

    def scan(self, points: int = 11) -> np.ndarray:
        """mu of the anion across its allowed range, cation-rich to anion-rich."""
        return np.linspace(self.cation_rich, self.anion_rich, points)


def se_references(compound: CalcRecord, cation_solid: CalcRecord, anion_solid: CalcRecord,
                  anion_atom: CalcRecord, formula: str = "CdSe") -> AnionReferences:  # fmt: skip
    """Chemical potentials of the anion of `formula` from four records with identical settings."""
    fingerprint = require_same_settings(compound, cation_solid, anion_solid, anion_atom)
    cation, anion = formula_elements(formula)
    e_compound = energy_per_formula_unit(compound, formula)
    e_cation = energy_per_formula_unit(cation_solid, cation)
    e_anion = energy_per_formula_unit(anion_solid, anion)
    e_atom = energy_per_formula_unit(anion_atom, anion)
    return AnionReferences(
        anion=anion,
        atom=e_atom,
        anion_rich=e_anion,
        cation_rich=e_compound - e_cation,
        formation_enthalpy=e_compound - e_cation - e_anion,
        cohesive_energy=e_atom - e_anion,
        compound=e_compound,
        fingerprint=fingerprint,
    )


def vacancy_formation_energy(defect: CalcRecord, host: CalcRecord, mu: dict[str, float]) -> float:
    """E_f = E_defect - E_host + sum_i n_i mu_i over the atoms removed (n_i from the formulas), eV.

    Raises:
        SettingsMismatch: defect and host were computed with different settings.
        ValueError: the defect has atoms the host lacks, or a removed element has no mu.
    """
    require_same_settings(defect, host)
    removed = composition(host) - composition(defect)
    if composition(defect) - composition(host):
        raise ValueError(f"{defect.name} has atoms that {host.name} lacks: not a vacancy structure of it")
    missing = [el for el in removed if el not in mu]
    if missing:
        raise ValueError(f"no chemical potential for removed {missing}")
    return defect.energy_ev - host.energy_ev + sum(n * mu[el] for el, n in removed.items())


def energy_per_atom_change(defect: CalcRecord, host: CalcRecord) -> float:
    """The study's measure: E_defect/N_defect - E_host/N_host, eV/atom."""
    require_same_settings(defect, host)
    return defect.energy_ev / defect.n_atoms - host.energy_ev / host.n_atoms


def slab_grand_potential_per_area(slab: CalcRecord, compound_per_fu: float, mu_anion: float, area_a2: float,
                                  formula: str = "CdSe", faces: int = 2) -> float:  # fmt: skip
    """Omega / A = [E_slab - N_cation mu_cation - N_anion mu_anion] / (faces * A), with the cation in
    equilibrium with the compound (mu_cation = E_compound - mu_anion); eV/A^2 per face."""
    cation, anion = formula_elements(formula)
    counts = composition(slab)
    mu_cation = compound_per_fu - mu_anion
    return (slab.energy_ev - counts[cation] * mu_cation - counts[anion] * mu_anion) / (faces * area_a2)


def interface_excess_energy(stack: CalcRecord, bare_substrate: CalcRecord, shell_bulk: CalcRecord,
                            shell_formula: str, area_a2: float, faces: int) -> float:  # fmt: skip
    """Excess energy of the shell against the bare substrate slab and bulk shell, per interface area:
    [E_stack - E_bare - N_shell e_shell] / (faces * A), eV/A^2. It contains the shell's strain at the
    substrate's in-plane lattice, the shell's surface (replacing the substrate's) and the interface."""
    require_same_settings(stack, bare_substrate, shell_bulk)
    cation, _ = formula_elements(shell_formula)
    n_shell = composition(stack)[cation] - composition(bare_substrate)[cation]
    e_shell = energy_per_formula_unit(shell_bulk, shell_formula)
    return (stack.energy_ev - bare_substrate.energy_ev - n_shell * e_shell) / (faces * area_a2)


def ev_per_a2_to_mev_per_a2(value: float) -> float:
    return 1000.0 * value


def ev_per_a2_to_j_per_m2(value: float) -> float:
    return value * EV_PER_A2_TO_J_PER_M2
