"""The paper's tables: every frame of nanophase.analysis written as CSV, Markdown and LaTeX with a caption
that says what each number is, which references it uses and the settings it was computed with."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nanophase import analysis, competition, configurations, surfaces
from nanophase.analysis import Calculated
from nanophase.calculators.records import read_record
from nanophase.convergence import error_bar_note, error_bars, with_error_bars, with_margin_bar
from nanophase.energetics import ev_per_a2_to_mev_per_a2
from nanophase.outputs import TABLE_STEMS
from nanophase.structio import read_structure
from nanophase.study import Study
from nanophase.tables import read_table, write_table

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class PhaseCompetitionSettings:
    """The `phase_competition` config block (see the schema)."""

    enabled: str | bool = "auto"
    temperature_k: float = 300.0
    mu_points: int = 11
    measured_anion_per_cation: float = 0.8

    @classmethod
    def from_config(cls, cfg: dict | None) -> PhaseCompetitionSettings:
        return cls(**(cfg or {}))


def phase_competition_frames(
    study: Study, calculated: Calculated, settings: PhaseCompetitionSettings, scan: pd.DataFrame | None = None
) -> tuple[dict[str, pd.DataFrame], str]:
    """The phase-competition tables, or one row each saying why there is no comparison.

    `scan` is the formation_energy_scan table when the caller has it already.
    """
    reason = ""
    if settings.enabled is False:
        reason = "switched off (phase_competition.enabled: false)"
    else:
        try:
            res, found = competition.comparisons(study, calculated)
        except competition.ComparisonUnavailable as exc:
            reason = str(exc)
    if scan is None:
        scan = analysis.formation_energy_scan(study, calculated, settings.mu_points)
    implied = analysis.implied_chemical_potentials(study, calculated)
    if reason:
        empty = pd.DataFrame([{"comparison": f"not computed: {reason}"}])
        conclusions = competition.phase_conclusions(None, [], pd.DataFrame(), scan, implied, reason)
        return {"phase_competition": empty, "phase_map": empty, "phase_conclusions": conclusions}, reason
    mu_map = competition.phase_map(res, found, settings.mu_points)
    return {
        "phase_competition": competition.competition_table(res, found),
        "phase_map": mu_map,
        "phase_conclusions": competition.phase_conclusions(
            res, found, mu_map, scan, implied, measured_ratio=settings.measured_anion_per_cation
        ),
    }, ""


# every relaxation here is local: what a vacancy sheet's energy is, and so what rests on it
ONE_START = (
    " Each structure is relaxed once, from one start (its cut geometry, relaxed first with the study's "
    "potential when calculator.prerelax sets one): its energy is a local minimum, and a sheet that "
    "reconstructs may have lower minima that another start reaches."
)


def captions(study: Study, calculated: Calculated, note: str, settings: PhaseCompetitionSettings,
             unavailable: str = "") -> dict[str, str]:  # fmt: skip
    """One caption per table: definitions, references and the shared settings."""
    settings_text = analysis.settings_caption(calculated.records)
    tail = f" {note} Settings: {settings_text}."
    gamma = ""
    if study.interfaces is not None:
        gamma = (
            " Bare substrate surface energy "
            f"{ev_per_a2_to_mev_per_a2(analysis.substrate_surface_energy(study, calculated)):.1f} "
            "meV/A^2."
        )
    implied = ", ".join(
        f"{name} {value:+.2f} eV"
        for name, value in analysis.implied_chemical_potentials(study, calculated).items()
    )
    reservoir = ""
    if not unavailable:
        res = competition.reservoir(study, calculated)
        reservoir = (
            f" Reservoir: bulk {res.compound} (the lower-energy CdSe polymorph), {res.cation_solid}, "
            f"{res.anion_solid}; dH_f = {res.formation_enthalpy:.3f} eV."
        )
    why = f" Not computed: {unavailable}." if unavailable else ""
    return {
        "records": "Calculation records behind every table: task, code, settings fingerprint, energy, "
        "largest "
        "free force, ionic steps and wall time." + tail,
        "chemical_potentials": "Se chemical potential at the isolated spin-polarised atom (the study's "
        "reference), "
        "the Se-rich limit (trigonal Se) and the Cd-rich limit (E(CdSe)/f.u. - E(Cd, hcp)); dH_f = E(CdSe) - "
        "E(Cd) - E(Se) per formula unit; E_coh = E(atom) - E(Se, solid)." + tail,
        "vacancy_formation": "Vacancy formation energy per removed atom, E_f = [E_defect - E_host + sum n_i "
        "mu_i] / n, against the isolated atom, the Se-rich and the Cd-rich limit (mu_Cd = E(CdSe) - "
        "mu_Se); the "
        "host is the pristine slab, or for Cd removed after the outermost Se plane (series after-layer) the "
        "slab without that plane (Cd has no atom-referenced value: its free atom is not computed); "
        "concentration = removed atoms / atoms of that species in the pristine slab; dE = E/N(defect) - "
        "E/N(pristine), the study's measure, which equals a formation energy at mu_bar = E/N(pristine) and "
        "carries no conclusion. The difference between the atom and Se-rich columns is the Se cohesive "
        "energy." + ONE_START + tail,
        "formation_energy_scan": "E_f per vacancy across the allowed range dH_f <= dmu_Se <= 0 (dmu_Se = "
        "mu_Se - "
        "E(Se, solid)), and the change of the sheet's grand potential per in-plane area, n E_f / A; each "
        "structure against its own host sheet." + tail,
        "phase_stability": "Cost of Se loss within each phase, per series (one face, both faces, whole "
        "layers) "
        "and concentration, the lowest computed placement at each: the study's measure dE = E/N(defect) - "
        "E/N(pristine) and the thermodynamic E_f per vacancy and dOmega per area at both limits; pristine "
        "at 0. "
        "Every number is relative to the phase's own pristine sheet, so none says which phase is lower after "
        "Se loss (phase_competition does). dE/atom is a formation energy at the arbitrary mu_bar = "
        f"E_host/N_host, here dmu_Se = {implied}, which moves with the code's zero of energy: no "
        "conclusion is "
        "drawn from it." + tail,
        "configurations": "Vacancy placements of each series and count: how many symmetry-distinct "
        "placements "
        "exist and how many were computed (kept in lexicographic order of their atoms, not ranked by energy, "
        "unless every one is computed), the lowest, and the Boltzmann average of E_f at the Se-rich limit at "
        f"{settings.temperature_k:g} K, weighted by each placement's orbit size, over the computed ones only."
        + tail,
        "surface_energies": "Surface energy per face of each pristine sheet, gamma = [E_slab - n_Cd mu_Cd - "
        "n_Se mu_Se] / (2 A), mu_Cd = E(CdSe) - mu_Se with the sheet's own bulk, across the allowed mu_Se; a "
        "non-stoichiometric (Cd-terminated) sheet depends on mu_Se; inequivalent faces give their mean."
        + tail,
        "phase_competition": "Wurtzite vs zinc blende sheets of the same thickness at equal composition: "
        "every "
        "sheet (pristine and with vacancies) at x = Se/Cd with e(x) = [E - n_Se e_CdSe - (n_Cd - n_Se) "
        "e_Cd] / "
        "n_Cd per Cd against one reservoir for both phases; each phase's lower convex hull over x; at "
        "each x the "
        "phase with the lower hull and the margin (meV per Cd); 'not comparable' outside the other phase's "
        "computed range. Only sheets of equal monolayers are compared." + ONE_START + reservoir + why + tail,
        "phase_map": "Grand-potential view: at each dmu_Se in [dH_f, 0], with Cd kept in the sheet and Se "
        "exchanged with one reservoir, omega(x) = e(x) - x (dmu_Se - dH_f) per Cd (a constant common to both "
        "phases dropped); each phase's equilibrium sheet (the tangent construction on its hull: a hull "
        "segment "
        "of slope s is in equilibrium at dmu_Se = dH_f + s), and the phase with the lower omega."
        + ONE_START
        + reservoir
        + why
        + tail,
        "phase_conclusions": "What the study can conclude, each row saying what it compares: the phase "
        "competition at equal composition and its grand-potential view (which phase is lower), E_f(mu) (the "
        "cost of the loss within each phase) and the study's dE/atom (a formation energy at an arbitrary mu: "
        "reported, never a conclusion)." + ONE_START + reservoir + tail,
        "interface_energies": "Interface (excess) energy of the CdS shell, E_int = [E_stack - E_bare PbS "
        "slab - "
        "N_CdS e(zb-CdS bulk)] / (faces A), split into the rock-salt polymorph term N_rs (e_rs - e_zb), the "
        "strain of each shell bulk held at the PbS in-plane lattice (normal relaxed), and the remainder: CdS "
        "surface minus the PbS surface it covers plus the interface itself."
        + gamma
        + analysis.strained_normal_note(study, calculated)
        + tail,
        "interface_ordering": "Pure rock-salt and pure zinc blende shells of equal thickness: which has "
        "the lower "
        "interface energy, and the lowest stack of each thickness." + tail,
        "knockon_limits": "Largest energy a beam electron transfers to a nucleus (head-on), exact "
        "relativistic "
        "kinematics and Egerton's form E_max = 2 E0 (E0 + 2 m0 c^2) / (M c^2); standard atomic masses.",
        "knockon_sites": "Each single-vacancy site: the static E_f against the isolated atom (this run's "
        "DFT), "
        "which is only a lower bound of the displacement threshold, and T_d of the same site from collision "
        "dynamics (table displacement_thresholds: machine-learned potential + ZBL, not DFT); the threshold "
        "voltage, E_max and the Mott and McKinley-Feshbach displacement cross-sections at each voltage come "
        "from T_d only. Surface sites can be sputtered through their face when the beam leaves there; sites "
        "below the surface cannot leave the sheet (Frenkel pair at best)." + tail,
    }


def paper_tables(
    study: Study,
    calculated: Calculated,
    voltages_kv: tuple[float, ...],
    settings: PhaseCompetitionSettings = PhaseCompetitionSettings(),
    thresholds: pd.DataFrame | None = None,
    bars: dict | None = None,
    bar_sheet: str = "",
) -> tuple[dict[str, pd.DataFrame], str]:
    """Every table of the study, by stem, and why there is no phase comparison (empty if there is one).

    `bars` (nanophase.convergence.error_bars of a convergence run): the error bars go onto the rows they
    were computed for, the top-surface vacancy of the slab model named `bar_sheet`, the 1 ML stacks and
    the pristine sheets of that model's thickness in the phase competition.
    """
    vacancies = analysis.vacancy_formation(study, calculated)
    interfaces = analysis.interface_energies(study, calculated)
    if bars:
        vacancies, interfaces = with_error_bars(vacancies, interfaces, bars, bar_sheet)
    scan = analysis.formation_energy_scan(study, calculated, settings.mu_points)
    phase_frames, unavailable = phase_competition_frames(study, calculated, settings, scan)
    converged_thickness = next((m.settings.monolayers for m in study.slabs if m.name == bar_sheet), None)
    if bars and not unavailable and converged_thickness is not None:
        phase_frames["phase_competition"] = with_margin_bar(
            phase_frames["phase_competition"], bars, converged_thickness
        )
    return {
        "records": analysis.records_table(calculated),
        "chemical_potentials": analysis.chemical_potential_limits(study, calculated),
        "vacancy_formation": vacancies,
        "formation_energy_scan": scan,
        "phase_stability": analysis.phase_stability(study, calculated),
        "configurations": configurations.configurations(study, calculated, settings.temperature_k),
        "surface_energies": surfaces.surface_energies(study, calculated, settings.mu_points),
        **phase_frames,
        "interface_energies": interfaces,
        "interface_ordering": analysis.interface_ordering(interfaces),
        "knockon_limits": analysis.knockon_limits(voltages_kv),
        "knockon_sites": analysis.knockon_sites(study, vacancies, voltages_kv, thresholds),
    }, unavailable


def write_paper_tables(
    study: Study,
    calculated: Calculated,
    outdir: str | Path,
    voltages_kv: tuple[float, ...],
    note: str = "",
    competition_config: dict | None = None,
    thresholds: pd.DataFrame | None = None,
    convergence: pd.DataFrame | None = None,
    convergence_sheet: str = "",
) -> list[Path]:
    """Write every table as <outdir>/<stem>.csv/.md/.tex; return the paths. With a convergence table
    (results/convergence/tables/convergence.csv) the vacancy and interface tables carry its error bars."""
    settings = PhaseCompetitionSettings.from_config(competition_config)
    bars = error_bars(convergence) if convergence is not None and len(convergence) else None
    frames, unavailable = paper_tables(
        study, calculated, voltages_kv, settings, thresholds, bars, convergence_sheet
    )
    if unavailable:
        log.warning("no phase competition: %s", unavailable)
    texts = captions(study, calculated, note, settings, unavailable)
    if bars:
        for stem in ("vacancy_formation", "interface_energies", "phase_competition"):
            texts[stem] = f"{texts[stem]} {error_bar_note(bars)}"
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
