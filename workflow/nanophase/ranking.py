"""Rank vacancy placements with a machine-learned potential, so that the DFT slots hold the lowest ones.

The plan keeps `max_configurations` placements per count, named a, b, c... Without a ranking they are
the first symmetry orbits in lexicographic order, which says nothing about their energy. With one, every
symmetry-distinct placement of a count (up to `rank_limit`) is made from the relaxed slab and relaxed
briefly with the potential; slot a gets the lowest, b the next, and so on. The potential only orders the
candidates: no MLIP energy enters a DFT difference.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.optimize import BFGS

from nanophase.safe_write import atomic_path
from nanophase.symmetry import symmetry_permutations
from nanophase.vacancies import (
    VacancySettings,
    VacancySpec,
    configuration_label,
    distinct_placements,
    make_vacancy_structure,
    placement_groups,
    placement_images,
)

log = logging.getLogger(__name__)
RANK_FMAX_EV_PER_A = 0.05


def mlip_energy(atoms: Atoms, calculator, steps: int) -> float:
    """Energy after at most `steps` BFGS steps with the potential (fixed atoms held), eV."""
    atoms = atoms.copy()
    atoms.pbc = True  # the potentials see slabs as periodic cells with vacuum
    atoms.calc = calculator
    if steps > 0:
        BFGS(atoms, logfile=None).run(fmax=RANK_FMAX_EV_PER_A, steps=steps)
    return float(atoms.get_potential_energy())


def rank_placements(
    cut_slab: Atoms, relaxed_slab: Atoms, settings: VacancySettings, calculator
) -> dict[str, dict]:
    """The DFT slot of each ranked placement group: slot name -> removed atoms and the ranking behind it.

    Symmetry comes from the cut slab (ideal positions); the candidates are made from the relaxed slab
    (same atom order), as the DFT structures are. Groups with no more placements than slots are not
    ranked (every placement is computed).
    """
    perms = symmetry_permutations(cut_slab)
    slots = {}
    for group in placement_groups(cut_slab, settings, perms):
        if not group.rankable:
            continue
        limit = settings.rank_limit
        n_distinct, candidates = distinct_placements(list(group.sites), list(group.counts), group.ops, limit)
        if n_distinct <= settings.max_configurations:
            continue
        energies = []
        for extra in candidates:
            removed = tuple(sorted(group.prior + extra))
            spec = VacancySpec(
                group.stem,
                relaxed_slab.info["name"],
                group.species,
                removed,
                group.series,
                group.faces,
                group.depth,
                "",
                n_distinct,
                0,
                0.0,
                prior=group.prior,
            )
            energies.append(
                mlip_energy(make_vacancy_structure(relaxed_slab, spec), calculator, settings.rank_steps)
            )
        order = np.argsort(energies, kind="stable")
        lowest = float(energies[order[0]])
        for slot, index in enumerate(order[: settings.max_configurations]):
            removed = tuple(sorted(group.prior + candidates[index]))
            slots[f"{group.stem}-{configuration_label(slot)}"] = {
                "removed": list(removed),
                "multiplicity": len(placement_images(removed, perms)),
                "mlip_rank": slot + 1,
                "mlip_candidates": len(candidates),
                "mlip_n_distinct": n_distinct,
                "mlip_energy_above_lowest_ev": float(energies[index]) - lowest,
                "mlip_rank_steps": settings.rank_steps,
            }
        log.info(
            "%s: ranked %d of %d placements; kept %s (MLIP +%s meV)",
            group.stem,
            len(candidates),
            n_distinct,
            ", ".join(str(i) for i in order[: settings.max_configurations]),
            ", ".join(f"{1000 * (energies[i] - lowest):.0f}" for i in order[: settings.max_configurations]),
        )
    return slots


def write_ranking(slots: dict[str, dict], model: str, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({"model": model, "slots": slots}, indent=1))


def read_ranking(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())
