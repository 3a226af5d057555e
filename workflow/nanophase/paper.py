"""The paper's tables: every frame of nanophase.analysis written as CSV, Markdown and LaTeX with a caption
that says what each number is, which references it uses and the settings it was computed with."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nanophase import analysis
from nanophase.analysis import Calculated
from nanophase.calculators.records import read_record
from nanophase.energetics import ev_per_a2_to_mev_per_a2
from nanophase.structio import read_structure
from nanophase.study import Study
from nanophase.tables import read_table, write_table

# the tables a study writes, in the order a reader meets them (stems of results/tables/<stem>.*)
TABLE_STEMS = (
    "records",
    "chemical_potentials",
    "vacancy_formation",
    "formation_energy_scan",
    "phase_stability",
    "stability_conclusions",
    "interface_energies",
    "interface_ordering",
    "knockon_limits",
    "knockon_sites",
)


def load_calculated(
    record_paths: dict[str, str], final_paths: dict[str, str], allow_unconverged: bool = False
) -> Calculated:
    """Records and final structures by name; an unconverged record stops here unless allowed."""
    records = {
        name: read_record(path, require_converged=not allow_unconverged)
        for name, path in record_paths.items()
    }
    structures = {name: read_structure(path) for name, path in final_paths.items()}
    return Calculated(records, structures)


def captions(study: Study, calculated: Calculated, note: str) -> dict[str, str]:
    """One caption per table: definitions, references and the shared settings."""
    settings = analysis.settings_caption(calculated.records)
    tail = f" {note} Settings: {settings}."
    gamma = ""
    if study.interfaces is not None:
        gamma = (f" Bare substrate surface energy {ev_per_a2_to_mev_per_a2(analysis.substrate_surface_energy(study, calculated)):.1f} "
                 "meV/A^2.")  # fmt: skip
    return {
        "records": "Calculation records behind every table: task, code, settings fingerprint, energy, largest "
        "free force, ionic steps and wall time." + tail,
        "chemical_potentials": "Se chemical potential at the isolated spin-polarised atom (the study's reference), "
        "the Se-rich limit (trigonal Se) and the Cd-rich limit (E(CdSe)/f.u. - E(Cd, hcp)); dH_f = E(CdSe) - "
        "E(Cd) - E(Se) per formula unit; E_coh = E(atom) - E(Se, solid)." + tail,
        "vacancy_formation": "Vacancy formation energy per removed atom, E_f = [E_defect - E_pristine + sum n_i "
        "mu_i] / n, against the isolated atom, the Se-rich and the Cd-rich limit (mu_Cd = E(CdSe) - mu_Se); "
        "concentration = removed Se / Se of the pristine slab; dE = E/N(defect) - E/N(pristine), the study's "
        "measure. The difference between the atom and Se-rich columns is the Se cohesive energy." + tail,
        "formation_energy_scan": "E_f per vacancy across the allowed range dH_f <= dmu_Se <= 0 (dmu_Se = mu_Se - "
        "E(Se, solid)), and the change of the sheet's grand potential per in-plane area, n E_f / A." + tail,
        "phase_stability": "Phase stability under Se loss: the study's measure (dE, energy per atom relative to "
        "the pristine slab) and the thermodynamic one (E_f per vacancy, dOmega per area) at both limits, by "
        "concentration; pristine slabs at 0." + tail,
        "stability_conclusions": "What each measure of phase_stability says: the phase with the lower value over "
        "the concentrations both phases cover (the other phase interpolated linearly), and from where."
        + tail,
        "interface_energies": "Interface (excess) energy of the CdS shell, E_int = [E_stack - E_bare PbS slab - "
        "N_CdS e(zb-CdS bulk)] / (faces A), split into the rock-salt polymorph term N_rs (e_rs - e_zb), the "
        "strain of each shell bulk held at the PbS in-plane lattice (normal relaxed), and the remainder: CdS "
        "surface minus the PbS surface it covers plus the interface itself." + gamma + tail,
        "interface_ordering": "Pure rock-salt and pure zinc blende shells of equal thickness: which has the lower "
        "interface energy, and the lowest stack of each thickness." + tail,
        "knockon_limits": "Largest energy a beam electron transfers to a nucleus (head-on), exact relativistic "
        "kinematics and Egerton's form E_max = 2 E0 (E0 + 2 m0 c^2) / (M c^2); standard atomic masses.",
        "knockon_sites": "Each single-vacancy site: displacement-energy proxy E_d = E_f against the isolated atom, "
        "the threshold voltage where E_max = E_d, and E_max and the McKinley-Feshbach and Rutherford displacement "
        "cross-sections at each voltage (McKinley-Feshbach is valid for Z < 28, Rutherford above)." + tail,
    }


def paper_tables(
    study: Study, calculated: Calculated, voltages_kv: tuple[float, ...]
) -> dict[str, pd.DataFrame]:
    """Every table of the study, by stem."""
    vacancies = analysis.vacancy_formation(study, calculated)
    stability = analysis.phase_stability(study, calculated)
    interfaces = analysis.interface_energies(study, calculated)
    return {
        "records": analysis.records_table(calculated),
        "chemical_potentials": analysis.chemical_potential_limits(study, calculated),
        "vacancy_formation": vacancies,
        "formation_energy_scan": analysis.formation_energy_scan(study, calculated),
        "phase_stability": stability,
        "stability_conclusions": analysis.stability_conclusions(stability),
        "interface_energies": interfaces,
        "interface_ordering": analysis.interface_ordering(interfaces),
        "knockon_limits": analysis.knockon_limits(voltages_kv),
        "knockon_sites": analysis.knockon_sites(study, vacancies, voltages_kv),
    }


def write_paper_tables(study: Study, calculated: Calculated, outdir: str | Path, voltages_kv: tuple[float, ...],
                       note: str = "") -> list[Path]:  # fmt: skip
    """Write every table as <outdir>/<stem>.csv/.md/.tex; return the paths."""
    frames = paper_tables(study, calculated, voltages_kv)
    texts = captions(study, calculated, note)
    paths = []
    for stem in TABLE_STEMS:
        paths += write_table(frames[stem], Path(outdir) / stem, texts[stem])
    return paths


VALIDATION_CAPTION = (
    "Validation against the published numbers (../shared/science.md): this run's value, the published one, "
    "their difference and the tolerance; pass/fail only where both sides are comparable (kinematics, "
    "composition and experimental lattices always; DFT numbers only with the published set-up), otherwise "
    "the verdict names what differs."
)


def write_validation(study: Study, calculated: Calculated, tables: str | Path, outdir: str | Path,
                     note: str = "") -> list[Path]:  # fmt: skip
    """results/tables/validation.*: each published number against this run (see nanophase.validation)."""
    from nanophase.validation import run_facts, validation_table

    tables = Path(tables)
    frame = validation_table(
        read_table(tables / "vacancy_formation.csv"),
        read_table(tables / "interface_energies.csv"),
        read_table(tables / "interface_ordering.csv"),
        run_facts(study, calculated),
    )
    caption = f"{VALIDATION_CAPTION} {note} Settings: {analysis.settings_caption(calculated.records)}."
    return write_table(frame, Path(outdir) / "validation", caption)
