"""Calculation settings, fingerprints, k-point meshes, records and backend choice."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import numpy as np
import pytest

from nanophase.calculators import backend_choice, prerelax_choice, resolve_backend
from nanophase.calculators.mlip_calc import mlip_available
from nanophase.calculators.records import CalcRecord, UnconvergedError, new_record, read_record, write_record
from nanophase.calculators.settings import (
    PRESETS,
    CalcSettings,
    hexagonal_net,
    kpoint_mesh,
    kpoint_style,
    periodic_directions,
    sampling_lengths,
)
from nanophase.slabs import SlabSettings, build_slab
from nanophase.symmetry import primitive_cell

PAPER = PRESETS["paper"]


def test_paper_preset_is_the_published_set_up():
    assert (PAPER.functional, PAPER.mode, PAPER.encut_ev) == ("PBE", "pw", 400.0)
    assert (PAPER.smearing, PAPER.smearing_ev) == ("gaussian", 0.1)
    assert PAPER.scf_energy_tol_ev == 1e-5 and PAPER.fmax_ev_per_a == 0.01


def test_paper_kpoint_length_gives_the_published_meshes(bulk):
    wz = build_slab(bulk["CdSe-wz"], SlabSettings("wurtzite", "11-20", supercell=(2, 2)))
    zb = build_slab(
        bulk["CdSe-zb"], SlabSettings("zincblende", "001", supercell=(2, 2), termination="cation")
    )
    assert kpoint_mesh(wz, PAPER.kpoint_length_a) == (4, 3, 1)
    assert kpoint_mesh(zb, PAPER.kpoint_length_a) == (4, 4, 1)
    assert periodic_directions(wz) == [True, True, False]
    assert kpoint_mesh(bulk["CdSe-zb"], PAPER.kpoint_length_a) == (8, 8, 8)  # same density in bulk


def test_quick_preset_samples_slabs_and_bulk_at_one_density(bulk):
    """One k-point length for every structure: 2x2x1 for the default slabs, 3x3x3 for the bulk primitive
    cells, and every record of a study shares its fingerprint (the density is part of it)."""
    quick = PRESETS["quick"]
    wz = build_slab(bulk["CdSe-wz"], SlabSettings("wurtzite", "11-20"))
    zb = build_slab(bulk["CdSe-zb"], SlabSettings("zincblende", "001", termination="cation"))
    assert kpoint_mesh(wz, quick.kpoint_length_a) == (2, 2, 1)
    assert kpoint_mesh(zb, quick.kpoint_length_a) == (2, 2, 1)
    primitive = primitive_cell(bulk["CdSe-zb"])  # the cell the bulk reference is computed in
    assert kpoint_mesh(primitive, quick.kpoint_length_a) == (3, 3, 3)
    assert kpoint_mesh(bulk["CdSe-zb"], quick.kpoint_length_a) == (2, 2, 2)  # the conventional cube
    # the mesh is equivalent to a supercell between L and L + |a_i| long, 0 along the vacuum
    for atoms in (wz, zb, primitive, bulk["CdSe-zb"], bulk["Cd-hcp"]):
        lengths = sampling_lengths(atoms, kpoint_mesh(atoms, quick.kpoint_length_a))
        periodic = [x for x in lengths if x]
        assert all(
            quick.kpoint_length_a <= x < quick.kpoint_length_a + max(atoms.cell.lengths()) for x in periodic
        )
    assert sampling_lengths(wz, (2, 2, 1)) == pytest.approx(
        [2 * wz.cell[0, 0], 2 * wz.cell[1, 1], 0.0], abs=0.01
    )
    records = [
        new_record(
            name,
            "relax",
            "gpaw",
            "x",
            quick,
            atoms,
            energy_ev=-1.0,
            forces=atoms.positions * 0,
            input_hash="",
            max_force_ev_per_a=0.0,
            converged=True,
            ionic_steps=0,
            wall_time_s=1.0,
        )
        for name, atoms in (("wz", wz), ("CdSe-zb", primitive))
    ]
    assert records[0].fingerprint == records[1].fingerprint
    assert records[0].kpoints == [2, 2, 1] and records[1].kpoints == [3, 3, 3]
    assert "bulk_kpoint_length_a" not in quick.to_dict()


def strained_zincblende_shell(bulk, normal_a: float):
    """The primitive cell of zinc blende CdS held at the PbS(100) in-plane lattice with normal c: body-
    centred tetragonal, its angles ~120/120/90 degrees near c = 6 A (how the workflow computes the shell)."""
    shell = bulk["CdS-zb"].copy()
    a_pbs = bulk["PbS-rs"].cell.lengths()[0]
    shell.set_cell(np.diag([a_pbs, a_pbs, normal_a]), scale_atoms=True)
    return primitive_cell(shell)


def test_hexagonal_nets_and_only_they_are_gamma_centred(bulk):
    """Gamma-centring follows the six-fold net, not an angle near 60 or 120 degrees: the strained zinc
    blende shell keeps Monkhorst-Pack over its whole E(c) scan (its angles pass 120 degrees near c = 6 A,
    where an angle rule had flipped its mesh), and so does the fcc primitive cell (60/60/60)."""
    quick = PRESETS["quick"]
    assert hexagonal_net(bulk["CdSe-wz"]) and hexagonal_net(bulk["Se-trigonal"])
    assert hexagonal_net(bulk["Cd-hcp"])
    assert not hexagonal_net(primitive_cell(bulk["CdSe-zb"]))
    assert not hexagonal_net(build_slab(bulk["CdSe-wz"], SlabSettings("wurtzite", "11-20")))  # rectangular
    angles_near_120 = 0
    for normal_a in np.linspace(5.2, 6.6, 15):
        shell = strained_zincblende_shell(bulk, normal_a)
        angles_near_120 += any(abs(angle - 120.0) < 1.0 for angle in shell.cell.angles())
        assert kpoint_style(shell, kpoint_mesh(shell, quick.kpoint_length_a))[0] == "Monkhorst"
    assert angles_near_120  # the scan does pass the angles the old rule took for hexagonal


def point_set(points) -> set[tuple[float, ...]]:
    """k-points in reduced coordinates as a set, rounded so that equal grids compare equal."""
    return {tuple(round(float(k), 6) for k in point) for point in points}


def monkhorst_pack_points(mesh) -> set[tuple[float, ...]]:
    """Monkhorst and Pack's grid, k_i = (2 r - n_i - 1) / (2 n_i), r = 1..n_i (PRB 13, 5188 (1976)): odd
    subdivisions contain Gamma; what VASP samples for a "Monkhorst" KPOINTS file."""
    axes = [[(2 * r - n - 1) / (2 * n) for r in range(1, n + 1)] for n in mesh]
    return point_set(itertools.product(*axes))


@pytest.mark.parametrize("mesh", [(3, 3, 1), (2, 2, 1), (3, 2, 1)])
def test_gpaw_samples_the_monkhorst_pack_points_vasp_writes(bulk, mesh):
    """The k-points GPAW is handed are the Monkhorst-Pack grid the VASP input names (odd meshes through
    Gamma), not ASE's gamma=False grid, which shifts an odd mesh off Gamma (0.2 eV per formula unit on a
    3x3x3 strained CdS cell at 200 eV); Gamma-centred meshes contain Gamma whatever their parity."""
    from ase.calculators.calculator import kpts2kpts

    from nanophase.calculators.gpaw_calc import gpaw_parameters, prepare
    from nanophase.calculators.vasp_calc import kpoints

    quick = PRESETS["quick"]
    zb = prepare(build_slab(bulk["CdS-zb"], SlabSettings("zincblende", "001", termination="cation")), quick)
    assert kpoints(zb, quick).style.name == "Monkhorst"
    points = kpts2kpts(gpaw_parameters(zb, quick, {}, "-", mesh=mesh)["kpts"], zb).kpts
    assert point_set(points) == monkhorst_pack_points(mesh)
    wz = bulk["CdSe-wz"]
    centred = kpts2kpts(gpaw_parameters(wz, quick, {}, "-", mesh=(2, 2, 2))["kpts"], wz).kpts
    assert np.abs(centred).sum(axis=1).min() < 1e-9


def test_prerelax_auto_takes_an_installed_potential(monkeypatch):
    assert prerelax_choice("auto", "mlip")[0] == "none"
    assert prerelax_choice("sevenn", "gpaw") == ("sevenn", "set in the config")
    if mlip_available("sevenn"):  # the potential that leaves GPAW the fewest steps goes first
        assert prerelax_choice("auto", "gpaw") == ("sevenn", "auto: sevenn is installed")
    # without SevenNet-0, CHGNet
    installed = {"sevenn": False, "chgnet": True}
    monkeypatch.setattr("nanophase.calculators.mlip_calc.mlip_available", installed.__getitem__)
    assert prerelax_choice("auto", "gpaw") == ("chgnet", "auto: chgnet is installed")
    # a machine without the optional extra: a cold start, and the reason says how to get the potential
    monkeypatch.setattr("nanophase.calculators.mlip_calc.mlip_available", lambda model: False)
    model, reason = prerelax_choice("auto", "vasp")
    assert model == "none" and "start cold" in reason and "setup.sh" in reason


@pytest.mark.parametrize(
    "change",
    [
        {"encut_ev": 450.0},
        {"smearing_ev": 0.05},
        {"smearing": "fermi-dirac"},
        {"kpoint_length_a": 30.0},
        {"spin": "on"},
        {"mode": "lcao"},
        {"relax_cell": False},  # references at the curated lattice vs relaxed ones: never mixed
    ],
)
def test_fingerprint_changes_with_physics(change):
    assert replace(PAPER, **change).fingerprint("gpaw") != PAPER.fingerprint("gpaw")


@pytest.mark.parametrize(
    "change",
    [
        {"fmax_ev_per_a": 0.05},
        {"max_steps": 10},
        {"optimizer": "FIRE"},
        {"scf_max_iterations": 50},
        {"basis": "szp"},
        {"prerelax": "chgnet"},
        {"prerelax": "chgnet", "prerelax_hessian": False},
    ],
)
def test_fingerprint_ignores_how_the_minimum_is_reached(change):
    # basis: an LCAO setting, irrelevant to a plane-wave calculation
    assert replace(PAPER, **change).fingerprint("gpaw") == PAPER.fingerprint("gpaw")


def test_fingerprint_depends_on_the_code_not_the_launcher(monkeypatch):
    assert PAPER.fingerprint("gpaw") != PAPER.fingerprint("vasp")
    before = PAPER.fingerprint("gpaw")
    monkeypatch.setenv("VASP_COMMAND", "srun -n 128 vasp_std")
    monkeypatch.setenv("OMPI_MCA_plm", "slurm")
    assert PAPER.fingerprint("gpaw") == before


def test_config_overrides_a_preset():
    settings = CalcSettings.from_config({"preset": "paper", "encut_ev": 500})
    assert settings.encut_ev == 500 and settings.fmax_ev_per_a == 0.01
    assert CalcSettings.from_config({}) == PRESETS["quick"]


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"mode": "fd"}, "mode"),
        ({"encut_ev": 0}, "encut_ev"),
        ({"spin": "yes"}, "spin"),
        ({"kpoint_length_a": -1}, "kpoint_length_a"),
    ],
)
def test_bad_settings_name_the_key(kwargs, key):
    with pytest.raises(ValueError, match=f"^{key}:"):
        CalcSettings(**kwargs)


def test_auto_backend_needs_both_vasp_command_and_potcars(tmp_path):
    assert resolve_backend("auto", {}) == "gpaw"
    assert resolve_backend("auto", {"VASP_COMMAND": "srun vasp_std"}) == "gpaw"
    assert (
        resolve_backend("auto", {"VASP_COMMAND": "srun vasp_std", "PMG_VASP_PSP_DIR": str(tmp_path)})
        == "vasp"
    )
    assert resolve_backend("gpaw", {"VASP_COMMAND": "x", "PMG_VASP_PSP_DIR": str(tmp_path)}) == "gpaw"
    with pytest.raises(ValueError, match="backend"):
        resolve_backend("castep", {})
    assert backend_choice("auto", {}) == ("gpaw", "auto: VASP_COMMAND or PMG_VASP_PSP_DIR not set")


def record(**kw) -> CalcRecord:
    base = dict(
        name="x",
        task="relax",
        code="gpaw",
        code_version="0",
        energy_ev=-1.0,
        forces_ev_per_a=[[0, 0, 0]],
        max_force_ev_per_a=0.0,
        converged=True,
        ionic_steps=3,
        wall_time_s=1.0,
        settings={},
        physics={},
        fingerprint="f",
        input_hash="a",
        output_hash="b",
        n_atoms=1,
        formula="Se",
        kpoints=[1, 1, 1],
        spin_polarized=False,
    )
    return CalcRecord(**{**base, **kw})


def test_record_round_trip_and_no_temporary_files(tmp_path):
    write_record(record(), tmp_path / "record.json")
    assert read_record(tmp_path / "record.json") == record()
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]


def test_unconverged_record_is_refused_unless_allowed(tmp_path):
    write_record(record(converged=False, message="not converged in 200 ionic steps"), tmp_path / "r.json")
    with pytest.raises(UnconvergedError, match="did not converge"):
        read_record(tmp_path / "r.json")
    assert read_record(tmp_path / "r.json", require_converged=False).converged is False
    assert json.loads((tmp_path / "r.json").read_text())["converged"] is False
