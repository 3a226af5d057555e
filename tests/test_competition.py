"""Phase competition at equal composition: hulls, crossing, tangent mu, invariances, and refusals.

The records hold the default study's real structures; each sheet's energy is built from a chosen energy
per Cd, E = m e_CdSe + (n - m) e_Cd + n f_phase(x), so that e(x) = f_phase(x) exactly:
  f_wz(x) = 0.3 + 0.2 x and f_zb(x) = 0.2 + 0.4 x (eV per Cd): zinc blende lower below x = 0.5,
  wurtzite above; hull slopes 0.2 and 0.4, in equilibrium with the reservoir at dmu_Se = dH_f + slope
  = -0.8 and -0.6 eV (dH_f = -1.0 eV).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from nanophase import analysis, competition, configurations, paper
from nanophase.analysis import Calculated
from nanophase.calculators.settings import PRESETS
from nanophase.config import ConfigError, load_config
from nanophase.energetics import composition
from nanophase.study import Study
from tests.test_analysis import E_CD, E_CDSE, E_SE, REPO, make_calculated

F = {"wurtzite": (0.3, 0.2), "zincblende": (0.2, 0.4)}  # f(x) = a + b x, eV per Cd
DH_F = E_CDSE - E_CD - E_SE


def _with_sheet_energies(study: Study, calculated: Calculated) -> Calculated:
    records = dict(calculated.records)
    for model in study.slabs:
        a, b = F[model.settings.phase]
        for name in [model.name, *(spec.name for spec in model.vacancies)]:
            counts = composition(records[name])
            n, m = counts["Cd"], counts["Se"]
            energy = m * E_CDSE + (n - m) * E_CD + n * (a + b * m / n)
            records[name] = replace(records[name], energy_ev=energy)
    return Calculated(records, calculated.structures)


@pytest.fixture(scope="module")
def known():
    study, calculated = make_calculated(PRESETS["quick"])
    return study, _with_sheet_energies(study, calculated)


def test_lower_hull_by_hand():
    hull = competition.lower_hull(np.array([0.5, 0.75, 1.0, 0.75]), np.array([0.0, 0.2, 0.1, 0.01]), "abcd")
    assert hull.names == ("a", "d", "c")
    assert hull.at(0.6) == pytest.approx(0.0 + 0.1 * 0.01 / 0.25)
    assert np.isnan(hull.at(0.4)) and np.isnan(hull.at(1.01))
    assert np.allclose(hull.slopes(), [0.04, 0.36])
    # omega = e - x c is lowest at the vertex whose neighbouring slopes bracket c
    assert (
        hull.grand_minimum(0.0)[0] == 0
        and hull.grand_minimum(0.2)[0] == 1
        and hull.grand_minimum(1.0)[0] == 2
    )


def test_crossing_of_two_lines_is_exact():
    a = competition.lower_hull(np.array([0.2, 1.0]), np.array([0.34, 0.5]), "ab")
    b = competition.lower_hull(np.array([0.25, 0.75]), np.array([0.3, 0.5]), "cd")
    assert competition.crossings(a, b) == [pytest.approx(0.5)]


def test_hulls_crossing_and_favoured_phase(known):
    study, calculated = known
    res, found = competition.comparisons(study, calculated)
    assert res.formation_enthalpy == pytest.approx(DH_F)
    (comparison,) = found
    assert comparison.monolayers == 3
    assert comparison.crossings == (pytest.approx(0.5),)
    table = competition.competition_table(res, found)
    assert np.allclose(
        table["e per Cd (eV)"],
        [F[p][0] + F[p][1] * x for p, x in zip(table["phase"], table["Se/Cd"], strict=True)],
    )
    assert (table["on hull"] == "yes").all()  # every sheet lies on its phase's line
    for _, row in table.iterrows():
        x = row["Se/Cd"]
        if not 1 / 3 - 1e-9 <= x <= 0.75 + 1e-9:  # the common range: wz 1/3..1, zb 1/4..3/4
            assert row["favoured phase"].startswith("not comparable")
            continue
        gap = abs((0.3 + 0.2 * x) - (0.2 + 0.4 * x))
        expected = "equal" if abs(x - 0.5) < 1e-9 else "zincblende" if x < 0.5 else "wurtzite"
        assert row["favoured phase"] == expected
        assert row["margin (meV/Cd)"] == pytest.approx(1000 * gap)
    conclusions = competition.phase_conclusions(
        res, found, competition.phase_map(res, found), pd.DataFrame(), {}
    )
    assert "changes at Se/Cd = 0.500" in conclusions["finding"].iloc[0]


def test_grand_potential_view_tangents_and_brute_force(known):
    study, calculated = known
    res, found = competition.comparisons(study, calculated)
    mu_map = competition.phase_map(res, found, points=11)
    tangents = mu_map[mu_map["note"].str.contains("composition changes")]["dmu_Se (eV)"].to_numpy()
    assert np.allclose(sorted(tangents), [DH_F + 0.2, DH_F + 0.4])
    points = found[0].points
    for _, row in mu_map.iterrows():
        c = row["dmu_Se (eV)"] - DH_F
        for phase in ("wurtzite", "zincblende"):
            sheets = points[points["phase"] == phase]
            omega = sheets["e per Cd (eV)"] - sheets["Se/Cd"] * c
            assert row[f"{phase} omega (eV/Cd)"] == pytest.approx(omega.min())
    assert mu_map["dmu_Se (eV)"].min() == pytest.approx(DH_F) and mu_map[
        "dmu_Se (eV)"
    ].max() == pytest.approx(0)
    # at the Se-rich end both phases take their most Se-rich sheet, and the lower omega wins
    se_rich = mu_map.iloc[-1]
    assert se_rich["wurtzite Se/Cd"] == pytest.approx(1.0) and se_rich["zincblende Se/Cd"] == pytest.approx(
        0.75
    )
    # omega_wz = 0.5 - 1.0 * 1 = -0.5, omega_zb = 0.5 - 0.75 = -0.25 per Cd
    assert se_rich["favoured phase"] == "wurtzite" and se_rich["margin (meV/Cd)"] == pytest.approx(250.0)


def test_shifting_every_cd_energy_changes_no_conclusion(known):
    study, calculated = known
    shifted = {
        name: replace(r, energy_ev=r.energy_ev + 0.7 * composition(r)["Cd"])
        for name, r in calculated.records.items()
    }
    moved = Calculated(shifted, calculated.structures)
    frames, _ = paper.phase_competition_frames(study, calculated, paper.PhaseCompetitionSettings())
    frames_moved, _ = paper.phase_competition_frames(study, moved, paper.PhaseCompetitionSettings())
    for stem in ("phase_competition", "phase_map"):
        pd.testing.assert_frame_equal(frames[stem], frames_moved[stem])
    before = frames["phase_conclusions"].set_index(["measure", "sheets"])["finding"]
    after = frames_moved["phase_conclusions"].set_index(["measure", "sheets"])["finding"]
    competition_rows = [i for i in before.index if not i[0].startswith("dE/atom")]
    assert (before[competition_rows] == after[competition_rows]).all()
    # the study's dE/atom measure is not invariant: its implied mu moves with the shift
    implied, implied_moved = (analysis.implied_chemical_potentials(study, c) for c in (calculated, moved))
    assert all(abs(implied[k] - implied_moved[k]) > 0.1 for k in implied)


def test_one_phase_gives_no_comparison_and_says_why(tmp_path):
    config = load_config(REPO / "config/config.yaml")
    del config["slabs"]["zb"]
    study = Study.from_config(config, root=REPO)
    pairs, reason = study.phase_pairs()
    assert not pairs and "wurtzite" in reason
    _, calculated = make_calculated(PRESETS["quick"])
    frames, unavailable = paper.phase_competition_frames(study, calculated, paper.PhaseCompetitionSettings())
    assert unavailable == reason
    assert frames["phase_competition"]["comparison"].iloc[0] == f"not computed: {reason}"
    config["phase_competition"]["enabled"] = True
    with pytest.raises(ConfigError, match="phase_competition.enabled"):
        Study.from_config(config, root=REPO)


def test_different_thicknesses_are_not_compared():
    config = load_config(REPO / "config/config.yaml")
    config["slabs"]["zb"]["monolayers"] = 2
    study = Study.from_config(config, root=REPO)
    pairs, reason = study.phase_pairs()
    assert not pairs and "3 ML: wurtzite" in reason and "2 ML: zincblende" in reason


def test_boltzmann_weights_limits():
    energies, g = np.array([0.0, 0.05, 0.05]), np.array([2, 1, 4])
    assert np.allclose(configurations.boltzmann_weights(energies, g, 0.0), [1, 0, 0])
    hot = configurations.boltzmann_weights(energies, g, 1e9)
    assert np.allclose(hot, g / g.sum())
    w = configurations.boltzmann_weights(energies, g, 300.0)
    ratio = np.exp(-0.05 / (configurations.K_B_EV_PER_K * 300.0))
    assert w[2] / w[0] == pytest.approx(2 * ratio)


def test_two_thicknesses_are_two_comparisons(tmp_path):
    """Sheets of 2 and 3 ML in both phases: each thickness is compared with its own pair only."""
    import yaml

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    for key in ("wz", "zb"):
        thin = dict(config["slabs"][key], monolayers=2)
        thin["vacancies"] = dict(thin["vacancies"], depth=False)
        config["slabs"][f"{key}2"] = thin
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(config))
    study, calculated = make_calculated(PRESETS["quick"], config_path=path)
    calculated = _with_sheet_energies(study, calculated)
    pairs, _ = study.phase_pairs()
    assert pairs == {
        2: {"wurtzite": ["wz2"], "zincblende": ["zb2"]},
        3: {"wurtzite": ["wz"], "zincblende": ["zb"]},
    }
    res, found = competition.comparisons(study, calculated)
    assert [c.monolayers for c in found] == [2, 3]
    for comparison in found:
        assert set(comparison.points["monolayers"]) == {comparison.monolayers}
        assert all(f"{comparison.monolayers}ml" in name for name in comparison.points["structure"])
    conclusions = competition.phase_conclusions(
        res, found, competition.phase_map(res, found), pd.DataFrame(), {}, measured_ratio=0.7
    )
    assert {"2 ML", "3 ML"} <= set(conclusions["sheets"])
    # e(x) = f_phase(x): at Se/Cd 0.7 wurtzite is lower by |0.44 - 0.48| = 40 meV per Cd where both phases
    # reach it; the 2-ML zinc blende sheets stop at 2/3
    trend = conclusions[conclusions["measure"].str.startswith("favoured phase at the measured")].iloc[0]
    assert trend["sheets"] == "2 ML, 3 ML"
    assert trend["finding"] == (
        "2 ML: not comparable: outside the zincblende 0.000-0.667 computed; 3 ML: wurtzite by 40 meV per Cd"
    )
