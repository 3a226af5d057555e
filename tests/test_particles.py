"""Particles: geometry of spheres and PbS@CdS core-shell particles, measured files, config errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ase import Atoms
from ase.io import write

from nanophase.config import ConfigError
from nanophase.measured import bond_strain, perturbed_copies, read_measured, strain_profile
from nanophase.particles import (
    ShellGeometry,
    build_particle,
    conversion_fraction,
    core_shell,
    particle_specs,
    scaled_to,
    summary_of,
)
from nanophase.study import Study

PROTOTYPES = {"PbS-rs": "rocksalt", "CdS-zb": "zincblende", "CdS-rs": "rocksalt", "Cd-hcp": "hcp"}


def _spec(**entry):
    return particle_specs({"p": entry}, PROTOTYPES)


def _lattice_points(radius_a: float, a: float, parity: int) -> int:
    """Sites (a/2)(i, j, k) with i + j + k of the given parity inside the sphere, counted one by one."""
    n = int(2 * radius_a / a) + 1
    return sum(
        1
        for i, j, k in itertools.product(range(-n, n + 1), repeat=3)
        if (i + j + k) % 2 == parity and (a / 2) ** 2 * (i * i + j * j + k * k) <= radius_a**2 + 1e-9
    )


def test_sphere_composition_and_radius_from_geometry(bulk):
    spec = _spec(kind="sphere", bulk="PbS-rs", diameter_nm=2.4)[0]
    atoms = build_particle(spec, bulk)
    a, radius = 5.936, 12.0
    symbols = np.array(atoms.get_chemical_symbols())
    # S on the even sites of the (a/2) cubic grid (one at the centre), Pb on the odd ones
    assert (symbols == "S").sum() == _lattice_points(radius, a, 0)
    assert (symbols == "Pb").sum() == _lattice_points(radius, a, 1)
    assert np.linalg.norm(atoms.positions, axis=1).max() <= radius + 1e-9
    summary = summary_of(atoms)
    assert summary.diameter_nm <= 2.4 + 1e-9
    assert summary.shortest_distance_a == pytest.approx(a / 2)
    # every atom of the outer shell is under-coordinated, none inside (a perfect rock-salt sphere)
    assert summary.interface_sites == {}
    assert sum(summary.surface_sites.values()) > 0


def test_core_shell_anions_on_the_core_anion_lattice(bulk):
    core, shell = bulk["PbS-rs"], bulk["CdS-zb"]
    atoms = core_shell(core, shell, ShellGeometry(10.0, 10.0, 16.0))
    symbols = np.array(atoms.get_chemical_symbols())
    region = atoms.arrays["region"]
    for index, a in ((0, 5.936), (2, 5.818)):
        anions = atoms.positions[(region == index) & (symbols == "S")] / (a / 2)
        # integer fcc points of the same origin and orientation: i + j + k even
        assert np.allclose(anions, np.rint(anions), atol=1e-9)
        assert (np.rint(anions).sum(axis=1) % 2 == 0).all()
    # zinc blende shell cations sit at +a/4 (1, 1, 1) from an anion, rock-salt core cations at +a/2 (1, 0, 0)
    cd = atoms.positions[symbols == "Cd"] / (5.818 / 4)
    assert np.allclose(cd, np.rint(cd), atol=1e-9) and (np.rint(cd) % 2 == 1).all()
    assert set(symbols[region == 0]) == {"Pb", "S"} and set(symbols[region == 2]) == {"Cd", "S"}
    radii = np.linalg.norm(atoms.positions, axis=1)
    assert radii[region == 0].max() <= 10.0 + 1e-9 and radii[region == 2].min() > 10.0
    n_cd, n_pb = (symbols == "Cd").sum(), (symbols == "Pb").sum()
    assert conversion_fraction(atoms) == pytest.approx(n_cd / (n_cd + n_pb))


@pytest.mark.parametrize("shell", ["CdS-rs", "CdS-zb"])
def test_conversion_series_hits_its_targets(bulk, shell):
    specs = _spec(kind="core_shell", core="PbS-rs", shell=shell, shell_lattice_a=5.818, diameter_nm=3.0,
                  conversions=[0.0, 0.3, 0.6, 1.0])  # fmt: skip
    particles = [build_particle(spec, bulk) for spec in specs]
    fractions = [conversion_fraction(p) for p in particles]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert set(particles[0].get_chemical_symbols()) == {"Pb", "S"}
    assert set(particles[-1].get_chemical_symbols()) == {"Cd", "S"}
    # 0 and 1 are the pure spheres: no atom of the other lattice (no S layer at the CdS lattice)
    assert (particles[0].arrays["region"] == 0).all() and (particles[-1].arrays["region"] == 2).all()
    # a 3 nm particle has ~260 cations: each target is met to within a few cation shells
    assert fractions[1] == pytest.approx(0.3, abs=0.06) and fractions[2] == pytest.approx(0.6, abs=0.06)
    assert fractions == sorted(fractions)


def test_rock_salt_interlayer_under_zinc_blende_shell(bulk):
    spec = _spec(kind="core_shell", core="PbS-rs", shell="CdS-zb", interlayer="CdS-rs", interlayer_nm=0.3,
                 shell_lattice_a=5.818, diameter_nm=4.0, conversions=[0.6])[0]  # fmt: skip
    atoms = build_particle(spec, bulk)
    region, symbols = atoms.arrays["region"], np.array(atoms.get_chemical_symbols())
    radii = np.linalg.norm(atoms.positions, axis=1)
    interlayer = region == 1
    assert interlayer.any()
    assert radii[interlayer].min() > atoms.info["core_radius_a"]
    assert radii[interlayer].max() <= atoms.info["interlayer_radius_a"] + 1e-9
    # rock-salt Cd of the interlayer: +a/2 (1, 0, 0) from the S lattice, i.e. integer (a/2) coordinates
    cd = atoms.positions[interlayer & (symbols == "Cd")] / (5.818 / 2)
    assert np.allclose(cd, np.rint(cd), atol=1e-9)
    assert summary_of(atoms).bulk_coordination == {"core": 6, "interlayer": 6, "shell": 4}


def test_wulff_shape_of_the_requested_size(bulk):
    spec = _spec(kind="wulff", bulk="PbS-rs", diameter_nm=3.0, surface_energies={"100": 1.0, "111": 1.3})[0]
    atoms = build_particle(spec, bulk)
    expected = np.pi / 6 * 30.0**3 / (5.936**3 / 8)
    # wulffpack fills the polyhedron with whole primitive cells: the count is near, not at, the volume
    assert len(atoms) == pytest.approx(expected, rel=0.25)
    symbols = atoms.get_chemical_symbols()
    assert abs(symbols.count("Pb") - symbols.count("S")) < 0.1 * len(atoms)
    assert summary_of(atoms).shortest_distance_a == pytest.approx(5.936 / 2, abs=1e-6)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"kind": "core_shell", "core": "PbS-rs", "shell": "CdS-wz", "diameter_nm": 3, "conversions": [0.5]}, "particles.p.shell"),
        ({"kind": "core_shell", "core": "CdS-zb", "shell": "CdS-rs", "diameter_nm": 3, "conversions": [0.5]}, "particles.p.core"),
        ({"kind": "core_shell", "core": "PbS-rs", "shell": "CdS-rs", "interlayer": "CdS-rs", "diameter_nm": 3,
          "conversions": [0.5]}, "particles.p.interlayer"),
        ({"kind": "sphere", "bulk": "PbS-rs"}, "particles.p.diameter_nm"),
        ({"kind": "sphere", "bulk": "Cd-hcp", "diameter_nm": 2}, "particles.p.bulk"),
    ],
)  # fmt: skip
def test_bad_particle_entries_name_the_key(entry, message):
    with pytest.raises(ValueError, match=message):
        particle_specs({"p": entry}, PROTOTYPES)


def test_bad_particle_config_fails_before_any_job(repo):
    from nanophase.config import load_config

    config = load_config(repo / "config" / "config.yaml")
    config["particles"]["PbS-CdS-zb"]["core"] = "PbS-fcc"
    with pytest.raises(ConfigError, match=r"particles\.PbS-CdS-zb\.core: 'PbS-fcc' is not a bulk reference"):
        Study.from_config(config, root=repo)
    config["particles"] = {"m": {"kind": "measured", "file": "nowhere.xyz", "bulk": "PbS-rs"}}
    with pytest.raises(ConfigError, match=r"particles\.m\.file: nowhere\.xyz does not exist"):
        Study.from_config(config, root=repo)


def _measured_file(tmp_path, atoms, name="particle.xyz"):
    path = tmp_path / name
    write(path, atoms)
    return str(path)


def test_measured_particle_is_read_checked_and_centred(bulk, tmp_path):
    truth = build_particle(_spec(kind="sphere", bulk="PbS-rs", diameter_nm=2.0)[0], bulk)
    moved = Atoms(truth.get_chemical_symbols(), positions=truth.positions + [5.0, -3.0, 1.0])
    spec = _spec(kind="measured", bulk="PbS-rs", file=_measured_file(tmp_path, moved))[0]
    atoms = read_measured(spec, bulk["PbS-rs"])
    assert np.allclose(atoms.positions.mean(axis=0), 0.0)
    assert summary_of(atoms).composition == summary_of(truth).composition
    # ideal positions: no bond strain anywhere
    _, strain = bond_strain(atoms, 5.936 / 2)
    assert np.nanmax(np.abs(strain)) < 1e-9


def test_measured_file_with_overlap_or_unknown_species_names_the_atom(bulk, tmp_path):
    truth = build_particle(_spec(kind="sphere", bulk="PbS-rs", diameter_nm=1.5)[0], bulk)
    overlapping = truth.copy()
    overlapping.positions[7] = overlapping.positions[3] + [0.3, 0.0, 0.0]
    spec = _spec(kind="measured", bulk="PbS-rs", file=_measured_file(tmp_path, overlapping))[0]
    with pytest.raises(ValueError, match=r"atoms (3 and 7|7 and 3) are 0\.300 A apart"):
        read_measured(spec, bulk["PbS-rs"])
    foreign = truth.copy()
    foreign[5].symbol = "Au"
    spec = _spec(kind="measured", bulk="PbS-rs", file=_measured_file(tmp_path, foreign, "au.xyz"))[0]
    with pytest.raises(ValueError, match=r"atom 5 is 'Au', not an element of PbS-rs"):
        read_measured(spec, bulk["PbS-rs"])


def test_perturbed_copies_have_the_stated_precision_and_spread_the_strain(bulk, tmp_path):
    truth = build_particle(_spec(kind="sphere", bulk="PbS-rs", diameter_nm=3.0)[0], bulk)
    spec = _spec(
        kind="measured", bulk="PbS-rs", file=_measured_file(tmp_path, truth), precision_pm=19, copies=4
    )[0]
    atoms = read_measured(spec, bulk["PbS-rs"])
    copies = perturbed_copies(atoms, 19.0, 4, seed=1)
    rms = np.sqrt(np.mean([((c.positions - atoms.positions) ** 2).sum(axis=1).mean() for c in copies]))
    assert rms == pytest.approx(0.19, rel=0.05)
    profile = strain_profile(atoms, copies=copies)
    assert profile["atoms"].sum() == len(atoms)
    assert np.allclose(profile["bond strain (%)"], 0.0, atol=1e-7)
    assert (profile["strain spread over copies (%)"] > 0).all()


def test_expanded_surface_shows_tensile_bond_strain(bulk, tmp_path):
    """A particle whose outer atoms are pushed out radially: positive strain at the surface only."""
    truth = build_particle(_spec(kind="sphere", bulk="PbS-rs", diameter_nm=3.0)[0], bulk)
    radii = np.linalg.norm(truth.positions, axis=1)
    strained = truth.copy()
    outer = radii > 10.0
    strained.positions[outer] *= 1 + 0.02
    spec = _spec(kind="measured", bulk="PbS-rs", file=_measured_file(tmp_path, strained))[0]
    profile = strain_profile(read_measured(spec, bulk["PbS-rs"]))
    assert profile.iloc[0]["bond strain (%)"] == pytest.approx(0.0, abs=1e-9)
    assert profile.iloc[-1]["bond strain (%)"] > 1.0
    assert scaled_to(bulk["CdS-zb"], 5.9).cell.lengths()[0] == pytest.approx(5.9)


@pytest.mark.skipif(not __import__("nanophase.calculators.mlip_calc", fromlist=["x"]).mlip_available("chgnet"),
                    reason="chgnet not installed")  # fmt: skip
def test_mlip_relaxation_of_a_core_shell_particle_lowers_energy_and_resumes(bulk, tmp_path):
    from nanophase.particle_relax import ParticleRelaxSettings, relax_particle

    atoms = build_particle(_spec(kind="core_shell", core="PbS-rs", shell="CdS-zb", diameter_nm=1.4,
                                 conversions=[0.5])[0], bulk)  # fmt: skip
    short = ParticleRelaxSettings(model="chgnet", fmax_ev_per_a=0.01, max_steps=3)
    first, record = relax_particle(atoms, short, tmp_path / "work")
    assert record["steps"] == 3 and record["resumed_from_step"] == 0
    assert record["energy_after_ev"] < record["energy_before_ev"]
    # the same work folder continues the run: 3 more steps, not 6 from the start
    longer = ParticleRelaxSettings(model="chgnet", fmax_ev_per_a=0.01, max_steps=6)
    relaxed, record = relax_particle(atoms, longer, tmp_path / "work")
    assert record["resumed_from_step"] == 3 and record["steps"] == 6
    assert relaxed.info["name"] == f"{atoms.info['name']}-chgnet"
    assert relaxed.get_chemical_symbols() == atoms.get_chemical_symbols()
    assert np.allclose(relaxed.positions.mean(axis=0), atoms.positions.mean(axis=0), atol=0.2)
    assert 0 < record["max_displacement_a"] < 1.0


def test_particle_vacancies_without_a_potential_is_a_config_error(repo):
    import yaml

    from nanophase.config import validate_config

    config = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    config["particle_vacancies"] = {"species": ["S"]}
    config["particle_relaxation"] = {"model": "none"}
    with pytest.raises(ConfigError, match=r"particle_vacancies\.species: needs particle_relaxation\.model"):
        validate_config(config)


def test_a_bad_measured_file_is_a_config_error_naming_the_atom(repo, bulk, tmp_path):
    from nanophase.config import load_config

    truth = build_particle(_spec(kind="sphere", bulk="PbS-rs", diameter_nm=1.5)[0], bulk)
    truth.positions[4] = truth.positions[2]
    path = _measured_file(tmp_path, truth)
    config = load_config(repo / "config" / "config.yaml")
    config["particles"] = {"m": {"kind": "measured", "file": path, "bulk": "PbS-rs"}}
    with pytest.raises(
        ConfigError, match=r"invalid config: particles\.m: .*atoms (2 and 4|4 and 2) are 0\.000 A apart"
    ):
        Study.from_config(config, root=repo)


def test_strain_tensors_recover_a_homogeneous_strain_in_any_orientation(bulk):
    from scipy.spatial.transform import Rotation

    from nanophase.measured import strain_tensors

    truth = build_particle(_spec(kind="sphere", bulk="PbS-rs", diameter_nm=2.4)[0], bulk)
    applied = np.diag([0.01, 0.0, -0.01])
    rotation = Rotation.from_euler("zyx", [20, 35, -50], degrees=True).as_matrix()
    moved = truth.copy()
    moved.positions = truth.positions @ (np.eye(3) + applied).T @ rotation.T
    tensors = strain_tensors(moved, 5.936)
    assert np.isnan(tensors).any(axis=(1, 2)).sum() < len(truth) // 10  # only atoms with too few neighbours
    good = ~np.isnan(tensors).any(axis=(1, 2))
    # the tensor comes out in the lab frame: rotate it back and compare with the applied one
    back = np.einsum("ij,njk,lk->nil", rotation.T, tensors[good], rotation.T)
    assert np.allclose(back, applied, atol=2e-4)
    assert np.allclose(np.trace(tensors[good], axis1=1, axis2=2), 0.0, atol=2e-4)
    # the ideal particle: no strain at all
    assert np.allclose(np.nan_to_num(strain_tensors(truth, 5.936)), 0.0, atol=1e-10)


def test_conversion_is_the_closest_of_every_possible_core_radius(bulk):
    """Against a brute-force scan of the core radius in 0.01 A steps."""
    from nanophase.particles import core_radius_for_conversion

    core, shell = bulk["PbS-rs"], bulk["CdS-zb"]
    scan = [
        conversion_fraction(core_shell(core, shell, ShellGeometry(r, r, 15.0)))
        for r in np.arange(0.0, 15.0, 0.01)
    ]
    for target in (0.3, 0.5, 0.7):
        chosen = conversion_fraction(
            core_shell(core, shell, core_radius_for_conversion(core, shell, 15.0, target))
        )
        assert abs(chosen - target) == pytest.approx(min(abs(f - target) for f in scan), abs=1e-12)


def test_shell_thickness_series(bulk):
    specs = _spec(
        kind="core_shell", core="PbS-rs", shell="CdS-zb", diameter_nm=3.0, shells_nm=[0.0, 0.5, 1.5]
    )
    assert [s.name for s in specs] == ["p_s0.00nm", "p_s0.50nm", "p_s1.50nm"]
    particles = [build_particle(spec, bulk) for spec in specs]
    assert set(particles[0].get_chemical_symbols()) == {"Pb", "S"}
    assert set(particles[-1].get_chemical_symbols()) == {"Cd", "S"}
    middle = particles[1]
    radii = np.linalg.norm(middle.positions, axis=1)
    assert (
        radii[middle.arrays["region"] == 2].min() > 10.0 and radii[middle.arrays["region"] == 0].max() <= 10.0
    )
    with pytest.raises(ValueError, match="either conversions .* or shells_nm"):
        _spec(
            kind="core_shell",
            core="PbS-rs",
            shell="CdS-zb",
            diameter_nm=3.0,
            shells_nm=[0.5],
            conversions=[0.5],
        )
    with pytest.raises(ValueError, match=r"shells_nm: 2.0 is outside \[0, 1.5\]"):
        _spec(kind="core_shell", core="PbS-rs", shell="CdS-zb", diameter_nm=3.0, shells_nm=[2.0])
