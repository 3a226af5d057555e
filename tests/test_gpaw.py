"""GPAW really runs: symmetry, relaxation with fixed atoms, the free Se atom, resume after kill -9, SCF ladder.

Small cells, low cutoffs and coarse meshes keep this to about two minutes on 2 cores; the physics
checked (forces by symmetry, moments, identities of resumed runs) does not depend on converged settings.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest
from ase.build import bulk as ase_bulk

from nanophase.bulk import isolated_atom
from nanophase.calculators.gpaw_calc import SCFConvergenceError, run_gpaw
from nanophase.calculators.job import Calculation
from nanophase.calculators.optimize import read_frames
from nanophase.calculators.records import read_record
from nanophase.calculators.settings import CalcSettings
from nanophase.slabs import SlabSettings, build_slab
from nanophase.structio import write_structure

pytest.importorskip("gpaw")

CHEAP = CalcSettings(encut_ev=200.0, kpoint_length_a=8.0, fmax_ev_per_a=0.02, scf_energy_tol_ev=1e-5)


def displaced_cdse():
    """Primitive zinc blende CdSe with Se pushed off its site: a relaxation of about six steps."""
    atoms = ase_bulk("CdSe", "zincblende", a=6.05)
    atoms.positions[1] += [0.15, 0.05, 0.0]
    return atoms


def test_bulk_forces_vanish_by_symmetry(tmp_path):
    record, _ = run_gpaw(ase_bulk("CdSe", "zincblende", a=6.05), CHEAP, tmp_path, "single-point", "CdSe-zb")
    assert np.isfinite(record.energy_ev) and record.energy_ev < 0
    assert record.max_force_ev_per_a < 1e-3  # every atom sits on a site of -43m symmetry
    assert record.kpoints == [2, 2, 2] and record.code == "gpaw" and record.converged
    assert record.task == "single-point" and record.ionic_steps == 0
    assert record.fingerprint == CHEAP.fingerprint("gpaw")


def test_slab_relaxation_reaches_fmax_and_keeps_fixed_atoms(bulk, tmp_path):
    # Cd / Se / Cd planes of zinc blende (001), the Se plane held fixed: 6 atoms, Gamma point
    slab = build_slab(
        bulk["CdSe-zb"],
        SlabSettings("zincblende", "001", monolayers=1, termination="cation", vacuum_a=6.0, fixed=(1,)),
    )
    fixed = [int(i) for c in slab.constraints for i in c.index]
    assert len(fixed) == 2
    settings = replace(CHEAP, kpoint_length_a=4.0, fmax_ev_per_a=0.02, scf_energy_tol_ev=1e-4)
    record, final = run_gpaw(slab, settings, tmp_path, "relax", slab.info["name"])
    assert record.converged and record.max_force_ev_per_a < 0.02
    assert record.ionic_steps >= 1
    frames = read_frames(tmp_path / "relax.traj")
    first_fmax = np.linalg.norm(frames[0].get_forces(), axis=1).max()
    assert first_fmax > record.max_force_ev_per_a  # the relaxation lowered the largest force
    assert np.allclose(final.positions[fixed], slab.positions[fixed], atol=1e-10)
    moved = np.setdiff1d(np.arange(len(slab)), fixed)
    assert np.abs(final.positions[moved] - slab.positions[moved]).max() > 1e-3
    assert final.get_array("layer").tolist() == slab.get_array("layer").tolist()
    assert record.dipole_correction is False  # Cd on both faces: faces equivalent, no dipole


def test_free_se_atom_has_two_bohr_magnetons(tmp_path):
    atom = isolated_atom("Se", 7.0)
    record, _ = run_gpaw(atom, replace(CHEAP, scf_energy_tol_ev=1e-4), tmp_path, "single-point", "Se-atom")
    assert record.spin_polarized
    assert record.magnetic_moment_mu_b == pytest.approx(2.0, abs=0.05)
    assert record.kpoints == [1, 1, 1]


def test_scf_ladder_climbs_and_records_every_attempt(tmp_path):
    atoms = ase_bulk("CdSe", "zincblende", a=6.05)
    settings = replace(CHEAP, scf_max_iterations=3)  # too few: the first rung cannot converge
    ladder = ({"label": "default"}, {"label": "more iterations", "iterations_factor": 30, "mixer_beta": 0.1})
    record, _ = run_gpaw(atoms, settings, tmp_path, "single-point", "CdSe", ladder=ladder)
    assert [a["outcome"] for a in record.attempts] == ["scf failed", "ok"]
    assert record.scf_attempts == 2 and record.converged


def test_scf_ladder_exhausted_fails_without_a_record(tmp_path):
    atoms = ase_bulk("CdSe", "zincblende", a=6.05)
    ladder = ({"label": "default"}, {"label": "still too few", "iterations_factor": 1})
    with pytest.raises(SCFConvergenceError, match="did not converge on any of the 2 rungs"):
        run_gpaw(atoms, replace(CHEAP, scf_max_iterations=2), tmp_path, "single-point", "CdSe", ladder=ladder)
    attempts = json.loads((tmp_path / "attempts.json").read_text())
    assert [a["outcome"] for a in attempts] == ["scf failed", "scf failed"]
    assert not list(tmp_path.glob("record*"))


def run_cli(structure, folder, settings):
    folder.mkdir(parents=True, exist_ok=True)
    calculation = folder / "calculation.json"
    Calculation.of("CdSe", "relax", "gpaw", settings).write(calculation)
    command = [
        sys.executable,
        "-m",
        "nanophase",
        "calc",
        "--calculation",
        str(calculation),
        "--structure",
        str(structure),
        "--workdir",
        str(folder / "work"),
        "--record",
        str(folder / "record.json"),
        "--final",
        str(folder / "final.extxyz"),
    ]
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )


def test_relaxation_killed_after_k_steps_resumes_at_step_k(tmp_path):
    structure = tmp_path / "start.extxyz"
    write_structure(displaced_cdse(), structure)
    reference, interrupted = tmp_path / "reference", tmp_path / "interrupted"
    assert run_cli(structure, reference, CHEAP).wait(timeout=600) == 0

    process = run_cli(structure, interrupted, CHEAP)
    deadline = time.time() + 600
    while len(read_frames(interrupted / "work" / "relax.traj")) < 3 and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)  # kill -9: no clean-up, no record
    process.wait()
    assert not (interrupted / "record.json").exists()
    k = len(read_frames(interrupted / "work" / "relax.traj")) - 1
    assert k >= 2

    assert run_cli(structure, interrupted, CHEAP).wait(timeout=600) == 0
    resumed, uninterrupted = read_record(interrupted / "record.json"), read_record(reference / "record.json")
    assert resumed.resumed_from_step == k
    assert resumed.energy_ev == pytest.approx(uninterrupted.energy_ev, abs=1e-3)  # within 1 meV
    assert resumed.ionic_steps == pytest.approx(uninterrupted.ionic_steps, abs=1)


def test_lcao_mode_runs_with_the_shipped_dzp_basis(tmp_path):
    settings = replace(CHEAP, mode="lcao", basis="dzp", grid_spacing_a=0.25)
    record, _ = run_gpaw(ase_bulk("CdSe", "zincblende", a=6.05), settings, tmp_path, "single-point", "CdSe")
    assert np.isfinite(record.energy_ev) and record.max_force_ev_per_a < 1e-3
    assert record.physics["mode"] == "lcao" and record.physics["basis"] == "dzp"
    assert record.fingerprint != CHEAP.fingerprint("gpaw")  # never subtracted from a plane-wave energy
    assert "dzp" in (tmp_path / "gpaw-1.txt").read_text()


CONVERGED_STRESS = CalcSettings(
    encut_ev=450.0, kpoint_length_a=12.0, fmax_ev_per_a=0.02, scf_energy_tol_ev=1e-5
)


def test_cell_relaxations_run_in_the_primitive_cell_and_hold_what_they_must(bulk, tmp_path):
    """relax-cell moves zinc blende CdS from experiment to the PBE lattice (~2 % larger); relax-c at the
    PbS lattice keeps the in-plane vectors and shrinks the normal (the shell is stretched in plane)."""
    from nanophase.calculators import run_calculation
    from nanophase.interfaces import strained_bulk

    cds = bulk["CdS-zb"]
    record, final = run_calculation(cds, CONVERGED_STRESS, "gpaw", "relax-cell", tmp_path / "bulk", "CdS-zb")
    assert len(final) == 2 and record.converged and record.task == "relax-cell"
    a_pbe = (4 * final.get_volume()) ** (1 / 3)  # conventional cell: 4 formula units
    assert 1.005 < a_pbe / cds.cell.lengths()[0] < 1.04  # PBE overestimates by 1-2 %
    strained = strained_bulk(cds, bulk["PbS-rs"], "CdS-zb-on-PbS-rs")
    record, final = run_calculation(strained, CONVERGED_STRESS, "gpaw", "relax-c", tmp_path / "c", "strained")
    assert record.converged and record.task == "relax-c" and len(final) == 2
    start = tmp_path / "c" / "relax.traj"
    first = read_frames(start)[0]
    assert final.cell.array[:, :2] == pytest.approx(first.cell.array[:, :2], abs=1e-8)
    assert abs(final.cell.array[0, 2]) != pytest.approx(abs(first.cell.array[0, 2]), abs=1e-3)
    # without cell relaxation (the quick preset's choice) the task becomes a relaxation of positions
    record, final = run_calculation(cds, replace(CONVERGED_STRESS, relax_cell=False), "gpaw", "relax-cell",
                                    tmp_path / "fixed", "CdS-zb")  # fmt: skip
    assert record.task == "relax" and final.get_volume() == pytest.approx(cds.get_volume() / 4)
