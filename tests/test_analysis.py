"""Tables rebuilt from a fixed set of records with known energies; validation verdicts; figures.

The records hold the study's real structures (the shipped default config) with energies made up so
that every number of the tables is known by hand:
  Cd solid -1.0 eV/atom, Se solid -3.0 eV/atom, CdSe -5.0 eV/f.u. (dH_f = -1.0), Se atom -0.5 eV
  (cohesive 2.5 eV); a vacancy costs 2.0 eV against the Se-rich limit in wurtzite and 1.5 eV in zinc
  blende; a Cd removed after the top Se plane costs 0.5 eV against the Cd-rich limit; interface energies are the published ones; strained shells cost 0.02 eV/f.u., rock salt
  CdS 0.1 eV/f.u. more than zinc blende.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nanophase import analysis, convergence, paper
from nanophase.analysis import Calculated
from nanophase.bulk import read_bulk
from nanophase.calculators.records import new_record, write_record
from nanophase.calculators.settings import PRESETS
from nanophase.config import load_config
from nanophase.energetics import SettingsMismatch, composition
from nanophase.figures import FIGURE_STEMS, write_figures
from nanophase.layers import in_plane_area_a2
from nanophase.structio import write_structure
from nanophase.study import TASKS, Study
from nanophase.tables import read_table
from nanophase.validation import run_facts, validation_table

REPO = Path(__file__).resolve().parents[1]
E_CD, E_SE, E_CDSE, E_SE_ATOM = -1.0, -3.0, -5.0, -0.5
E_F_SE_RICH = {"wurtzite": 2.0, "zincblende": 1.5}
E_F_CD_RICH = 0.5  # a Cd vacancy after Se loss, against the Cd-rich limit
E_CDS_ZB, E_CDS_RS, E_PBS, STRAIN = -4.0, -3.9, -6.0, 0.02
PUBLISHED_INTERFACES = {(1, 0): 69.0, (0, 1): 86.0, (2, 0): 89.0, (0, 2): 134.0, (1, 2): 161.0, (2, 1): 154.0}
SURFACE_EV = 1.0  # pristine slab energy above its bulk


def _study_structures(study: Study) -> dict:
    bulk = {key: read_bulk(REPO / path, name=key) for key, path in study.bulk_files.items()}
    structures = dict(bulk)
    from ase import Atoms

    for symbol in study.isolated_atoms:
        structures[f"{symbol}-atom"] = Atoms(symbol, cell=[10, 10.5, 11], pbc=True)
    for model in study.slabs:
        structures.update(model.build(bulk[model.bulk]))
    model = study.interfaces
    structures.update(model.build(bulk[model.substrate]))
    structures.update(model.build_strained({k: bulk[k] for k in model.strained}, bulk[model.substrate]))
    return structures


def _energies(study: Study, structures: dict) -> dict[str, float]:
    """Made-up energies by structure name, following the model in the module docstring."""
    energies = {}
    for name in study.bulk_files:
        counts = composition_of(structures[name])
        if set(counts) == {"Cd", "Se"}:
            energies[name] = counts["Cd"] * E_CDSE
        elif set(counts) == {"Cd", "S"}:
            rocksalt = structures[name].info["prototype"] == "rocksalt"
            energies[name] = counts["Cd"] * (E_CDS_RS if rocksalt else E_CDS_ZB)
        elif set(counts) == {"Pb", "S"}:
            energies[name] = counts["Pb"] * E_PBS
        else:
            ((element, n),) = counts.items()
            energies[name] = n * {"Cd": E_CD, "Se": E_SE, "Pb": -2.0}[element]
    energies["Se-atom"] = E_SE_ATOM
    for model in study.slabs:
        counts = composition_of(structures[model.name])  # Cd-excess zinc blende: extra Cd at E_CD
        energies[model.name] = counts["Se"] * E_CDSE + (counts["Cd"] - counts["Se"]) * E_CD + SURFACE_EV
        for spec in sorted(model.vacancies, key=lambda spec: len(spec.prior)):  # hosts first
            n = spec.n_vacancies
            if spec.species == "Cd":  # Cd after Se loss: E_F_CD per Cd at the Cd-rich limit (mu_Cd = E_CD)
                energies[spec.name] = energies[spec.host] + n * (E_F_CD_RICH - E_CD)
            else:
                energies[spec.name] = energies[model.name] + n * (E_F_SE_RICH[model.settings.phase] - E_SE)
    interfaces = study.interfaces
    bare = next(n for s, n in zip(interfaces.stacks, interfaces.names, strict=True) if s.decorated_faces == 0)
    bare_atoms = structures[bare]
    energies[bare] = composition_of(bare_atoms)["Pb"] * E_PBS + 0.5
    for settings, name in zip(interfaces.stacks, interfaces.names, strict=True):
        if settings.decorated_faces == 0:
            continue
        n_cds = composition_of(structures[name])["Cd"]
        area = in_plane_area_a2(structures[name])
        gamma = PUBLISHED_INTERFACES[(settings.n_rocksalt, settings.n_zincblende)] / 1000.0
        energies[name] = energies[bare] + n_cds * E_CDS_ZB + settings.decorated_faces * area * gamma
    for shell, name in interfaces.strained.items():
        energies[name] = energies[shell] + composition_of(structures[name])["Cd"] * STRAIN
    return energies


def composition_of(atoms) -> dict[str, int]:
    symbols = atoms.get_chemical_symbols()
    return {s: symbols.count(s) for s in set(symbols)}


def make_calculated(
    settings, config_path: Path = REPO / "config/config.yaml", code: str = "gpaw"
) -> tuple[Study, Calculated]:
    """The default study with the six published stacks, every record holding its model energy."""
    config = load_config(config_path)
    config["interfaces"]["stacks"] = [list(pair) for pair in PUBLISHED_INTERFACES]
    study = Study.from_config(config, root=REPO)
    structures = _study_structures(study)
    energies = _energies(study, structures)
    records = {}
    for name in study.structure_names():
        atoms = structures[name]
        records[name] = new_record(
            name, TASKS[study.families[name]], code, "test", settings, atoms, energy_ev=energies[name],
            forces=np.zeros((len(atoms), 3)), input_hash="", max_force_ev_per_a=0.0, converged=True,
            ionic_steps=3, wall_time_s=1.0,
        )  # fmt: skip
    return study, Calculated(records, structures)


@pytest.fixture(scope="module")
def laptop():
    return make_calculated(PRESETS["quick"])


def test_vacancy_formation_energies_by_hand(laptop):
    study, calculated = laptop
    table = analysis.vacancy_formation(study, calculated)
    assert len(table) == sum(len(m.vacancies) for m in study.slabs) == 10
    se = table[table["species"] == "Se"]
    for phase, e_rich in E_F_SE_RICH.items():
        rows = se[se["phase"] == phase]
        assert len(rows) == 4
        assert np.allclose(rows["E_f Se-rich (eV/vacancy)"], e_rich)
        # Cd-rich limit: mu_Se lower by -dH_f = 1.0 eV
        assert np.allclose(rows["E_f Cd-rich (eV/vacancy)"], e_rich - 1.0)
    # Cd removed after the top Se plane: against that sheet, mu_Cd higher by -dH_f at the Cd-rich limit
    cd = table[table["species"] == "Cd"]
    assert len(cd) == 2 and (cd["series"] == "after-layer").all()
    assert np.allclose(cd["E_f Cd-rich (eV/vacancy)"], E_F_CD_RICH)
    assert np.allclose(cd["E_f Se-rich (eV/vacancy)"], E_F_CD_RICH + (E_CDSE - E_CD - E_SE))
    assert cd["E_f atom (eV/vacancy)"].isna().all()  # no free Cd atom in the study
    assert all(host.endswith("_vSe-layer-top") for host in cd["host"])
    limits = analysis.chemical_potential_limits(study, calculated)
    assert np.allclose(limits["dH_f (eV/f.u.)"], E_CDSE - E_CD - E_SE)
    assert np.allclose(limits["E_coh Se (eV/atom)"], E_SE_ATOM - E_SE)
    # identity: atom-referenced minus Se-rich = the Se cohesive energy computed from the same records
    cohesive = limits["E_coh Se (eV/atom)"].iloc[0]
    assert np.allclose(se["E_f atom (eV/vacancy)"] - se["E_f Se-rich (eV/vacancy)"], cohesive)


def test_study_measure_and_concentration(laptop):
    study, calculated = laptop
    table = analysis.vacancy_formation(study, calculated)
    for model in study.slabs:
        host = calculated.records[model.name]
        for spec in model.vacancies:
            row = table[table["structure"] == spec.name].iloc[0]
            defect = calculated.records[spec.name]
            expected = defect.energy_ev / defect.n_atoms - host.energy_ev / host.n_atoms
            assert row["dE (meV/atom)"] == pytest.approx(1000 * expected)
            assert row["concentration"] == pytest.approx(spec.n_vacancies / composition(host)[spec.species])
            counts = composition(defect)
            assert row["Se/Cd"] == pytest.approx(counts["Se"] / counts["Cd"])


def test_formation_energy_scan_is_linear_between_the_limits(laptop):
    study, calculated = laptop
    scan = analysis.formation_energy_scan(study, calculated, points=5)
    specs = {s.name: s for m in study.slabs for s in m.vacancies}
    for structure, line in scan.groupby("structure"):
        dmu = line["dmu_Se (eV)"].to_numpy()
        assert dmu[0] == pytest.approx(E_CDSE - E_CD - E_SE) and dmu[-1] == pytest.approx(0.0)
        # E_f rises one-for-one with mu_Se per Se removed, falls one-for-one per Cd removed (mu_Cd = E_CdSe - mu_Se)
        slope = 1.0 if specs[structure].species == "Se" else -1.0
        assert np.allclose(np.diff(line["E_f (eV/vacancy)"]), slope * np.diff(dmu))
        area = calculated.area_a2(structure.split("_v")[0])
        n = specs[structure].n_vacancies
        assert np.allclose(line["dOmega (meV/A^2)"], 1000 * n * line["E_f (eV/vacancy)"] / area)


def test_phase_stability_keeps_series_apart_with_the_lowest_placement(laptop):
    study, calculated = laptop
    stability = analysis.phase_stability(study, calculated)
    assert set(stability["phase"]) == {"wurtzite", "zincblende"}
    assert set(stability["series"]) == {"surface-top", "layer"}
    assert (stability[stability["concentration"] == 0]["dE (meV/atom)"] == 0).all()
    # one row per phase, series and concentration; zinc blende vacancies are 0.5 eV cheaper
    assert not stability.duplicated(["phase", "series", "concentration"]).any()
    defects = stability[stability["concentration"] > 0]
    for phase, e_rich in E_F_SE_RICH.items():
        assert np.allclose(defects[defects["phase"] == phase]["E_f Se-rich (eV/vacancy)"], e_rich)
    # dE/atom is a formation energy at mu_bar = E_host/N_host: the column says where, against Se solid
    for model in study.slabs:
        host = calculated.records[model.name]
        rows = stability[stability["phase"] == model.settings.phase]
        assert np.allclose(rows["dmu_Se at mu_bar (eV)"], host.energy_ev / host.n_atoms - E_SE)


def test_interface_energies_and_their_terms(laptop):
    study, calculated = laptop
    table = analysis.interface_energies(study, calculated).set_index(["n_rs", "n_zb"])
    assert len(table) == len(PUBLISHED_INTERFACES)
    for (n_rs, n_zb), published in PUBLISHED_INTERFACES.items():
        row = table.loc[(n_rs, n_zb)]
        assert row["E_int (meV/A^2)"] == pytest.approx(published)
        assert row["E_int (J/m^2)"] == pytest.approx(published / 62.415090744)
        assert row["E_int per ML (meV/A^2)"] == pytest.approx(published / (n_rs + n_zb))
        area, faces, n_shell = row["area (A^2)"], row["faces"], row["shell f.u."]
        n_rs_fu = n_shell * n_rs / (n_rs + n_zb)
        assert row["polymorph (meV/A^2)"] == pytest.approx(
            1000 * n_rs_fu * (E_CDS_RS - E_CDS_ZB) / (faces * area)
        )
        assert row["strain (meV/A^2)"] == pytest.approx(1000 * n_shell * STRAIN / (faces * area))
        total = row["polymorph (meV/A^2)"] + row["strain (meV/A^2)"] + row["surface + interface (meV/A^2)"]
        assert total == pytest.approx(published)
    ordering = analysis.interface_ordering(analysis.interface_energies(study, calculated)).set_index(
        "monolayers"
    )
    assert ordering.loc[1, "lower"] == "rock salt" and ordering.loc[2, "lower"] == "rock salt"


def test_knockon_sites_take_voltages_from_t_d_never_from_the_static_energy(laptop):
    study, calculated = laptop
    vacancies = analysis.vacancy_formation(study, calculated)
    sites = analysis.knockon_sites(study, vacancies, (80.0, 200.0))
    single = [s for m in study.slabs for s in m.vacancies if len(s.removed) == 1]
    assert len(sites) == 2 * len(single)
    wz = sites[sites["phase"] == "wurtzite"].iloc[0]
    assert wz["E_f static (eV)"] == pytest.approx(E_F_SE_RICH["wurtzite"] + E_SE_ATOM - E_SE)
    assert "threshold (kV)" not in sites and "lower bound" in wz["T_d from"]  # no dynamics: no voltages
    assert set(sites.loc[sites["depth"] > 0, "what the beam can do"]) <= {
        "Frenkel pair (cannot leave the sheet)"
    }
    sheet = next(m.name for m in study.slabs if m.settings.phase == "wurtzite")
    thresholds = pd.DataFrame([{"sheet": sheet, "species": "Se", "depth": 0, "role": "exit", "T_d (eV)": 6.0,
                                "model": "chgnet 0.4.2 + ZBL"}])  # fmt: skip
    sites = analysis.knockon_sites(study, vacancies, (80.0, 200.0), thresholds)
    wz = sites[(sites["phase"] == "wurtzite") & (sites["depth"] == 0)].set_index("voltage (kV)")
    from nanophase.knockon import max_transfer_ev

    assert max_transfer_ev(wz.loc[200.0, "threshold (kV)"], "Se") == pytest.approx(6.0, rel=1e-9)
    assert list(wz["displaced at this voltage"]) == ["no", "yes"]  # 80 kV hands Se 2.4 eV, 200 kV 6.6 eV
    assert wz.loc[200.0, "sigma Mott (barn)"] > wz.loc[200.0, "sigma McKinley-Feshbach (barn)"] > 0


def test_mixed_settings_stop_the_tables_naming_both_records(laptop):
    study, calculated = laptop
    records = dict(calculated.records)
    other = PRESETS["paper"]
    host = records["CdSe-wz"]
    records["CdSe-wz"] = replace(host, fingerprint=other.fingerprint("gpaw"), physics=other.physics("gpaw"))
    with pytest.raises(SettingsMismatch, match="CdSe-wz"):
        analysis.vacancy_formation(study, Calculated(records, calculated.structures))


def test_written_tables_match_the_frames_and_figures_are_drawn(laptop, tmp_path):
    study, calculated = laptop
    paths = paper.write_paper_tables(
        study, calculated, tmp_path / "tables", (60.0, 80.0, 200.0, 300.0), "test."
    )
    assert len(paths) == 3 * len(paper.TABLE_STEMS)
    frames, unavailable = paper.paper_tables(study, calculated, (60.0, 80.0, 200.0, 300.0))
    assert unavailable == ""
    for stem, frame in frames.items():
        pd.testing.assert_frame_equal(
            read_table(tmp_path / "tables" / f"{stem}.csv"), frame, check_dtype=False
        )
        tex = (tmp_path / "tables" / f"{stem}.tex").read_text()
        assert r"\toprule" in tex and r"\bottomrule" in tex
    figures = write_figures(tmp_path / "tables", tmp_path / "figures")
    assert {p.stem for p in figures} == set(FIGURE_STEMS)
    for path in figures:
        assert path.stat().st_size > 5000, path
        assert path.read_bytes()[:4] in (b"\x89PNG", b"%PDF")


def test_validation_at_laptop_settings_says_not_comparable(laptop, tmp_path):
    study, calculated = laptop
    paper.write_paper_tables(study, calculated, tmp_path, (200.0,))
    table = read_table(paper.write_validation(study, calculated, tmp_path, tmp_path)[0]).set_index("quantity")
    energy = table.loc["Se vacancy formation energy, wurtzite sheet, vs. isolated atom"]
    assert energy["this run"] == pytest.approx(E_F_SE_RICH["wurtzite"] + E_SE_ATOM - E_SE)
    assert energy["verdict"].startswith("not comparable") and "200 eV < 400 eV" in energy["verdict"]
    assert "3 ML < 7 ML" in energy["verdict"]
    assert table.loc["largest energy transferred to Se at 200 keV", "verdict"] == "pass"
    # 10.78 eV exact vs 10.81 eV quoted: 0.25 %, the source's rounding, not a failure of the physics
    assert (
        table.loc["largest energy transferred to Se at 300 keV", "verdict"]
        == "rounding in the source (0.25 %)"
    )
    ratios = table.loc["Se per Cd after losing one surface Se layer (7 ML wz)"]
    assert set(ratios["verdict"]) == {"pass", "not comparable: the run's slab has 3 ML, the published 7"}
    assert sorted(ratios["this run"]) == pytest.approx([4 / 6, 12 / 14])
    both = table.loc["Se per Cd after losing both surface Se layers (7 ML wz)"]
    assert sorted(both["this run"]) == pytest.approx([2 / 6, 10 / 14])
    # experimental lattices: 2.03 % vs 2.2 %; a run that kept the curated lattice has no PBE row
    mismatch = table[table.index == "PbS/zb-CdS lattice mismatch (a_PbS - a_CdS) / a_CdS"]
    assert list(mismatch["verdict"]) == ["pass"]


def test_validation_passes_records_with_the_published_values_at_published_settings(tmp_path):
    study, calculated = make_calculated(PRESETS["paper"])
    tables, _ = paper.paper_tables(study, calculated, (200.0,))
    facts = replace(run_facts(study, calculated), wz_monolayers=7)
    table = validation_table(tables["vacancy_formation"], tables["interface_energies"], tables["interface_ordering"],
                             facts).set_index("quantity")  # fmt: skip
    interface_rows = table[table.index.str.startswith("interface energy")]
    # the study does not publish its definition: matching numbers are reported, not judged
    assert len(interface_rows) == 6
    assert set(interface_rows["verdict"]) == {"reference only: definition not published (differs by +0)"}
    assert np.allclose(interface_rows["difference"], 0.0, atol=1e-9)
    # what is defined whatever the definition: the second ML's cost, zb minus rs (+48 - +20 = +28 published)
    increment = table.loc["second-ML increment, zinc blende minus rock salt"]
    assert increment["published"] == pytest.approx(28.0) and increment["this run"] == pytest.approx(28.0)
    assert increment["verdict"] == "pass"
    assert table.loc["lower shell phase at 1 and 2 ML (published: rock salt at both)", "verdict"] == "pass"
    # 4.5 eV against the published 5.12 eV: outside the 0.3 eV tolerance
    assert table.loc["Se vacancy formation energy, wurtzite sheet, vs. isolated atom", "verdict"] == "fail"


def test_convergence_error_bars_go_onto_the_rows_they_were_computed_for():
    """Quadrature sum over the series; only the sheet's single top-surface vacancy and the 1 ML stacks get a
    bar; the validation says 'agrees within error' where the bar covers the difference."""
    study, calculated = make_calculated(PRESETS["paper"])
    vacancy, rock_salt, zinc_blende = (
        *convergence.QUANTITY_LABELS["vacancy"],
        *convergence.QUANTITY_LABELS["interface"],
    )
    series = pd.DataFrame(
        [(vacancy, "monolayers", 0.03), (vacancy, "encut_ev", 0.04), (vacancy, "kpoint_length_a", np.nan),
         (rock_salt, "vacuum_a", 2.0), (zinc_blende, "vacuum_a", 3.0),
         (convergence.QUANTITY_LABELS["margin"][0], "encut_ev", 4.0)],
        columns=["quantity", "parameter", "error at the study setting"],
    )  # fmt: skip
    bars = convergence.error_bars(series)
    assert bars[vacancy]["error"] == pytest.approx(0.05) and bars[vacancy]["missing"] == ["kpoint_length_a"]
    sheet = next(model for model in study.slabs if model.settings.phase == "wurtzite")
    tables, _ = paper.paper_tables(study, calculated, (200.0,), bars=bars, bar_sheet=sheet.name)
    vacancies = tables["vacancy_formation"]
    marked = vacancies[vacancies[convergence.VACANCY_BAR].notna()]
    assert len(marked) == 1 and marked.iloc[0]["host"] == sheet.name
    assert marked.iloc[0]["structure"] == f"{sheet.name}_vSe-top-1-a"
    assert marked.iloc[0][convergence.VACANCY_BAR] == pytest.approx(0.05)
    interfaces = tables["interface_energies"].set_index(["n_rs", "n_zb"])[convergence.INTERFACE_BAR]
    assert interfaces[(1, 0)] == 2.0 and interfaces[(0, 1)] == 3.0
    assert interfaces.drop([(1, 0), (0, 1)]).isna().all()
    # the margin's bar: pristine sheets of the sheet's thickness where both phases are computed, nowhere else
    phases = tables["phase_competition"]
    barred = phases[phases[convergence.MARGIN_BAR].notna()]
    assert len(barred) >= 1 and set(barred["series"]) == {"pristine"}
    assert (
        set(barred["monolayers"]) == {sheet.settings.monolayers}
        and (barred[convergence.MARGIN_BAR] == 4.0).all()
    )
    assert barred["margin (meV/Cd)"].notna().all()
    assert phases.loc[phases["series"] != "pristine", convergence.MARGIN_BAR].isna().all()
    facts = replace(run_facts(study, calculated), wz_monolayers=7)
    table = validation_table(tables["vacancy_formation"], tables["interface_energies"], tables["interface_ordering"],
                             facts).set_index("quantity")  # fmt: skip
    assert table.loc["interface energy, 1 ML rock-salt CdS", "verdict"] == (
        "reference only: definition not published (agrees within error (+0 +/- 2))"
    )
    assert table.loc["interface energy, 1 ML zinc blende CdS", "error bar"] == 3.0
    assert np.isnan(table.loc["interface energy, 2 ML rock-salt CdS", "error bar"])


def test_validation_of_a_screening_run_compares_no_dft_number():
    """Energies from a machine-learned potential are never judged against the published DFT numbers."""
    study, calculated = make_calculated(replace(PRESETS["paper"], mlip_model="chgnet"), code="chgnet")
    tables, _ = paper.paper_tables(study, calculated, (200.0,))
    table = validation_table(tables["vacancy_formation"], tables["interface_energies"], tables["interface_ordering"],
                             run_facts(study, calculated)).set_index("quantity")  # fmt: skip
    energies = table[table["unit"] == "meV/A^2"]
    assert len(energies) == 7  # six interface energies and the second-ML increment
    assert set(energies["verdict"]) == {
        "not comparable: machine-learned potential chgnet, not DFT (screening)"
    }
    assert set(energies["run settings"]) == {"chgnet test: fmax 0.01"}
    # kinematics and composition do not depend on the energies: still judged
    assert table.loc["largest energy transferred to Se at 200 keV", "verdict"] == "pass"


def test_tables_rebuilt_from_record_files(laptop, tmp_path):
    """The rule's path: records and finals written to disk, read back, same tables."""
    study, calculated = laptop
    record_paths, final_paths = {}, {}
    for name, record in calculated.records.items():
        record_paths[name] = tmp_path / name / "record.json"
        final_paths[name] = tmp_path / name / "final.extxyz"
        write_record(record, record_paths[name])
        write_structure(calculated.structures[name], final_paths[name])
    loaded = paper.load_calculated(record_paths, final_paths)
    pd.testing.assert_frame_equal(
        analysis.interface_energies(study, loaded), analysis.interface_energies(study, calculated)
    )


def test_ase_database_rows_and_queries(laptop, tmp_path):
    """One row per record: the record's energy as ASE's energy, the keys people filter on, `ase db` queries."""
    import subprocess
    import sys

    from ase.db import connect

    from nanophase.database import write_database

    study, calculated = laptop
    path = tmp_path / "nanophase.db"
    assert write_database(study, calculated, path) == len(calculated.records)
    db = connect(path)
    assert db.count() == len(calculated.records)
    vacancies = list(db.select(family="vacancy"))
    assert len(vacancies) == sum(len(m.vacancies) for m in study.slabs)
    for row in vacancies:
        record = calculated.records[row.name]
        assert row.energy == pytest.approx(record.energy_ev) and row.natoms == record.n_atoms
        assert row.fingerprint == record.fingerprint and row.task == "relax" and row.code == "gpaw"
        spec = next(s for m in study.slabs for s in m.vacancies if s.name == row.name)
        assert row.concentration == pytest.approx(spec.concentration) and row.n_removed == len(spec.removed)
    assert db.count("family=vacancy,phase=wurtzite,species=Cd") == 1
    # the command line users type
    result = subprocess.run([sys.executable, "-m", "ase", "db", str(path), "family=bulk", "-c", "name,energy"],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "CdSe-wz" in result.stdout and "Rows: 7" in result.stdout
