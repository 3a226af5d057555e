"""Vacancy placements of one count: the lowest computed one and Boltzmann averages over them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nanophase.analysis import Calculated, chemical_potentials, slab_references, vacancy_models
from nanophase.energetics import vacancy_formation_energy
from nanophase.study import Study

K_B_EV_PER_K = 8.617333262e-5


def boltzmann_weights(
    energies_ev: np.ndarray, multiplicities: np.ndarray, temperature_k: float
) -> np.ndarray:
    """Occupation of each configuration: g_i exp(-(E_i - E_min)/kT), normalised; the lowest alone at 0 K."""
    energies_ev = np.asarray(energies_ev, dtype=float)
    g = np.asarray(multiplicities, dtype=float)
    if temperature_k <= 0:
        weights = (energies_ev == energies_ev.min()).astype(float) * g
    else:
        weights = g * np.exp(-(energies_ev - energies_ev.min()) / (K_B_EV_PER_K * temperature_k))
    return weights / weights.sum()


def configurations(study: Study, calculated: Calculated, temperature_k: float) -> pd.DataFrame:
    """Per series and number removed: the lowest computed placement and the Boltzmann average of E_f.

    E_f is taken at the anion-rich limit (placements of one count differ by a constant at any other mu).
    Weights are g exp(-E_f/kT) with g the orbit size of each placement; only computed placements enter,
    which the `placements` and `ranking` columns state.
    """
    rows = []
    for model in vacancy_models(study):
        refs = slab_references(study, model, calculated)
        formula = study.references[model.key].formula
        mu = chemical_potentials(refs, formula, refs.mu("anion-rich"))
        groups: dict[tuple[str, int, int, str], list] = {}
        for spec in model.vacancies:
            for series in spec.series.split(";"):
                depth = spec.depth if series == "depth" else 0  # a depth series has one structure per plane
                groups.setdefault((series, spec.n_vacancies, depth, spec.host), []).append(spec)
        for (series, count, depth, host), specs in groups.items():
            energies = np.array(
                [
                    vacancy_formation_energy(calculated.record(s.name), calculated.record(host), mu)
                    / s.n_vacancies
                    for s in specs
                ]
            )
            # a ranked slot holds the placement the potential chose: its orbit size is on the structure
            info = [calculated.structures[s.name].info for s in specs]
            multiplicity = np.array(
                [int(i.get("multiplicity", s.multiplicity)) for i, s in zip(info, specs, strict=True)]
            )
            weights = boltzmann_weights(
                energies * np.array([s.n_vacancies for s in specs]), multiplicity, temperature_k
            )
            lowest = int(np.argmin(energies))
            n_distinct = specs[0].n_distinct
            ranking = _ranking_text(info, len(specs), n_distinct)
            rows.append(
                {
                    "phase": model.settings.phase,
                    "monolayers": model.settings.monolayers,
                    "series": series,
                    "removed": count,
                    "depth": depth,
                    "species": specs[0].species,
                    "placements computed": len(specs),
                    "symmetry-distinct": n_distinct,
                    "ranking": ranking,
                    "lowest": specs[lowest].name,
                    f"E_f {refs.anion}-rich lowest (eV/vacancy)": float(energies[lowest]),
                    f"E_f {refs.anion}-rich Boltzmann (eV/vacancy)": float(weights @ energies),
                    "weight of lowest": float(weights[lowest]),
                    "spread (meV/vacancy)": 1000.0 * float(energies.max() - energies.min()),
                    "host": host,
                }
            )
    return pd.DataFrame(rows)


def _ranking_text(info: list[dict], computed: int, n_distinct: int) -> str:
    """How the computed placements were chosen among the symmetry-distinct ones."""
    if computed >= n_distinct:
        return "all computed"
    if all("ranked_by" in i for i in info):
        ranks = sorted(info, key=lambda i: int(i["mlip_rank"]))
        above = ", ".join(f"+{1000 * float(i['mlip_energy_above_lowest_ev']):.0f}" for i in ranks)
        return (
            f"{info[0]['ranked_by']} ranking: the lowest {computed} of "
            f"{int(info[0]['mlip_candidates'])} ranked "
            f"({n_distinct} symmetry-distinct), MLIP {above} meV"
        )
    return f"unranked: the first {computed} of {n_distinct} symmetry orbits (lexicographic)"
