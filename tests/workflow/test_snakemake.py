"""The workflow itself: lint, dry runs of both configs, a bad config, and a real structures run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from ase.io import read

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.workflow


def snakemake(*args: str, cwd: Path = REPO, timeout: int = 600) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def config_in(folder: Path, mutate=None, source: str = "config.yaml") -> Path:
    """A copy of a shipped config, with absolute bulk paths, usable from another working directory."""
    config = yaml.safe_load((REPO / "config" / source).read_text())
    for entry in config["bulk"].values():
        entry["file"] = str(REPO / entry["file"])
    if mutate:
        mutate(config)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_lint_is_clean():
    result = snakemake("--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


@pytest.mark.parametrize("config, vacancy_jobs", [("config.yaml", 1), ("paper.yaml", 1)])
def test_dry_run(tmp_path, config, vacancy_jobs):
    result = snakemake(
        "-n", "--directory", str(tmp_path), "--configfile", str(config_in(tmp_path, source=config))
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    for rule, count in [("bulk_reference", 8), ("slab_series_wz", vacancy_jobs), ("slab_series_zb", 1),
                        ("interface_stacks", 1), ("structure_index", 1)]:  # fmt: skip
        assert any(line.split() == [rule, str(count)] for line in out.splitlines()), (rule, out)
    assert not (tmp_path / "results").exists()


def test_bad_config_fails_before_any_job(tmp_path):
    bad = config_in(tmp_path, lambda c: c["slabs"]["zb"]["vacancies"].update(species="Te"))
    result = snakemake("--cores", "1", "--directory", str(tmp_path), "--configfile", str(bad))
    assert result.returncode != 0
    assert "slabs.zb.vacancies.species: 'Te' is not in CdSe (allowed: Cd, Se)" in result.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "logs").exists()


def test_structures_run_writes_every_planned_structure(tmp_path):
    def tiny(config):
        config["slabs"]["wz"]["monolayers"] = 2
        config["slabs"]["zb"]["monolayers"] = 2
        config["interfaces"].update(
            rocksalt_monolayers=[0, 1], zincblende_monolayers=[0, 1], faces=["both", "top"]
        )

    # the target goes before --configfile, which takes several values
    result = snakemake("structures", "--cores", "2", "--directory", str(tmp_path),
                       "--configfile", str(config_in(tmp_path, tiny)))  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    index = pd.read_csv(tmp_path / "results" / "structures" / "index.csv").set_index("name")
    # per slab: whole Se layer top and both, one top vacancy (= depth 0; 2 Se planes have no deeper one)
    assert index.family.value_counts().to_dict() == {
        "bulk": 8,
        "atom": 1,
        "vacancy": 6,
        "interface": 7,
        "slab": 2,
    }
    for name, row in index.iterrows():
        path = tmp_path / row.path
        assert path.is_file() and path.stem == name and path.parent.name == row.family
    wz = index.loc["CdSe-wz-1120-2ml-1x1"]
    assert (wz.n_Cd, wz.n_Se, wz.n_layers) == (4, 4, 2)
    layer_both = index.loc["CdSe-zb-001-2ml-1x1-Cdterm_vSe-layer-both"]
    assert (layer_both.n_Cd, layer_both.n_Se, layer_both.concentration) == (6, 0, 1.0)
    stack = index.loc["PbS-100-3L-1x1_rsCdS1-zbCdS1-top"]
    assert (stack.n_Pb, stack.n_Cd, stack.n_S, stack.faces) == (6, 4, 10, "top")
    log = (tmp_path / "logs" / "structures" / "slab" / "CdSe-wz-1120-2ml-1x1.log").read_text()
    assert "symmetry-distinct" in log


TWO_STRUCTURES = """
study: tiny
bulk:
  CdSe-zb: {{file: {cif}, prototype: zincblende}}
slabs:
  zb:
    bulk: CdSe-zb
    phase: zincblende
    surface: "001"
    monolayers: 1
    termination: cation
    vacuum_a: 6.0
    vacancies: {{surface_counts: [], surface_faces: [], depth: false, whole_layer: []}}
isolated_atoms: {{species: []}}
calculator: {{backend: gpaw, preset: quick, encut_ev: 200, kpoint_length_a: 8, fmax_ev_per_a: 0.1}}
"""


def test_gpaw_study_relaxes_bulk_then_cuts_the_slab_from_the_relaxed_lattice(tmp_path, monkeypatch):
    """Two calculations through Snakemake: the bulk relaxes its cell, the slab is cut from it and relaxed."""
    monkeypatch.setenv("OMPI_ALLOW_RUN_AS_ROOT", "1")
    monkeypatch.setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    config = tmp_path / "config.yaml"
    config.write_text(TWO_STRUCTURES.format(cif=REPO / "structures" / "bulk" / "CdSe-zb.cif"))
    result = snakemake(
        "calculations", "--cores", "2", "--directory", str(tmp_path), "--configfile", str(config)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    calcs = tmp_path / "results" / "calcs" / "gpaw"
    bulk = json.loads((calcs / "CdSe-zb" / "record.json").read_text())
    slab = json.loads((calcs / "CdSe-zb-001-1ml-1x1-Cdterm" / "record.json").read_text())
    assert bulk["task"] == "relax-cell" and slab["task"] == "relax"
    assert bulk["converged"] and slab["converged"] and slab["max_force_ev_per_a"] < 0.1
    assert bulk["fingerprint"] == slab["fingerprint"]  # energies that may be subtracted
    relaxed_a = read(calcs / "CdSe-zb" / "final.extxyz").cell.lengths()[0]
    assert relaxed_a != pytest.approx(6.05, abs=1e-3)  # PBE moves the lattice off experiment
    cut = read(calcs / "structures" / "slab" / "CdSe-zb-001-1ml-1x1-Cdterm.extxyz")
    assert cut.cell.lengths()[0] == pytest.approx(relaxed_a, abs=1e-6)  # the slab takes the relaxed lattice
    assert "mpiexec -n 2" in result.stdout + result.stderr  # the launcher of the profile


def test_inputs_target_writes_vasp_folders_without_potcar(tmp_path):
    """The laptop "inputs only" mode: every calculation's VASP folder, POTCAR.spec instead of POTCAR."""

    def small(config):
        config["slabs"] = {"zb": config["slabs"]["zb"]}
        config.pop("interfaces")
        config["bulk"] = {k: v for k, v in config["bulk"].items() if k == "CdSe-zb"}
        config["calculator"] = {"backend": "vasp", "preset": "paper"}

    result = snakemake(
        "inputs",
        "--cores",
        "2",
        "--directory",
        str(tmp_path),
        "--configfile",
        str(config_in(tmp_path, small)),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    folders = sorted(p.name for p in (tmp_path / "results" / "vasp_inputs").iterdir())
    assert folders == [
        "CdSe-zb",
        "CdSe-zb-001-3ml-1x1-Cdterm",
        "CdSe-zb-001-3ml-1x1-Cdterm_vSe-depth1-a",
        "CdSe-zb-001-3ml-1x1-Cdterm_vSe-layer-both",
        "CdSe-zb-001-3ml-1x1-Cdterm_vSe-layer-top",
        "CdSe-zb-001-3ml-1x1-Cdterm_vSe-top-1-a",
        "Se-atom",
    ]
    for folder in folders:
        files = {p.name for p in (tmp_path / "results" / "vasp_inputs" / folder).iterdir()}
        assert files - {".snakemake_timestamp"} == {"INCAR", "KPOINTS", "POSCAR", "POTCAR.spec"}
    assert not list(tmp_path.rglob("POTCAR"))  # licensed content never lands anywhere here
    atom_incar = (tmp_path / "results" / "vasp_inputs" / "Se-atom" / "INCAR").read_text()
    assert "ISPIN = 2" in atom_incar and "MAGMOM = 1*2.0" in atom_incar
