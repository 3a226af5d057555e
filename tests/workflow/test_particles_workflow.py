"""The particle rules end to end: built, measured and MLIP-relaxed particles -> patterns -> tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ase.io import write

from nanophase.calculators.mlip_calc import mlip_available
from nanophase.particles import build_particle, particle_specs
from nanophase.xrd import reflection_q

from .test_snakemake import config_in, snakemake

pytestmark = pytest.mark.workflow


@pytest.mark.skipif(not mlip_available("chgnet"), reason="chgnet not installed")
def test_particle_tables_from_built_measured_and_relaxed_particles(bulk, tmp_path):
    # a "measured" file: a 2 nm PbS sphere, displaced and renamed as an instrument would export it
    truth = build_particle(particle_specs({"m": {"kind": "sphere", "bulk": "PbS-rs", "diameter_nm": 2.0}},
                                          {"PbS-rs": "rocksalt"})[0], bulk)  # fmt: skip
    truth.positions += [3.0, 1.0, -2.0]
    write(tmp_path / "measured.xyz", truth)

    def particles_only(config):
        config["particles"] = {
            "PbS-CdS-zb": {"kind": "core_shell", "core": "PbS-rs", "shell": "CdS-zb", "diameter_nm": 1.6,
                           "conversions": [0.0, 1.0]},
            "tomo": {"kind": "measured", "file": str(tmp_path / "measured.xyz"), "bulk": "PbS-rs",
                     "precision_pm": 19, "copies": 3},
        }  # fmt: skip
        config["particle_relaxation"] = {"model": "chgnet", "max_diameter_nm": 1.6, "max_steps": 4}
        config["particle_vacancies"] = {"species": ["S"], "steps": 3}

    config = config_in(tmp_path, particles_only)
    result = snakemake("particle_tables", "particle_figures", "--cores", "2", "--directory", str(tmp_path),
                       "--configfile", str(config))  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    tables = tmp_path / "results" / "tables"
    particles = pd.read_csv(tables / "particles.csv").set_index("particle")
    # two built, one measured, two relaxed (the measured one, 2 nm, is above max_diameter_nm)
    assert sorted(particles.index) == sorted(
        ["PbS-CdS-zb_c0.00", "PbS-CdS-zb_c1.00", "tomo", "PbS-CdS-zb_c0.00-chgnet", "PbS-CdS-zb_c1.00-chgnet"]
    )
    assert particles.loc["PbS-CdS-zb_c1.00", "conversion fraction"] == 1.0
    assert particles.loc["tomo", "atoms"] == len(truth)
    assert "4 FIRE steps" in particles.loc["PbS-CdS-zb_c0.00-chgnet", "relaxation"]
    assert particles.loc["PbS-CdS-zb_c0.00", "relaxation"] == "as built (unrelaxed)"
    series = pd.read_csv(tables / "xrd_series.csv")
    assert set(series["series"]) == {"PbS-CdS-zb", "PbS-CdS-zb (chgnet-relaxed)", "tomo"}
    # the measured PbS sphere's (200) where a 2 nm PbS particle has it (broad peak: within 2 %)
    tomo = series[series["particle"] == "tomo"].iloc[0]
    assert tomo["Q(200) (1/A)"] == pytest.approx(reflection_q(5.936, (2, 0, 0)), rel=0.02)
    # 19 pm of noise moves the peaks of a 2 nm particle, but by far less than their width
    assert 0 < tomo["Q(200) spread over copies (1/A)"] < 0.01
    assert tomo["I111/I200 heights spread over copies"] > 0
    strain = pd.read_csv(tables / "particle_strain.csv")
    assert set(strain["particle"]) == set(particles.index)
    tomo_strain = strain[strain["particle"] == "tomo"]
    assert tomo_strain["atoms"].sum() == len(truth)
    # ideal positions: no strain, but 19 pm of noise spreads it
    assert np.allclose(tomo_strain["bond strain (%)"], 0.0, atol=1e-6)
    assert np.allclose(tomo_strain["volumetric strain (%)"].dropna(), 0.0, atol=1e-6)
    assert (tomo_strain["strain spread over copies (%)"] > 0).all()
    # a pure CdS particle against the PbS core lattice: compressed by the lattice mismatch, 3 x -2 %
    cds = strain[strain["particle"] == "PbS-CdS-zb_c1.00"]
    assert cds["volumetric strain (%)"].iloc[0] == pytest.approx(300 * (5.818 / 5.936 - 1), abs=0.1)
    vacancies = pd.read_csv(tables / "particle_vacancies.csv")
    assert set(vacancies["particle"]) == {"PbS-CdS-zb_c0.00-chgnet", "PbS-CdS-zb_c1.00-chgnet"}
    assert vacancies["site class"].str.match(r"S CN[0-5]$").all()
    assert vacancies["relative to the lowest class (eV)"].min() == pytest.approx(0.0)
    # one atom per class, and every class of a particle distinct
    assert not vacancies.duplicated(["particle", "site class"]).any()
    for stem in ("xrd_patterns", "xrd_trends", "particle_strain"):
        assert (tmp_path / "results" / "figures" / f"{stem}.png").stat().st_size > 10_000
