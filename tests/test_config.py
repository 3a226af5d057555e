"""Study config: schema defaults, and bad input failing with the key path and what is allowed."""

from __future__ import annotations

import copy

import pytest
import yaml

from nanophase.config import ConfigError, load_config, validate_config
from nanophase.study import Study


@pytest.fixture(scope="module")
def default_config(repo):
    return yaml.safe_load((repo / "config" / "config.yaml").read_text())


def plan(config, repo):
    return Study.from_config(validate_config(copy.deepcopy(config)), root=repo)


def test_defaults_are_filled_in(repo):
    config = validate_config({"bulk": {"X": {"file": "structures/bulk/CdSe-wz.cif"}},
                              "slabs": {"wz": {"bulk": "X", "phase": "wurtzite", "surface": "11-20"}}})  # fmt: skip
    slab = config["slabs"]["wz"]
    assert slab["monolayers"] == 7 and slab["supercell"] == [1, 1] and slab["vacuum_a"] == 15.0
    assert slab["fixed"] == "auto" and slab["vacancies"]["species"] == "Se"
    assert slab["vacancies"]["max_configurations"] == 3


@pytest.mark.parametrize("name", ["config.yaml", "paper.yaml"])
def test_shipped_configs_plan(repo, name):
    study = Study.from_config(load_config(repo / "config" / name), root=repo)
    names = study.structure_names()
    assert len(names) == len(set(names))
    assert {m.key for m in study.slabs} == {"wz", "zb"}


def test_paper_config_is_the_published_set_up(repo):
    study = Study.from_config(load_config(repo / "config" / "paper.yaml"), root=repo)
    wz, zb = study.slabs
    assert wz.settings.monolayers == zb.settings.monolayers == 7
    assert wz.settings.vacuum_a >= 10 and zb.settings.vacuum_a >= 10
    assert zb.settings.termination == "cation"
    assert wz.settings.fixed_layers == (3,) and zb.settings.fixed_layers == ()
    stacks = {(s.n_rocksalt, s.n_zincblende) for s in study.interfaces.stacks}
    assert stacks == {(r, z) for r in range(5) for z in range(3)}


BAD = [
    (lambda c: c.update(slab={}), r"<top level>: unknown key\(s\) \['slab'\] \(allowed: bulk, calculator, convergence, interfaces, isolated_atoms, knockon, particle_relaxation, particle_vacancies, particles, phase_competition, resources, slabs, study, xrd\)"),
    (lambda c: c["slabs"]["wz"].update(monolayer=3), r"slabs\.wz: unknown key\(s\) \['monolayer'\]"),
    (lambda c: c["slabs"]["wz"].update(monolayers="three"), r"slabs\.wz\.monolayers: 'three' is not of type 'integer'"),
    (lambda c: c["slabs"]["wz"].update(monolayers=0), r"slabs\.wz\.monolayers: 0 is less than the minimum of 1"),
    (lambda c: c["interfaces"].update(substrate_layers=0), r"interfaces\.substrate_layers: 0 is less than the minimum"),
    (lambda c: c["slabs"]["zb"].update(vacuum_a=-5), r"slabs\.zb\.vacuum_a: -5 is less than or equal to the minimum of 0"),
    (lambda c: c["slabs"]["wz"].update(phase="wurzite"), r"slabs\.wz\.phase: 'wurzite' is not allowed \(allowed: wurtzite, zincblende\)"),
    (lambda c: c["slabs"]["wz"]["vacancies"].update(species="Te"), r"slabs\.wz\.vacancies\.species: 'Te' is not in CdSe \(allowed: Cd, Se\)"),
    (lambda c: c["slabs"]["wz"]["vacancies"].update(surface_counts=[3]), r"slabs\.wz\.vacancies\.surface_counts: 3 exceeds the 2 Se sites.*\(allowed: 1\.\.2\)"),
    (lambda c: c["slabs"]["wz"].update(supercell=[2, 0]), r"slabs\.wz\.supercell\[1\]: 0 is less than the minimum of 1"),
    (lambda c: c["slabs"]["wz"].update(supercell=[2.5, 1]), r"slabs\.wz\.supercell\[0\]: 2\.5 is not of type 'integer'"),
    (lambda c: c["slabs"]["wz"].update(supercell=[2]), r"slabs\.wz\.supercell: \[2\] is too short"),
    (lambda c: c["bulk"]["CdSe-wz"].update(file="structures/bulk/missing.cif"), r"bulk\.CdSe-wz\.file: structures/bulk/missing\.cif does not exist"),
    (lambda c: c["slabs"]["wz"].update(bulk="CdSe-zb"), r"slabs\.wz\.phase: wurtzite does not match bulk CdSe-zb, which is zincblende"),
    (lambda c: c["slabs"]["wz"].update(bulk="CdSe"), r"slabs\.wz\.bulk: 'CdSe' is not a bulk key \(allowed: CdSe-wz, "),
    (lambda c: c["slabs"]["wz"].update(surface="001"), r"slabs\.wz\.surface: '001' is not supported for wurtzite \(allowed: 11-20\)"),
    (lambda c: c["slabs"]["wz"].update(fixed=[7]), r"slabs\.wz\.fixed: layers \[7\] do not exist \(layers are 0\.\.2\)"),
    (lambda c: c["slabs"]["wz"].update(fixed="top"), r"slabs\.wz\.fixed: 'top' is not allowed \(layers held fixed.*\"middle\", \"none\" or a list"),
    (lambda c: c["bulk"]["CdSe-wz"].update(prototype="zincblende"), r"bulk\.CdSe-wz\.prototype: .* is wurtzite \(space group 186\), not zincblende"),
    (lambda c: c["interfaces"].update(zincblende_shell="CdSe-zb"), r"interfaces\.zincblende_shell: CdSe-zb must share the substrate's anion S"),
    (lambda c: c["interfaces"].update(faces=["left"]), r"interfaces\.faces\[0\]: 'left' is not allowed \(allowed: top, both\)"),
    # a denser mesh for the bulk references than for the slabs would mix densities in every difference
    (lambda c: c["calculator"].update(bulk_kpoint_length_a=25), r"calculator\.bulk_kpoint_length_a: not allowed.*one k-point density.*\(allowed: kpoint_length_a only\)"),
    (lambda c: c["calculator"].update(prerelax="mace"), r"calculator\.prerelax: 'mace' is not allowed \(allowed: none, auto, chgnet, sevenn\)"),
]  # fmt: skip


@pytest.mark.parametrize("mutate, message", BAD, ids=[m for _, m in BAD])
def test_bad_config_names_the_key(default_config, repo, mutate, message):
    config = copy.deepcopy(default_config)
    mutate(config)
    with pytest.raises(ConfigError, match=message):
        plan(config, repo)


def test_compose_config_layers(tmp_path, repo):
    """No file: the default study; a study file: the whole study; base: extends; overlays add; --config last."""
    import yaml

    from nanophase.config import compose_config

    default = repo / "config" / "config.yaml"
    assert compose_config(default) == yaml.safe_load(default.read_text())
    paper = compose_config(default, [repo / "config" / "paper.yaml"])
    assert "stacks" not in paper["interfaces"] and paper["interfaces"]["rocksalt_monolayers"] == [
        0,
        1,
        2,
        3,
        4,
    ]
    screened = compose_config(default, [repo / "config" / "paper.yaml", repo / "config" / "screening.yaml"],
                              {"study": "cli"})  # fmt: skip
    assert screened["calculator"]["backend"] == "mlip" and screened["calculator"]["preset"] == "paper"
    assert screened["interfaces"] == paper["interfaces"] and screened["study"] == "cli"
    based = tmp_path / "based.yaml"
    based.write_text(f"base: {default}\nslabs: {{wz: {{monolayers: 4}}}}\n")
    extended = compose_config(default, [based])
    assert extended["slabs"]["wz"]["monolayers"] == 4 and extended["slabs"]["wz"]["bulk"] == "CdSe-wz"
    assert extended["interfaces"] == yaml.safe_load(default.read_text())["interfaces"]
    loose = tmp_path / "loose.yaml"
    loose.write_text("calculator: {preset: paper}\n")
    with pytest.raises(ConfigError, match=r"not a whole study \(it has no bulk\).*base: .*overlay: true"):
        compose_config(default, [loose])
    with pytest.raises(ConfigError, match="a second whole study"):
        compose_config(default, [repo / "config" / "paper.yaml", default])


def test_stacks_and_monolayer_lists_contradict(default_config):
    config = copy.deepcopy(default_config)
    config["interfaces"]["rocksalt_monolayers"] = [0, 1]
    with pytest.raises(ConfigError, match="interfaces.stacks: contradicts interfaces.rocksalt_monolayers"):
        validate_config(config)


def test_the_sizes_overlay_plans_the_structure_series_alone(repo):
    """config/convergence-sizes.yaml after paper.yaml: thickness, lateral cell and substrate on the potential,
    no DFT point (the paper's DFT tier is a cluster job), the scanned values around the paper's own."""
    from nanophase.config import compose_config
    from nanophase.convergence import ConvergenceSettings

    config = validate_config(
        compose_config(
            repo / "config" / "config.yaml",
            [repo / "config" / "paper.yaml", repo / "config" / "convergence-sizes.yaml"],
        )
    )
    settings = ConvergenceSettings.from_config(config["convergence"]).for_study(list(config["slabs"]))
    assert settings.sheet == "wz" and config["slabs"]["wz"]["monolayers"] == 7
    assert settings.series(with_interfaces=True, with_margin=True) == [
        ("vacancy", "monolayers"),
        ("vacancy", "supercell"),
        ("interface", "substrate_layers"),
    ]
