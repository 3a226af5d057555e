"""Machine-learned potentials: energies and forces of CHGNet and SevenNet-0 on small cells, relaxations,
records that never mix with DFT, pre-relaxed GPAW relaxations, and the config error without the extra."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from ase.io.trajectory import Trajectory

from nanophase.bulk import read_bulk
from nanophase.calculators import run_calculation
from nanophase.calculators.mlip_calc import (
    MIN_CURVATURE,
    mlip_available,
    mlip_calculator,
    mlip_hessian,
    run_mlip,
)
from nanophase.calculators.optimize import max_free_force, relax, seed_bfgs_hessian
from nanophase.calculators.settings import PRESETS, CalcSettings
from nanophase.config import ConfigError, load_config, validate_config
from nanophase.energetics import SettingsMismatch, require_same_settings
from nanophase.study import Study
from nanophase.symmetry import symmetry_operations

MODELS = [pytest.param(m, marks=pytest.mark.skipif(not mlip_available(m), reason=f"{m} not installed"))
          for m in ("chgnet", "sevenn")]  # fmt: skip


@pytest.fixture(scope="module")
def default_slabs(repo):
    """The default study's pristine slabs (wz with its middle layer fixed, zb), by config key."""
    study = Study.from_config(load_config(repo / "config" / "config.yaml"), root=repo)
    return {
        m.key: m.build(read_bulk(repo / study.bulk_files[m.bulk], name=m.bulk))[m.name] for m in study.slabs
    }


@pytest.fixture()
def rattled(bulk):
    atoms = bulk["CdSe-zb"].copy()
    atoms.rattle(stdev=0.05, seed=3)
    return atoms


@pytest.mark.parametrize("model", MODELS)
def test_forces_are_the_energy_gradient(model, rattled):
    """Finite differences of the energy (central, 0.01 A) reproduce the forces to 0.02 eV/A."""
    atoms = rattled.copy()
    atoms.calc = mlip_calculator(model)
    forces = atoms.get_forces()
    assert np.isfinite(atoms.get_potential_energy()) and np.abs(forces).max() > 0.05  # rattled: not zero
    step = 0.01
    for index, axis in [(0, 0), (3, 2), (5, 1)]:
        energies = []
        for sign in (+1, -1):
            displaced = atoms.copy()
            displaced.calc = atoms.calc
            displaced.positions[index, axis] += sign * step
            energies.append(displaced.get_potential_energy())
        assert -(energies[0] - energies[1]) / (2 * step) == pytest.approx(forces[index, axis], abs=0.02)


@pytest.mark.parametrize("model", MODELS[:1])  # chgnet: the one whose calculator computes more than asked
def test_the_energy_and_forces_calculator_gives_the_same_energy_and_forces(model, rattled):
    """What dynamics and Hessians use (stress=False) is the same potential, only without the stress."""
    full, lean = rattled.copy(), rattled.copy()
    full.calc, lean.calc = mlip_calculator(model), mlip_calculator(model, stress=False)
    assert lean.get_potential_energy() == pytest.approx(full.get_potential_energy(), abs=1e-6)
    assert np.abs(lean.get_forces() - full.get_forces()).max() < 1e-6
    assert np.abs(full.get_stress()).max() > 0  # the rattled cell is not at zero stress


@pytest.mark.parametrize("model", MODELS)
def test_relaxation_lowers_forces_and_records_the_model(model, rattled, tmp_path):
    settings = CalcSettings(mlip_model=model, fmax_ev_per_a=0.02, max_steps=100)
    atoms = rattled.copy()
    atoms.calc = mlip_calculator(model)
    start_fmax = max_free_force(atoms)
    record, final = run_mlip(rattled, settings, tmp_path, "relax", "CdSe-zb")
    assert record.converged and record.max_force_ev_per_a < 0.02 < start_fmax
    assert record.code == model and record.physics == {"code": model}
    assert record.ionic_steps > 0 and len(final) == len(rattled)
    # a DFT record of the same structure has another fingerprint: never subtracted from this one
    dft = copy.deepcopy(record)
    dft.code, dft.physics, dft.fingerprint = (
        "gpaw",
        PRESETS["quick"].physics("gpaw"),
        PRESETS["quick"].fingerprint("gpaw"),
    )
    with pytest.raises(SettingsMismatch, match="CdSe-zb"):
        require_same_settings(record, dft)


@pytest.mark.skipif(not mlip_available("chgnet"), reason="chgnet not installed")
def test_prerelaxed_gpaw_relaxation_starts_from_the_potential_geometry(bulk, tmp_path):
    """GPAW begins where CHGNet stopped; the record keeps both step counts."""
    atoms = bulk["CdS-zb"].copy()
    atoms.rattle(stdev=0.08, seed=1)
    settings = CalcSettings(encut_ev=200.0, kpoint_length_a=5.0, scf_energy_tol_ev=1e-3, fmax_ev_per_a=0.1,
                            prerelax="chgnet")  # fmt: skip
    record, final = run_calculation(atoms, settings, "gpaw", "relax", tmp_path, "CdS-zb")
    prerelax = record.extra["prerelax"]
    assert prerelax["model"] == "chgnet" and prerelax["steps"] > 0 and prerelax["wall_time_s"] > 0
    with (
        Trajectory(str(tmp_path / "prerelax" / "relax.traj")) as mlip_path,
        Trajectory(str(tmp_path / "relax.traj")) as dft_path,
    ):
        assert dft_path[0].positions == pytest.approx(mlip_path[-1].positions, abs=1e-8)
        assert mlip_path[0].positions == pytest.approx(atoms.positions, abs=1e-8)
    assert record.converged and record.code == "gpaw"
    assert record.fingerprint == settings.fingerprint("gpaw")  # the potential does not enter the DFT physics
    assert prerelax["hessian_seeded"] and prerelax["hessian_wall_time_s"] > 0


@pytest.mark.skipif(not mlip_available("chgnet"), reason="chgnet not installed")
def test_seeded_hessian_cuts_bfgs_steps_and_keeps_fixed_atoms(default_slabs, tmp_path):
    """The potential's Hessian (symmetric, fixed atoms decoupled, curvatures >= MIN_CURVATURE) as the
    BFGS start: relaxing with the same potential from a perturbed minimum takes fewer steps than
    BFGS's uniform guess, and a relaxation that has begun is never reseeded."""
    slab = default_slabs["wz"].copy()
    slab.calc = mlip_calculator("chgnet")
    relax(slab, tmp_path / "minimum", 0.01, 300)
    fixed = slab.constraints[0].index
    start = slab.copy()
    start.rattle(stdev=0.03, seed=7)
    start.set_positions(start.positions)  # the constraint keeps the fixed atoms where they were
    hessian = mlip_hessian(start, "chgnet")
    assert np.allclose(hessian, hessian.T)
    assert np.linalg.eigvalsh(hessian).min() >= MIN_CURVATURE - 1e-9
    dof_fixed = [3 * a + k for a in fixed for k in range(3)]
    assert np.allclose(hessian[dof_fixed][:, dof_fixed], 70.0 * np.eye(len(dof_fixed)))
    free = [i for i in range(3 * len(start)) if i not in dof_fixed]
    assert np.allclose(hessian[np.ix_(dof_fixed, free)], 0.0)
    # the pristine zb slab's Hessian commutes with each of its symmetry operations (a step keeps them)
    pristine = default_slabs["zb"]
    zb_hessian = mlip_hessian(pristine, "chgnet")
    for perm, rotation in symmetry_operations(pristine):
        operation = np.kron(np.eye(len(pristine))[perm].T, rotation)  # u_i -> R u_i on atom perm[i]
        assert np.allclose(operation @ zb_hessian @ operation.T, zb_hessian, atol=1e-9)
    steps = {}
    for label in ("uniform", "seeded"):
        atoms = start.copy()
        atoms.calc = mlip_calculator("chgnet")
        if label == "seeded":
            assert seed_bfgs_hessian(tmp_path / label, atoms, hessian)
        outcome = relax(atoms, tmp_path / label, 0.02, 300)
        assert outcome.converged and np.allclose(atoms.positions[fixed], start.positions[fixed])
        steps[label] = outcome.steps
    assert steps["seeded"] < steps["uniform"], steps
    assert not seed_bfgs_hessian(tmp_path / "seeded", start, hessian)  # begun: its own state is kept


def test_missing_extra_fails_at_config_validation(monkeypatch):
    from nanophase.calculators import mlip_calc

    monkeypatch.setattr(mlip_calc.importlib.util, "find_spec", lambda name: None)
    config = {"bulk": {"x": {"file": "x.cif"}}, "calculator": {"backend": "mlip", "mlip_model": "sevenn"}}
    with pytest.raises(ConfigError, match=r"calculator.backend: the sevenn potential is not installed; .*"
                                          r"pip install torch==2.13.0 .*pip install -e '\.\[mlip\]'"):  # fmt: skip
        validate_config(config)
    with pytest.raises(ConfigError, match="calculator.prerelax: the chgnet potential is not installed"):
        validate_config({"bulk": {"x": {"file": "x.cif"}}, "calculator": {"prerelax": "chgnet"}})


@pytest.mark.skipif(not mlip_available("chgnet"), reason="chgnet not installed")
def test_ranking_gives_the_dft_slots_the_lowest_placements(bulk):
    """Every symmetry-distinct placement ranked with CHGNet: slot a holds the lowest, b the next."""
    from nanophase.ranking import mlip_energy, rank_placements
    from nanophase.slabs import SlabSettings, build_slab
    from nanophase.study import SlabModel
    from nanophase.symmetry import symmetry_permutations
    from nanophase.vacancies import (
        VacancySettings,
        VacancySpec,
        distinct_placements,
        make_vacancy_structure,
        placement_groups,
        plan_vacancies,
    )

    slab = build_slab(bulk["CdSe-zb"], SlabSettings("zincblende", "001", monolayers=2, supercell=(2, 2),
                                                     termination="cation", vacuum_a=8.0))  # fmt: skip
    settings = VacancySettings(surface_counts=(2,), surface_faces=("top",), depth=False, whole_layer=(),
                               max_configurations=2, rank_with="chgnet", rank_steps=3)  # fmt: skip
    calculator = mlip_calculator("chgnet")
    slots = rank_placements(slab, slab, settings, calculator)
    (group,) = placement_groups(slab, settings, symmetry_permutations(slab))
    n_distinct, candidates = distinct_placements(list(group.sites), list(group.counts), group.ops, 100)
    assert n_distinct > 2 and len(candidates) == n_distinct
    energies = {}
    for removed in candidates:
        spec = VacancySpec(
            "x", slab.info["name"], "Se", removed, "surface-top", "top", 0, "", n_distinct, 0, 0.0
        )
        energies[removed] = mlip_energy(make_vacancy_structure(slab, spec), calculator, 3)
    ordered = sorted(energies, key=energies.get)
    a, b = slots[f"{group.stem}-a"], slots[f"{group.stem}-b"]
    assert tuple(a["removed"]) == ordered[0] and tuple(b["removed"]) == ordered[1]
    assert a["mlip_rank"] == 1 and a["mlip_energy_above_lowest_ev"] == 0.0
    assert b["mlip_energy_above_lowest_ev"] == pytest.approx(
        energies[ordered[1]] - energies[ordered[0]], abs=1e-6
    )
    assert a["mlip_candidates"] == n_distinct
    # the slab model builds its slots from the ranking and says so on each structure
    specs = plan_vacancies(slab, settings)
    model = SlabModel("zb", "CdSe-zb", None, settings, slab.info["name"], tuple(specs), len(slab))
    built = model.build_vacancies(slab, {"model": "chgnet", "slots": slots})
    first = built[f"{group.stem}-a"]
    assert first.info["ranked_by"] == "chgnet" and first.info["mlip_rank"] == 1
    assert first.info["removed_indices"] == ",".join(str(i) for i in ordered[0])
