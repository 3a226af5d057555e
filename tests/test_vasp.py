"""VASP backend: exact inputs, parsing real VASP outputs, POTCAR handling, a run under custodian.

The VASP binary is licensed and absent: tests/files/fake_vasp.py stands in for it, at that edge only.
It keeps the inputs it was started with (checked here exactly) and answers with real VASP outputs
from ../shared/fixtures/vasp.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from ase.io import read

from nanophase.bulk import isolated_atom
from nanophase.calculators.settings import PRESETS
from nanophase.calculators.vasp_calc import PotcarsMissing, incar, parse_vasprun, run_vasp, write_inputs
from nanophase.interfaces import StackSettings, build_stack
from nanophase.slabs import SlabSettings, build_slab
from nanophase.vacancies import VacancySettings, make_vacancy_structure, plan_vacancies

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "vasp"
FILES = Path(__file__).resolve().parent / "files"
PAPER = PRESETS["paper"]
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # pymatgen on the stand-in POTCAR


@pytest.fixture(scope="module")
def wz_vacancy(bulk):
    """The paper's wurtzite slab with one top-surface Se vacancy: asymmetric, middle layer fixed."""
    slab = build_slab(bulk["CdSe-wz"], SlabSettings("wurtzite", "11-20", supercell=(2, 2)))
    spec = plan_vacancies(
        slab, VacancySettings(surface_counts=(1,), surface_faces=("top",), depth=False, whole_layer=())
    )[0]
    return make_vacancy_structure(slab, spec)


def test_parse_real_relaxation():
    parsed = parse_vasprun(FIXTURES / "relax_3steps" / "vasprun.xml")
    assert parsed["ionic_steps"] == 3
    assert parsed["energy_ev"] == pytest.approx(-469.03407561, abs=1e-8)
    assert parsed["electronic_converged"] and parsed["ionic_converged"]
    assert parsed["atoms"].get_chemical_formula() == "Cl8F88Sb16Xe8" and parsed["forces"].shape == (120, 3)
    assert parsed["vasp_version"] == "5.3.3" and parsed["kpoints"] == [2, 4, 2]


def test_parse_real_static_run():
    parsed = parse_vasprun(FIXTURES / "static_al" / "vasprun.xml")
    assert parsed["energy_ev"] == pytest.approx(-3.74599651, abs=1e-8)
    assert parsed["max_force_ev_per_a"] == pytest.approx(0.0, abs=1e-8)  # one atom: no force by symmetry


def test_paper_slab_inputs_are_exact(wz_vacancy, tmp_path):
    symbols = write_inputs(wz_vacancy, PAPER, "relax", tmp_path)
    assert symbols == ["Cd", "Se"]
    tags = dict(incar(wz_vacancy, PAPER, "relax"))
    dipole_centre = np.round(wz_vacancy.get_scaled_positions().mean(axis=0), 6).tolist()
    assert tags == {
        "SYSTEM": "CdSe-wz-1120-7ml-2x2_vSe-top-1-a",
        "PREC": "Accurate",
        "ENCUT": 400.0,
        "EDIFF": 1e-5,
        "NELM": 300,
        "ALGO": "Normal",
        "ISMEAR": 0,
        "SIGMA": 0.1,
        "LREAL": False,
        "LASPH": True,
        "LWAVE": False,
        "LCHARG": False,
        "ISPIN": 1,
        "IBRION": 2,
        "ISIF": 2,
        "NSW": 200,
        "EDIFFG": -0.01,
        "LDIPOL": True,
        "IDIPOL": 3,
        "DIPOL": dipole_centre,
    }
    # the study's Monkhorst-Pack 4x3x1 (the orthorhombic 2x2 wz(11-20) cell needs no Gamma-centring)
    kpoints_lines = (tmp_path / "KPOINTS").read_text().split("\n")
    assert kpoints_lines[0] == "Monkhorst-Pack, as in the study" and kpoints_lines[2:4] == [
        "Monkhorst",
        "4 3 1",
    ]
    poscar = (tmp_path / "POSCAR").read_text().splitlines()
    assert poscar[5].split() == ["Cd", "Se"] and poscar[6].split() == ["56", "55"]
    assert poscar[7] == "Selective dynamics"
    flags = [line.split()[3:6] for line in poscar[9 : 9 + 111]]
    assert flags.count(["F", "F", "F"]) == 16  # the fixed middle layer: 8 Cd + 8 Se
    assert (tmp_path / "POTCAR.spec").read_text() == "Cd\nSe\n"
    assert not (tmp_path / "POTCAR").exists()
    read_back = read(tmp_path / "POSCAR", format="vasp")
    assert sorted(read_back.get_chemical_symbols()) == sorted(wz_vacancy.get_chemical_symbols())


def test_symmetric_slab_bulk_and_atom_tags(bulk, wz_vacancy):
    pristine = build_slab(bulk["CdSe-wz"], SlabSettings("wurtzite", "11-20"))
    assert "LDIPOL" not in incar(pristine, PAPER, "relax")  # faces equivalent: no dipole to correct
    cell = incar(bulk["CdSe-zb"], PAPER, "relax-cell")
    assert (cell["ISIF"], cell["IBRION"], cell["ISPIN"]) == (3, 2, 1)
    atom = incar(isolated_atom("Se", 12.0), PAPER, "single-point")
    assert (atom["ISPIN"], atom["MAGMOM"], atom["NSW"], atom["IBRION"]) == (2, [2.0], 0, -1)
    # the open-shell atom without symmetry, with aspherical PAW corrections, one projection scheme
    assert (atom["ISYM"], atom["LASPH"], atom["LREAL"]) == (0, True, False)
    assert "ISYM" not in cell and (cell["LASPH"], cell["LREAL"]) == (True, False)
    assert "EDIFFG" not in atom


def test_kpoint_styles(bulk, tmp_path):
    """Monkhorst-Pack as published, Gamma-centred where a hexagonal lattice needs it or only Gamma is sampled."""
    from nanophase.calculators.vasp_calc import kpoints

    wz = kpoints(bulk["CdSe-wz"], PAPER)
    assert wz.style.name == "Gamma" and "hexagonal" in wz.comment
    assert kpoints(bulk["CdSe-zb"], PAPER).style.name == "Monkhorst"
    assert kpoints(isolated_atom("Se", 12.0), PAPER).style.name == "Gamma"


def test_stack_uses_the_recommended_pb_dataset(bulk, tmp_path):
    stack = build_stack(bulk["PbS-rs"], "Cd", StackSettings(3, 1, 1, "both"))
    symbols = write_inputs(stack, PAPER, "relax", tmp_path)
    assert sorted(symbols) == ["Cd", "Pb_d", "S"]
    species_line = (tmp_path / "POSCAR").read_text().splitlines()[5].split()
    assert [{"Pb": "Pb_d"}.get(s, s) for s in species_line] == symbols  # POTCAR order = POSCAR blocks


def test_without_potcars_inputs_are_written_and_the_run_stops(tmp_path, bulk):
    with pytest.raises(PotcarsMissing, match="PMG_VASP_PSP_DIR is not set.*POTCAR.spec"):
        run_vasp(
            bulk["CdSe-zb"], PAPER, tmp_path, "relax-cell", "CdSe-zb", environ={"VASP_COMMAND": "vasp_std"}
        )
    assert {p.name for p in tmp_path.iterdir()} == {"INCAR", "KPOINTS", "POSCAR", "POTCAR.spec"}


@pytest.fixture()
def fake_vasp(tmp_path, monkeypatch):
    psp = tmp_path / "psp" / "POT_GGA_PAW_PBE_54" / "Al"
    psp.mkdir(parents=True)
    shutil.copy(FILES / "POTCAR_Al_standin", psp / "POTCAR")
    received = tmp_path / "received"
    monkeypatch.setenv("FAKE_VASP_RECEIVED", str(received))
    monkeypatch.setenv("VASP_FIXTURE", str(FIXTURES / "static_al"))
    environ = {
        "PMG_VASP_PSP_DIR": str(tmp_path / "psp"),
        "VASP_COMMAND": f"{sys.executable} {FILES / 'fake_vasp.py'}",
    }
    return environ, received


def test_run_under_custodian_hands_vasp_the_exact_inputs(fake_vasp, tmp_path):
    environ, received = fake_vasp
    aluminium = read(FIXTURES / "static_al" / "POSCAR", format="vasp")
    record, final = run_vasp(aluminium, PAPER, tmp_path / "work", "single-point", "Al", environ=environ)
    expected = tmp_path / "expected"
    write_inputs(aluminium, PAPER, "single-point", expected, psp_dir=environ["PMG_VASP_PSP_DIR"])
    for name in ("INCAR", "KPOINTS", "POSCAR", "POTCAR"):
        assert (received / name).read_bytes() == (expected / name).read_bytes(), name
    assert (received / "POTCAR").read_bytes() == (FILES / "POTCAR_Al_standin").read_bytes()
    assert record.code == "vasp" and record.converged
    assert record.energy_ev == pytest.approx(-3.74599651, abs=1e-8)
    assert record.fingerprint == PAPER.fingerprint("vasp") != PAPER.fingerprint("gpaw")
    assert record.extra["potcars"] == ["Al"]
    assert len(final) == 1


def test_interrupted_relaxation_continues_from_contcar(fake_vasp, tmp_path):
    environ, received = fake_vasp
    aluminium = read(FIXTURES / "static_al" / "POSCAR", format="vasp")
    work = tmp_path / "work"
    work.mkdir()
    moved = aluminium.copy()
    moved.positions += [0.1, 0.0, 0.0]
    moved.write(work / "CONTCAR", format="vasp")  # what a killed run leaves behind
    record, _ = run_vasp(aluminium, PAPER, work, "relax", "Al", environ=environ)
    started = read(received / "POSCAR", format="vasp")
    assert np.allclose(started.positions, moved.positions)
    assert record.resumed_from_step == 1
