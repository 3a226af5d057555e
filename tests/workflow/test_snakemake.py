"""The workflow itself: lint, dry runs of both configs, a bad config, and a real structures run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from ase.io import read

from nanophase.bulk import read_bulk
from nanophase.calculators.mlip_calc import mlip_available
from nanophase.config import load_config
from nanophase.convergence import INTERFACE_BAR, MARGIN_BAR, VACANCY_BAR
from nanophase.figures import FIGURE_STEMS
from nanophase.study import Study

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


@pytest.mark.parametrize("config, n_bulk", [("config.yaml", 7), ("paper.yaml", 7)])
def test_dry_run(tmp_path, config, n_bulk):
    study = Study.from_config(load_config(REPO / "config" / config), root=REPO)
    n_calcs = len(study.structure_names())  # one job per structure: nothing computed twice
    result = snakemake(
        "-n", "--directory", str(tmp_path), "--configfile", str(config_in(tmp_path, source=config))
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    for rule, count in [("bulk_reference", n_bulk), ("slab_series_wz", 1), ("slab_series_zb", 1),
                        ("interface_stacks", 1), ("strained_shells", 1), ("structure_index", 1), ("calc", n_calcs),
                        ("vacancy_inputs_wz", 1), ("tables", 1), ("figures", 1), ("validation", 1)]:  # fmt: skip
        assert any(line.split() == [rule, str(count)] for line in out.splitlines()), (rule, out)
    assert not (tmp_path / "results").exists()


def test_a_settings_change_reruns_exactly_the_calculations_it_affects(tmp_path):
    """Each calc job reads its calculation.json, written by a rule whose params are the settings that job
    depends on: the cutoff reruns every DFT calculation, fmax the relaxations only (not the free atom's
    single point), and an unchanged config nothing."""
    study = Study.from_config(load_config(REPO / "config" / "config.yaml"), root=REPO)
    names = study.structure_names()
    targets = [f"results/calcs/gpaw/{name}/calculation.json" for name in names]

    def gpaw_config(**calculator):
        return str(config_in(tmp_path, lambda c: c["calculator"].update(backend="gpaw", **calculator)))

    # targets before --configfile, which takes every path after it
    written = snakemake("--cores", "1", "--directory", str(tmp_path), *targets, "--configfile", gpaw_config())
    assert written.returncode == 0, written.stdout + written.stderr
    assert json.loads((tmp_path / targets[0]).read_text())["name"] == names[0]

    def rewritten(**calculator) -> set[str]:
        result = snakemake(
            "-n", "--directory", str(tmp_path), *targets, "--configfile", gpaw_config(**calculator)
        )
        assert result.returncode == 0, result.stdout + result.stderr
        # the jobs it plans, not the command line it echoes
        return set(re.findall(r"output: results/calcs/gpaw/([^/\s]+)/calculation\.json", result.stdout))

    single_points = {name for name in names if study.families[name] == "atom"}
    assert single_points == {"Se-atom"}
    assert rewritten() == set()
    assert rewritten(encut_ev=250.0) == set(names)
    assert rewritten(fmax_ev_per_a=0.1) == set(names) - single_points


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
        config["interfaces"].pop("stacks")
        config["interfaces"].update(
            substrate_layers=3,
            rocksalt_monolayers=[0, 1],
            zincblende_monolayers=[0, 1],
            faces=["both", "top"],
            fixed="middle",
        )

    # the target goes before --configfile, which takes several values
    result = snakemake("structures", "--cores", "2", "--directory", str(tmp_path),
                       "--configfile", str(config_in(tmp_path, tiny)))  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    index = pd.read_csv(tmp_path / "results" / "structures" / "index.csv").set_index("name")
    # per slab: whole Se layer top and both, one top vacancy (= depth 0; 2 Se planes have no deeper one),
    # one Cd removed after the top Se layer
    assert index.family.value_counts().to_dict() == {
        "bulk": 7,
        "atom": 1,
        "vacancy": 8,
        "interface": 7,
        "slab": 2,
        "strained": 2,  # rock-salt and zinc blende CdS at the PbS in-plane lattice
    }
    strained = index.loc["CdS-zb-on-PbS-rs"]
    assert (strained.n_Cd, strained.n_S) == (4, 4)
    for name, row in index.iterrows():
        path = tmp_path / row.path
        assert path.is_file() and path.stem == name and path.parent.name == row.family
    wz = index.loc["CdSe-wz-1120-2ml-1x1"]
    assert (wz.n_Cd, wz.n_Se, wz.n_layers) == (4, 4, 2)
    layer_both = index.loc["CdSe-zb-001-2ml-1x1-Cdterm_vSe-layer-both"]
    assert (layer_both.n_Cd, layer_both.n_Se, layer_both.concentration) == (6, 0, 1.0)
    cd_after = index.loc["CdSe-zb-001-2ml-1x1-Cdterm_vSe-layer-top_vCd-top-1-a"]
    assert (cd_after.n_Cd, cd_after.n_Se, cd_after.removed_species) == (5, 2, "Se+Cd")
    stack = index.loc["PbS-100-3L-1x1_rsCdS1-zbCdS1-top"]
    assert (stack.n_Pb, stack.n_Cd, stack.n_S, stack.faces) == (6, 4, 10, "top")
    log = (tmp_path / "logs" / "structures" / "slab" / "CdSe-wz-1120-2ml-1x1.log").read_text()
    assert "symmetry-distinct" in log


def trimmed_study(config):
    """The default study cut to its smallest structures: 2-monolayer slabs with a top vacancy, the top
    Se layer removed and one Cd removed after it, a 2-layer PbS substrate under 1 ML of rock salt or zinc
    blende, 200 eV."""
    for key in ("wz", "zb"):
        config["slabs"][key]["monolayers"] = 2
        config["slabs"][key]["vacancies"].update(surface_counts=[1], depth=False, whole_layer=["top"])
    config["interfaces"].update(stacks=[[1, 0], [0, 1]])
    config["calculator"].update(backend="gpaw", encut_ev=200.0, max_steps=80)
    # the GPAW knock-on check (minutes of Born-Oppenheimer MD) would outlast the run's time limit; its
    # logic is tested with the potential standing in (tests/test_displacement.py)
    config["knockon"]["dft_check"]["enabled"] = False
    # the error bars' series cut to the cheapest: two thicknesses on the potential, two cutoffs on GPAW
    config["convergence"].update(monolayers=[2, 3], supercell=[], substrate_layers=[], vacuum_a=[],
                                 encut_ev=[200.0, 250.0], kpoint_length_a=[])  # fmt: skip


@pytest.fixture(scope="module")
def trimmed_run(tmp_path_factory):
    """The trimmed default study end to end: every calculation, table, figure and the validation table."""
    folder = tmp_path_factory.mktemp("study")
    env_root = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    import os

    os.environ.update(env_root)
    result = snakemake("--cores", "2", "--directory", str(folder), "--configfile",
                       str(config_in(folder, trimmed_study)), timeout=1500)  # fmt: skip
    assert result.returncode == 0, result.stderr[-5000:]
    return folder, result


def table(folder: Path, stem: str) -> pd.DataFrame:
    return pd.read_csv(folder / "results" / "tables" / f"{stem}.csv")


def records_of(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in (folder / "results" / "calcs" / "gpaw").glob("*/record.json")]


def test_trimmed_study_calculations_share_settings_and_lattices(trimmed_run):
    folder, result = trimmed_run
    calcs = folder / "results" / "calcs" / "gpaw"
    records = {p.parent.name: json.loads(p.read_text()) for p in calcs.glob("*/record.json")}
    assert len(records) == 7 + 1 + 8 + 3 + 2
    assert len({r["fingerprint"] for r in records.values()}) == 1  # every difference is allowed
    assert all(r["converged"] for r in records.values())
    # the quick preset keeps the curated lattice (relax_cell: false): bulk references relax their atoms in
    # the primitive cell, slabs are cut from the same lattice, the shells are held at PbS's
    assert records["CdSe-zb"]["task"] == "relax" and records["CdSe-zb"]["n_atoms"] == 2
    bulk_a = read_bulk(calcs / "CdSe-zb" / "final.extxyz").cell.lengths()[0]
    assert bulk_a == pytest.approx(
        read_bulk(REPO / "structures/bulk/CdSe-zb.cif").cell.lengths()[0], abs=1e-4
    )
    cut = read(calcs / "structures" / "slab" / "CdSe-zb-001-2ml-1x1-Cdterm.extxyz")
    assert cut.cell.lengths()[0] == pytest.approx(bulk_a, abs=1e-4)
    pbs_a = read_bulk(calcs / "PbS-rs" / "final.extxyz").cell.lengths()[0]
    strained = read(calcs / "CdS-zb-on-PbS-rs" / "final.extxyz")
    assert len(strained) == 2  # the body-centred tetragonal primitive cell, normal along z
    assert 2 * np.abs(strained.cell.array[:, :2]).max() == pytest.approx(pbs_a, abs=1e-6)
    # at 200 eV the stress is not trusted: each shell's normal comes from an E(c) fit at constant cutoff,
    # bracketed by the scan; the record is the lowest cell computed (the fitted one, or the lowest scan
    # point where the plane-wave-count steps of a 2-atom cell at 200 eV put the fitted cell above it)
    for shell in ("CdS-rs-on-PbS-rs", "CdS-zb-on-PbS-rs"):
        fit = records[shell]["extra"]["normal_fit"]
        scan = np.array(fit["points"])
        assert len(scan) >= 5 and scan[:, 0].min() < fit["c_fit_a"] < scan[:, 0].max()
        lowest = min(scan[:, 1].min(), fit["fitted_cell_energy_ev"])
        assert records[shell]["energy_ev"] == pytest.approx(lowest, abs=1e-3)
        assert records[shell]["task"] == "relax-c"
    # one k-point density: 2x2x1 in the slabs, 3x3x3 in the zinc blende primitive cell
    assert records["CdSe-wz-1120-2ml-1x1"]["kpoints"] == [2, 2, 1]
    assert records["CdSe-zb"]["kpoints"] == [3, 3, 3]
    # the default study pre-relaxes with SevenNet-0 where it is installed; the energies stay GPAW's
    if mlip_available("sevenn"):
        assert records["CdSe-wz-1120-2ml-1x1"]["extra"]["prerelax"]["model"] == "sevenn"
        assert (
            "relaxations started from the sevenn geometry"
            in (folder / "results/tables/records.md").read_text()
        )
    # a vacancy is made from the relaxed slab: the remaining atoms start where the relaxed slab left them
    host = read(calcs / "CdSe-wz-1120-2ml-1x1" / "final.extxyz")
    vacancy = read(calcs / "structures" / "vacancy" / "CdSe-wz-1120-2ml-1x1_vSe-top-1-a.extxyz")
    kept = [
        i
        for i in range(len(host))
        if i not in {int(x) for x in str(vacancy.info["removed_indices"]).split(",")}
    ]
    assert vacancy.positions == pytest.approx(host.positions[kept], abs=1e-6)
    assert "mpiexec --bind-to none -n" in result.stdout + result.stderr


def test_trimmed_study_tables_obey_physics(trimmed_run):
    folder, _ = trimmed_run
    for stem in ("vacancy_formation", "phase_stability", "interface_energies", "knockon_sites", "validation"):
        for suffix in (".csv", ".md", ".tex"):
            assert (folder / "results" / "tables" / f"{stem}{suffix}").stat().st_size > 100
    # what rests on vacancy sheets says that each is one local minimum (the start can decide which)
    for stem in ("vacancy_formation", "phase_competition", "phase_map", "phase_conclusions"):
        assert "its energy is a local minimum" in (folder / "results" / "tables" / f"{stem}.md").read_text()
    limits = table(folder, "chemical_potentials")
    assert (limits["dH_f (eV/f.u.)"] < 0).all() and (limits["E_coh Se (eV/atom)"] > 0).all()
    vacancies = table(folder, "vacancy_formation")
    assert len(vacancies) == 6 and (vacancies["species"] == "Cd").sum() == 2
    se = vacancies[vacancies["species"] == "Se"]
    assert ((se["E_f atom (eV/vacancy)"] > 0) & (se["E_f atom (eV/vacancy)"] < 10)).all()
    # references: atom - Se-rich = cohesive energy; Se-rich - Cd-rich = -dH_f of the slab's own compound
    compound = {"wurtzite": "CdSe-wz", "zincblende": "CdSe-zb"}
    limits = limits.set_index("compound")
    for phase, rows in vacancies.groupby("phase"):
        cohesive, enthalpy = limits.loc[compound[phase], ["E_coh Se (eV/atom)", "dH_f (eV/f.u.)"]]
        rows_se = rows[rows["species"] == "Se"]
        assert np.allclose(rows_se["E_f atom (eV/vacancy)"] - rows_se["E_f Se-rich (eV/vacancy)"], cohesive)
        assert np.allclose(
            rows_se["E_f Se-rich (eV/vacancy)"] - rows_se["E_f Cd-rich (eV/vacancy)"], -enthalpy
        )
        rows_cd = rows[rows["species"] == "Cd"]  # a Cd vacancy is cheaper where Cd is scarce (Se-rich)
        assert np.allclose(
            rows_cd["E_f Se-rich (eV/vacancy)"] - rows_cd["E_f Cd-rich (eV/vacancy)"], enthalpy
        )
    # phase competition: both 2-ML sheets at equal Se/Cd, e(x) against one reservoir from the records
    competition = table(folder, "phase_competition")
    assert set(competition["phase"]) == {"wurtzite", "zincblende"} and (competition["monolayers"] == 2).all()
    assert len(competition) == 2 * 4  # pristine, top vacancy, top layer, Cd after it, per phase
    records = {r["name"]: r for r in records_of(folder)}
    reservoir = {k: records[k]["energy_ev"] / records[k]["n_atoms"] for k in ("CdSe-wz", "CdSe-zb", "Cd-hcp")}
    e_cdse = 2 * min(reservoir["CdSe-wz"], reservoir["CdSe-zb"])  # the lower CdSe polymorph, per f.u.
    for _, row in competition.iterrows():
        energy, n_cd, n_se = records[row["structure"]]["energy_ev"], row["n_Cd"], row["n_Se"]
        expected = (energy - n_se * e_cdse - (n_cd - n_se) * reservoir["Cd-hcp"]) / n_cd
        assert row["e per Cd (eV)"] == pytest.approx(expected, abs=1e-9)
    assert set(competition["favoured phase"]) <= {"wurtzite", "zincblende", "equal"} | {
        v for v in competition["favoured phase"] if v.startswith("not comparable")
    }
    # convergence error bars: on the wurtzite sheet's top-surface vacancy only, the quadrature sum of its
    # series' changes; on the 1 ML stacks; on the pristine sheets where both phases are computed
    series = pd.read_csv(folder / "results" / "convergence" / "tables" / "convergence.csv")
    assert len(series) == 5  # E_f x (monolayers, encut), E_int rs / zb x encut, margin x encut
    vacancy_bar = np.hypot(*series[series["quantity"].str.startswith("E_f")]["error at the study setting"])
    barred = vacancies[vacancies[VACANCY_BAR].notna()]
    assert list(barred["structure"]) == ["CdSe-wz-1120-2ml-1x1_vSe-top-1-a"]
    assert barred[VACANCY_BAR].iloc[0] == pytest.approx(vacancy_bar)
    assert table(folder, "interface_energies")[INTERFACE_BAR].notna().all()  # the stacks are 1 ML each
    assert set(competition.loc[competition[MARGIN_BAR].notna(), "series"]) == {"pristine"}
    # the cutoff series is frozen at the table rows' own GPAW-relaxed structures: its point at the study's
    # 200 eV is the table's number (a fresh SCF at the final geometry against the relaxation's last one)
    at_study = {
        quantity: next(p for p in json.loads((folder / "results" / "convergence" / f"{quantity}-encut_ev.json")
                                             .read_text())["points"] if p["value"] == 200.0)["quantities"]
        for quantity in ("vacancy", "interface", "margin")
    }  # fmt: skip
    assert at_study["vacancy"][0] == pytest.approx(barred["E_f Se-rich (eV/vacancy)"].iloc[0], abs=0.01)
    stacks = table(folder, "interface_energies").set_index(["n_rs", "n_zb"])["E_int (meV/A^2)"]
    assert at_study["interface"] == pytest.approx([stacks.loc[(1, 0)], stacks.loc[(0, 1)]], abs=0.5)
    margin_row = competition[competition[MARGIN_BAR].notna()]
    assert abs(at_study["margin"][0]) == pytest.approx(margin_row["margin (meV/Cd)"].iloc[0], abs=2.0)
    assert set(series["geometry"][series["tier"] == "dft"]) == {"study's relaxed structures"}
    mu_map = table(folder, "phase_map")
    assert mu_map["dmu_Se (eV)"].max() == pytest.approx(0.0)
    assert set(mu_map["favoured phase"]) <= {"wurtzite", "zincblende", "equal"}
    interfaces = table(folder, "interface_energies").set_index(["n_rs", "n_zb"])
    assert (
        np.isfinite(interfaces["E_int (meV/A^2)"]).all()
        and (interfaces["E_int (meV/A^2)"].abs() < 1000).all()
    )
    ordering = table(folder, "interface_ordering").set_index("monolayers")
    lower_is_rs = interfaces.loc[(1, 0), "E_int (meV/A^2)"] < interfaces.loc[(0, 1), "E_int (meV/A^2)"]
    assert ordering.loc[1, "lower"] == ("rock salt" if lower_is_rs else "zinc blende")
    validation = table(folder, "validation").set_index("quantity")
    assert validation.loc["largest energy transferred to Se at 200 keV", "verdict"] == "pass"
    assert validation.loc[
        "Se vacancy formation energy, wurtzite sheet, vs. isolated atom", "verdict"
    ].startswith("not comparable")
    for stem in FIGURE_STEMS:
        for suffix in (".png", ".pdf"):
            assert (folder / "results" / "figures" / f"{stem}{suffix}").stat().st_size > 5000


def test_trimmed_study_database_answers_ase_db_queries(trimmed_run):
    """results/nanophase.db holds every calculation; `ase db` filters it by the study's keys."""
    from ase.db import connect

    folder, _ = trimmed_run
    db = connect(folder / "results" / "nanophase.db")
    records = {r["name"]: r for r in records_of(folder)}
    assert db.count() == len(records) == 21
    for row in db.select(family="vacancy"):
        assert row.energy == pytest.approx(records[row.name]["energy_ev"])
        assert row.fingerprint == records[row.name]["fingerprint"]
    result = subprocess.run([sys.executable, "-m", "ase", "db", str(folder / "results" / "nanophase.db"),
                             "family=vacancy,species=Cd", "-c", "name,energy,host"],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0 and "Rows: 2" in result.stdout, result.stdout + result.stderr


def test_trimmed_study_report_bundles_tables_and_figures(trimmed_run):
    folder, _ = trimmed_run
    result = snakemake("--report", "results/report.html", "--directory", str(folder), "--configfile",
                       str(folder / "config.yaml"))  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = (folder / "results" / "report.html").read_text(errors="replace")
    assert "validation.csv" in report and "interface_energy.png" in report


def test_inputs_target_writes_vasp_folders_without_potcar(tmp_path):
    """The laptop "inputs only" mode: every calculation's VASP folder, POTCAR.spec instead of POTCAR."""

    def small(config):
        config["slabs"] = {"zb": config["slabs"]["zb"]}
        config.pop("interfaces")
        config.pop("particles")  # cut from PbS and CdS, which this study leaves out
        # the compound and its two chemical-potential limits
        config["bulk"] = {
            k: v for k, v in config["bulk"].items() if k in ("CdSe-zb", "Cd-hcp", "Se-trigonal")
        }
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
        "Cd-hcp",
        "CdSe-zb",
        "CdSe-zb-001-3ml-1x1-Cdterm",
        "CdSe-zb-001-3ml-1x1-Cdterm_vSe-depth1-a",
        "CdSe-zb-001-3ml-1x1-Cdterm_vSe-layer-both",
        "CdSe-zb-001-3ml-1x1-Cdterm_vSe-layer-top",
        "CdSe-zb-001-3ml-1x1-Cdterm_vSe-layer-top_vCd-top-1-a",
        "CdSe-zb-001-3ml-1x1-Cdterm_vSe-top-1-a",
        "Se-atom",
        "Se-trigonal",
    ]
    for folder in folders:
        files = {p.name for p in (tmp_path / "results" / "vasp_inputs" / folder).iterdir()}
        assert files - {".snakemake_timestamp"} == {"INCAR", "KPOINTS", "POSCAR", "POTCAR.spec"}
    assert not list(tmp_path.rglob("POTCAR"))  # licensed content never lands anywhere here
    atom_incar = (tmp_path / "results" / "vasp_inputs" / "Se-atom" / "INCAR").read_text()
    assert "ISPIN = 2" in atom_incar and "MAGMOM = 1*2.0" in atom_incar


def test_paper_study_is_the_whole_study_the_user_gave():
    """`--configfile config/paper.yaml` from the repository: every published stack, nothing of the default."""
    study = Study.from_config(load_config(REPO / "config" / "paper.yaml"), root=REPO)
    assert len(study.interfaces.names) == 15  # 0-4 rs x 0-2 zb, the bare slab included
    result = snakemake("-n", "--configfile", "config/paper.yaml")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert any(line.split() == ["calc", str(len(study.structure_names()))] for line in out.splitlines()), out
    assert "15 interface" in out and "117 vacancy" in out
    # an overlay changes only its keys: the screening of the paper study keeps its stacks
    result = snakemake("-n", "--configfile", "config/paper.yaml", "config/screening.yaml")
    assert "15 interface" in result.stdout + result.stderr


def test_a_reference_left_out_of_a_user_study_stays_out(tmp_path):
    """The default study does not put back what a user's study leaves out: the plan is refused, no job runs."""
    user = config_in(tmp_path, lambda c: c["bulk"].pop("CdS-rs"), source="paper.yaml")
    result = snakemake("-n", "--directory", str(tmp_path), "--configfile", str(user))
    assert result.returncode != 0
    assert "interfaces.rocksalt_shell: 'CdS-rs' is not a bulk key" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def test_trimmed_study_knockon_thresholds_come_from_dynamics(trimmed_run):
    """Every sheet's outermost Se kicked out through its face with CHGNet + ZBL: T_d, the sputtering
    threshold above the static E_f of the same potential, and knockon_sites taking its voltages from them."""
    folder, _ = trimmed_run
    thresholds = table(folder, "displacement_thresholds")
    assert sorted(thresholds["sheet"]) == ["CdSe-wz-1120-2ml-1x1", "CdSe-zb-001-2ml-1x1-Cdterm"]
    assert (thresholds["species"] == "Se").all() and (thresholds["role"] == "exit").all()
    assert (thresholds["failed runs"] == 0).all()
    sputtered = thresholds.dropna(subset=["T_sputter (eV)"])
    assert len(sputtered) >= 1
    assert (sputtered["T_sputter (eV)"] >= sputtered["T_d (eV)"]).all()
    assert (sputtered["T_sputter (eV)"] >= sputtered["E_f static, same potential (eV)"]).all()
    sites = table(folder, "knockon_sites")
    surface = sites[(sites["depth"] == 0) & sites["T_d (eV)"].notna()]
    from nanophase.knockon import max_transfer_ev

    for _, row in surface.iterrows():
        assert max_transfer_ev(row["threshold (kV)"], "Se") == pytest.approx(row["T_d (eV)"], rel=1e-9)
    damage = table(folder, "beam_damage")
    assert set(damage["voltage (kV)"]) == {60, 80, 200, 300}
    removable = damage["sigma sputtering Mott thermal (barn)"] > 0
    assert np.isfinite(damage.loc[removable, "time to remove (s)"]).all()
    assert (folder / "results" / "figures" / "beam_damage.png").stat().st_size > 10_000
