"""Machine-learned potentials: energies and forces of CHGNet and SevenNet-0 on small cells, relaxations,
records that never mix with DFT, pre-relaxed GPAW relaxations, and the config error without the extra."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from ase.io.trajectory import Trajectory

from nanophase.calculators import run_calculation
from nanophase.calculators.mlip_calc import mlip_available, mlip_calculator, run_mlip
from nanophase.calculators.optimize import max_free_force
from nanophase.calculators.settings import PRESETS, CalcSettings
from nanophase.config import ConfigError, validate_config
from nanophase.energetics import SettingsMismatch, require_same_settings

MODELS = [pytest.param(m, marks=pytest.mark.skipif(not mlip_available(m), reason=f"{m} not installed"))
          for m in ("chgnet", "sevenn")]  # fmt: skip


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
    dft.code, dft.physics, dft.fingerprint = "gpaw", PRESETS["quick"].physics("gpaw"), PRESETS["quick"].fingerprint("gpaw")
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
    with Trajectory(str(tmp_path / "prerelax" / "relax.traj")) as mlip_path, Trajectory(
        str(tmp_path / "relax.traj")
    ) as dft_path:
        assert dft_path[0].positions == pytest.approx(mlip_path[-1].positions, abs=1e-8)
        assert mlip_path[0].positions == pytest.approx(atoms.positions, abs=1e-8)
    assert record.converged and record.code == "gpaw"
    assert record.fingerprint == settings.fingerprint("gpaw")  # the potential does not enter the DFT physics


def test_missing_extra_fails_at_config_validation(monkeypatch):
    from nanophase.calculators import mlip_calc

    monkeypatch.setattr(mlip_calc.importlib.util, "find_spec", lambda name: None)
    config = {"bulk": {"x": {"file": "x.cif"}}, "calculator": {"backend": "mlip", "mlip_model": "sevenn"}}
    with pytest.raises(ConfigError, match=r"calculator.backend: the sevenn potential is not installed; .*"
                                          r"pip install torch==2.13.0 .*pip install -e '\.\[mlip\]'"):  # fmt: skip
        validate_config(config)
    with pytest.raises(ConfigError, match="calculator.prerelax: the chgnet potential is not installed"):
        validate_config({"bulk": {"x": {"file": "x.cif"}}, "calculator": {"prerelax": "chgnet"}})
