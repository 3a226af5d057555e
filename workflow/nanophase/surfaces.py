"""Surface energies of the pristine sheets across the allowed anion chemical potential."""

from __future__ import annotations

import pandas as pd

from nanophase.analysis import Calculated, slab_references, vacancy_models
from nanophase.bulk import formula_elements
from nanophase.energetics import (
    composition,
    ev_per_a2_to_j_per_m2,
    require_same_settings,
    slab_grand_potential_per_area,
)
from nanophase.study import Study
from nanophase.symmetry import faces_equivalent


def surface_energies(study: Study, calculated: Calculated, points: int = 11) -> pd.DataFrame:
    """Surface energy per face of each pristine sheet across the allowed anion chemical potential.

    gamma = [E_slab - n mu_cation - m mu_anion] / (2 A), mu_cation = e_compound - mu_anion, with the
    sheet's own bulk as the compound; a non-stoichiometric sheet (the Cd-terminated zinc blende) depends
    on mu, a stoichiometric one does not. Where the two faces are not related by a symmetry operation the
    number is their mean.
    """
    rows = []
    for model in vacancy_models(study):
        refs = slab_references(study, model, calculated)
        formula = study.references[model.key].formula
        cation, anion = formula_elements(formula)
        slab = calculated.record(model.name)
        compound = study.references[model.key].compound
        require_same_settings(slab, calculated.record(compound))
        counts = composition(slab)
        faces = (
            "two equivalent faces"
            if faces_equivalent(calculated.structures[model.name])
            else "mean of two faces"
        )
        for mu_anion in refs.scan(points):
            gamma = slab_grand_potential_per_area(
                slab, refs.compound, mu_anion, calculated.area_a2(model.name), formula
            )
            rows.append(
                {
                    "sheet": model.name,
                    "phase": model.settings.phase,
                    "monolayers": model.settings.monolayers,
                    "termination": model.settings.termination,
                    f"{anion}/{cation}": counts[anion] / counts[cation],
                    f"dmu_{anion} (eV)": refs.delta_mu(mu_anion),
                    "gamma (meV/A^2)": 1000.0 * gamma,
                    "gamma (J/m^2)": ev_per_a2_to_j_per_m2(gamma),
                    "faces": faces,
                    "bulk": compound,
                }
            )
    return pd.DataFrame(rows)
