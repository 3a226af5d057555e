"""From calculation records to the study's numbers: vacancy formation energies over the chemical-
potential range, phase stability under Se loss, interface energies and knock-on thresholds.

Each function takes the study plan and the calculations (records and final structures, by structure
name) and returns a pandas frame whose headers carry their units. Every energy difference goes through
nanophase.energetics, which refuses terms computed with different settings, and every row names the
records it used, so that each number can be traced back to its calculations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from ase import Atoms

from nanophase.bulk import formula_elements
from nanophase.calculators.records import CalcRecord
from nanophase.energetics import (
    AnionReferences,
    composition,
    energy_per_atom_change,
    energy_per_formula_unit,
    ev_per_a2_to_j_per_m2,
    interface_excess_energy,
    require_same_settings,
    se_references,
    vacancy_formation_energy,
)
from nanophase.knockon import knock_on, max_transfer_ev, mott_cross_section_barn
from nanophase.layers import in_plane_area_a2
from nanophase.study import SlabModel, Study

# The limits of the anion's chemical potential, as the tables name them (anion Se, cation Cd here).
LIMITS = ("anion-rich", "cation-rich")
DEFAULT_VOLTAGES_KV = (60.0, 80.0, 200.0, 300.0)
KNOCKON_ELEMENTS = ("Se", "Cd", "S", "Pb")


@dataclass(frozen=True)
class Calculated:
    """Records and final structures of a study's calculations, by structure name."""

    records: dict[str, CalcRecord]
    structures: dict[str, Atoms]

    def record(self, name: str) -> CalcRecord:
        if name not in self.records:
            raise KeyError(f"no calculation record for {name}")
        return self.records[name]

    def area_a2(self, name: str) -> float:
        return in_plane_area_a2(self.structures[name])


def limit_label(limit: str, formula: str) -> str:
    """ "Se-rich" / "Cd-rich" for the anion-rich / cation-rich limit of `formula`."""
    cation, anion = formula_elements(formula)
    return f"{anion if limit == 'anion-rich' else cation}-rich"


def vacancy_models(study: Study) -> list[SlabModel]:
    """The slab models that have vacancy structures (and so chemical-potential references)."""
    return [model for model in study.slabs if model.key in study.references]


def slab_references(study: Study, model: SlabModel, calculated: Calculated) -> AnionReferences:
    """Chemical potentials for one slab model, from records that share one fingerprint."""
    refs = study.references[model.key]
    cation, anion = formula_elements(refs.formula)
    return se_references(
        calculated.record(refs.compound),
        calculated.record(refs.solids[cation]),
        calculated.record(refs.solids[anion]),
        calculated.record(refs.atoms[anion]),
        refs.formula,
    )


def chemical_potentials(refs: AnionReferences, formula: str, mu_anion: float) -> dict[str, float]:
    """mu of both elements, the cation in equilibrium with the compound: mu_cation = E_compound - mu_anion."""
    cation, anion = formula_elements(formula)
    return {anion: mu_anion, cation: refs.compound - mu_anion}


def _atom_potentials(study: Study, model: SlabModel, calculated: Calculated) -> dict[str, float]:
    """The study's reference: each removed species at the energy of its isolated atom."""
    atoms = study.references[model.key].atoms
    return {el: energy_per_formula_unit(calculated.record(name), el) for el, name in atoms.items()}


def _ratio(record: CalcRecord, formula: str) -> float:
    """Anions per cation of a structure (1 for the compound)."""
    cation, anion = formula_elements(formula)
    counts = composition(record)
    return counts[anion] / counts[cation]


def vacancy_formation(study: Study, calculated: Calculated) -> pd.DataFrame:
    """E_f per removed atom of every vacancy structure against the isolated atom and both limits.

    Also the Cd:Se ratio left and the study's measure (energy per atom relative to the pristine slab).
    """
    rows = []
    for model in vacancy_models(study):
        refs = slab_references(study, model, calculated)
        formula = study.references[model.key].formula
        cation, anion = formula_elements(formula)
        host = calculated.record(model.name)
        mu_atom = _atom_potentials(study, model, calculated)
        labels = {limit: limit_label(limit, formula) for limit in LIMITS}
        for spec in model.vacancies:
            defect, reference = calculated.record(spec.name), calculated.record(spec.host)
            n = spec.n_vacancies
            row = {
                "structure": spec.name,
                "phase": model.settings.phase,
                "series": spec.series,
                "species": spec.species,
                "faces": spec.faces,
                "depth": spec.depth,
                "configuration": spec.configuration or "-",
                "removed": n,
                "concentration": spec.concentration,
                f"{anion}/{cation}": _ratio(defect, formula),
                # a species without its free atom computed (Cd after Se loss) has no atom-referenced E_f
                "E_f atom (eV/vacancy)": vacancy_formation_energy(defect, reference, mu_atom) / n
                if spec.species in mu_atom
                else np.nan,
            }
            for limit in LIMITS:
                mu = chemical_potentials(refs, formula, refs.mu(limit))
                row[f"E_f {labels[limit]} (eV/vacancy)"] = vacancy_formation_energy(defect, reference, mu) / n
            row["dE (meV/atom)"] = 1000.0 * energy_per_atom_change(defect, host)
            row["host"] = spec.host
            names = [spec.name, spec.host, model.name, *study.references[model.key].names()]
            row["records"] = "; ".join(dict.fromkeys(names))
            rows.append(row)
    return pd.DataFrame(rows)


def chemical_potential_limits(study: Study, calculated: Calculated) -> pd.DataFrame:
    """The references of each slab model: mu_Se at the atom and both limits, dH_f and cohesive energy."""
    rows = []
    for model in vacancy_models(study):
        refs = slab_references(study, model, calculated)
        formula = study.references[model.key].formula
        cation, anion = formula_elements(formula)
        rows.append({
            "compound": study.references[model.key].compound,
            f"mu_{anion} atom (eV)": refs.atom,
            f"mu_{anion} {anion}-rich (eV)": refs.anion_rich,
            f"mu_{anion} {cation}-rich (eV)": refs.cation_rich,
            "dH_f (eV/f.u.)": refs.formation_enthalpy,
            f"E_coh {anion} (eV/atom)": refs.cohesive_energy,
            "fingerprint": refs.fingerprint,
        })  # fmt: skip
    return pd.DataFrame(rows)


def formation_energy_scan(study: Study, calculated: Calculated, points: int = 11) -> pd.DataFrame:
    """E_f per vacancy and the slab's grand-potential change per area across the allowed mu range.

    dOmega / A = (Omega_defect - Omega_pristine) / A = n E_f / A: negative where losing the atoms lowers
    the sheet's free energy at that chemical potential.
    """
    rows = []
    for model in vacancy_models(study):
        refs = slab_references(study, model, calculated)
        formula = study.references[model.key].formula
        _, anion = formula_elements(formula)
        area = calculated.area_a2(model.name)
        for spec in model.vacancies:
            defect, host = calculated.record(spec.name), calculated.record(spec.host)
            n = spec.n_vacancies
            for mu_anion in refs.scan(points):
                total = vacancy_formation_energy(defect, host, chemical_potentials(refs, formula, mu_anion))
                rows.append({
                    "structure": spec.name,
                    "phase": model.settings.phase,
                    "series": spec.series,
                    "species": spec.species,
                    "concentration": spec.concentration,
                    f"dmu_{anion} (eV)": refs.delta_mu(mu_anion),
                    "E_f (eV/vacancy)": total / n,
                    "dOmega (meV/A^2)": 1000.0 * total / area,
                })  # fmt: skip
    return pd.DataFrame(rows)


def implied_chemical_potentials(study: Study, calculated: Calculated) -> dict[str, float]:
    """The anion chemical potential the study's dE/atom measure sets for each sheet, relative to the solid.

    dE/atom = E_def/N_def - E_host/N_host = [E_def - E_host + n mu_bar] / (N_host - n) with
    mu_bar = E_host/N_host: a formation energy at an arbitrary mu that moves with the code's zero of energy.
    """
    implied = {}
    for model in vacancy_models(study):
        host = calculated.record(model.name)
        refs = slab_references(study, model, calculated)
        implied[model.name] = refs.delta_mu(host.energy_ev / host.n_atoms)
    return implied


CONCENTRATION_SERIES = ("surface-top", "surface-both", "layer")


def phase_stability(study: Study, calculated: Calculated) -> pd.DataFrame:
    """The study's measure and the formation energies of anion loss, per phase, series and concentration.

    Each series (one face, both faces, whole layers) is kept apart; at each concentration the lowest-energy
    computed placement is shown, with how many were computed. dE/atom is relative to the phase's own
    pristine sheet and E_f / dOmega to the same sheet at each limit: they say how costly the loss is in
    each phase, not which phase is lower after it (that is the phase_competition table).
    """
    rows = []
    for model in vacancy_models(study):
        refs = slab_references(study, model, calculated)
        formula = study.references[model.key].formula
        host = calculated.record(model.name)
        area = calculated.area_a2(model.name)
        labels = {limit: limit_label(limit, formula) for limit in LIMITS}
        _, anion = formula_elements(formula)
        implied = {f"dmu_{anion} at mu_bar (eV)": refs.delta_mu(host.energy_ev / host.n_atoms)}
        candidates: dict[tuple[str, float], list] = {}
        for spec in model.vacancies:
            for series in set(spec.series.split(";")) & set(CONCENTRATION_SERIES):
                candidates.setdefault((series, spec.concentration), []).append(spec)
        for series in CONCENTRATION_SERIES:
            if not any(key[0] == series for key in candidates):
                continue
            pristine = {"structure": model.name, "phase": model.settings.phase, "series": series,
                        "concentration": 0.0, "placements": 1, "dE (meV/atom)": 0.0}  # fmt: skip
            for limit in LIMITS:
                pristine[f"E_f {labels[limit]} (eV/vacancy)"] = np.nan
                pristine[f"dOmega {labels[limit]} (meV/A^2)"] = 0.0
            rows.append(pristine | implied)
        for (series, concentration), specs in candidates.items():
            spec = min(specs, key=lambda s: calculated.record(s.name).energy_ev)
            defect = calculated.record(spec.name)
            row = {"structure": spec.name, "phase": model.settings.phase, "series": series,
                   "concentration": concentration, "placements": len(specs),
                   "dE (meV/atom)": 1000.0 * energy_per_atom_change(defect, host)}  # fmt: skip
            for limit in LIMITS:
                total = vacancy_formation_energy(
                    defect, host, chemical_potentials(refs, formula, refs.mu(limit))
                )
                row[f"E_f {labels[limit]} (eV/vacancy)"] = total / len(spec.removed)
                row[f"dOmega {labels[limit]} (meV/A^2)"] = 1000.0 * total / area
            rows.append(row | implied)
    columns = ["phase", "series", "concentration"]
    return pd.DataFrame(rows).sort_values(columns, kind="stable").reset_index(drop=True)


def strained_normal_note(study: Study, calculated: Calculated) -> str:
    """How each strained shell's normal was found, for the interface captions."""
    if study.interfaces is None:
        return ""
    parts = []
    for name in study.interfaces.strained.values():
        record = calculated.record(name)
        fit = record.extra.get("normal_fit")
        if fit:
            c_a = fit.get("c_record_a", fit["c_fit_a"])  # the lowest cell computed: fitted or a scan point
            change = 100 * (c_a / fit["c_start_a"] - 1.0)
            which = f" ({fit['record']})" if c_a != fit["c_fit_a"] else ""  # a scan point is the record
            parts.append(f"{name}: E(c) fit at constant cutoff (stress not trusted at this cutoff), "
                         f"c = {c_a:.3f} A, {change:+.1f} % from its start{which}")  # fmt: skip
        elif record.task == "relax-c":
            parts.append(f"{name}: relaxed by its zz stress")
        else:
            parts.append(f"{name}: NOT relaxed (volume-keeping normal, task {record.task})")
    return " Normal of the strained shells: " + "; ".join(parts) + "."


def interface_energies(study: Study, calculated: Calculated) -> pd.DataFrame:
    """Excess energy of each shell against the bare substrate slab and bulk zinc blende shell, and its terms.

    E_int = [E_stack - E_bare - N_shell e_zb] / (faces A)                      (the published kind)
          = polymorph + strain + (surface + interface)
    polymorph = N_rs (e_rs - e_zb) / (faces A): rock-salt layers are a higher-energy polymorph in bulk;
    strain = [N_rs (e_rs@sub - e_rs) + N_zb (e_zb@sub - e_zb)] / (faces A), e@sub the shell bulk held at
    the substrate's in-plane lattice with its normal relaxed; the rest is the shell's surface minus the
    substrate surface it covers, plus the interface itself (a free-standing shell slab would split them).
    """
    model = study.interfaces
    if model is None:
        return pd.DataFrame()
    bare_name = model.bare_name
    bare = calculated.record(bare_name)
    shell_formula = study_formula(calculated.record(model.zincblende_shell))
    e_bulk = {role: energy_per_formula_unit(calculated.record(key), shell_formula)
              for role, key in (("rs", model.rocksalt_shell), ("zb", model.zincblende_shell))}  # fmt: skip
    strained = {role: calculated.record(model.strained[key])
                for role, key in (("rs", model.rocksalt_shell), ("zb", model.zincblende_shell))}  # fmt: skip
    require_same_settings(
        bare,
        calculated.record(model.rocksalt_shell),
        calculated.record(model.zincblende_shell),
        *strained.values(),
    )
    e_strained = {role: energy_per_formula_unit(record, shell_formula) for role, record in strained.items()}
    cation, _ = formula_elements(shell_formula)
    rows = []
    for settings, name in zip(model.stacks, model.names, strict=True):
        faces = settings.decorated_faces
        if faces == 0:
            continue
        stack = calculated.record(name)
        area = calculated.area_a2(name)
        total = interface_excess_energy(
            stack, bare, calculated.record(model.zincblende_shell), shell_formula, area, faces
        )
        n_shell = composition(stack)[cation] - composition(bare)[cation]
        monolayers = settings.n_rocksalt + settings.n_zincblende
        n_rs = n_shell * settings.n_rocksalt / monolayers
        n_zb = n_shell * settings.n_zincblende / monolayers
        polymorph = n_rs * (e_bulk["rs"] - e_bulk["zb"]) / (faces * area)
        strain = (n_rs * (e_strained["rs"] - e_bulk["rs"]) + n_zb * (e_strained["zb"] - e_bulk["zb"])) / (
            faces * area
        )
        rows.append({
            "stack": name,
            "n_rs": settings.n_rocksalt,
            "n_zb": settings.n_zincblende,
            "faces": faces,
            "shell f.u.": int(round(n_shell)),
            "area (A^2)": area,
            "E_int (meV/A^2)": 1000.0 * total,
            "E_int (J/m^2)": ev_per_a2_to_j_per_m2(total),
            "E_int per ML (meV/A^2)": 1000.0 * total / monolayers,
            "polymorph (meV/A^2)": 1000.0 * polymorph,
            "strain (meV/A^2)": 1000.0 * strain,
            "surface + interface (meV/A^2)": 1000.0 * (total - polymorph - strain),
            "records": f"{name}; {bare_name}; {model.zincblende_shell}; {model.rocksalt_shell}; "
                       f"{'; '.join(model.strained.values())}",
        })  # fmt: skip
    return pd.DataFrame(rows)


def study_formula(record: CalcRecord) -> str:
    """Reduced formula of a binary compound record, cation first (CdS)."""
    cation, anion = formula_elements(record.formula)
    return f"{cation}{anion}"


def substrate_surface_energy(study: Study, calculated: Calculated) -> float:
    """gamma of the bare substrate slab, (E_slab - N e_bulk) / (2 A), eV/A^2 (a stoichiometric slab)."""
    model = study.interfaces
    bare_name = model.bare_name
    bare, bulk = calculated.record(bare_name), calculated.record(model.substrate)
    require_same_settings(bare, bulk)
    formula = study_formula(bulk)
    cation, _ = formula_elements(formula)
    e_bulk = energy_per_formula_unit(bulk, formula)
    return (bare.energy_ev - composition(bare)[cation] * e_bulk) / (2 * calculated.area_a2(bare_name))


def interface_ordering(interfaces: pd.DataFrame) -> pd.DataFrame:
    """At each shell thickness: the pure rock-salt and pure zinc blende shell, and which is lower."""
    rows = []
    if interfaces.empty:
        return pd.DataFrame(rows)
    for monolayers in sorted((interfaces["n_rs"] + interfaces["n_zb"]).unique()):
        rs = interfaces[(interfaces["n_rs"] == monolayers) & (interfaces["n_zb"] == 0)]
        zb = interfaces[(interfaces["n_zb"] == monolayers) & (interfaces["n_rs"] == 0)]
        same = interfaces[interfaces["n_rs"] + interfaces["n_zb"] == monolayers]
        best = same.loc[same["E_int (meV/A^2)"].idxmin()]
        row = {
            "monolayers": int(monolayers),
            "rock salt (meV/A^2)": float(rs["E_int (meV/A^2)"].iloc[0]) if len(rs) else np.nan,
            "zinc blende (meV/A^2)": float(zb["E_int (meV/A^2)"].iloc[0]) if len(zb) else np.nan,
        }
        if len(rs) and len(zb):
            row["lower"] = (
                "rock salt" if row["rock salt (meV/A^2)"] < row["zinc blende (meV/A^2)"] else "zinc blende"
            )
        else:
            row["lower"] = "not computed"  # one of the two pure shells was not computed
        row["lowest stack"] = f"{int(best['n_rs'])} rs + {int(best['n_zb'])} zb"
        rows.append(row)
    return pd.DataFrame(rows)


def knockon_limits(
    voltages_kv: tuple[float, ...], elements: tuple[str, ...] = KNOCKON_ELEMENTS
) -> pd.DataFrame:
    """Largest energy an electron hands to each nucleus: exact relativistic and Egerton's formula."""
    rows = []
    for element in elements:
        for voltage in voltages_kv:
            numbers = knock_on(element, voltage)
            rows.append({
                "element": element,
                "voltage (kV)": voltage,
                "E_max (eV)": numbers.max_transfer_ev,
                "E_max Egerton (eV)": numbers.max_transfer_egerton_ev,
            })  # fmt: skip
    return pd.DataFrame(rows)


def knockon_sites(study: Study, vacancies: pd.DataFrame, voltages_kv: tuple[float, ...],
                  thresholds: pd.DataFrame | None = None) -> pd.DataFrame:  # fmt: skip
    """Every single-atom vacancy site: the static E_f against the isolated atom (DFT, from vacancy_formation),
    the displacement threshold T_d of the matching kicked site (nanophase.displacement; same sheet, species,
    depth, pushed out through the vacancy's face) and, from T_d, the threshold voltage, E_max and the
    displacement cross-sections at each voltage. The static E_f is only a lower bound of T_d: no voltage or
    cross-section is derived from it. Sites below the surface cannot leave the sheet: Frenkel pair at best."""
    rows = []
    for model in vacancy_models(study):
        for spec in model.vacancies:
            if len(spec.removed) != 1:
                continue
            row_of_site = vacancies["structure"] == spec.name
            static = float(vacancies.loc[row_of_site, "E_f atom (eV/vacancy)"].iloc[0])
            td, sputter, source = _matching_threshold(thresholds, model.name, spec.species, spec.depth)
            can = "sputtering (exit face)" if spec.depth == 0 else "Frenkel pair (cannot leave the sheet)"
            for voltage in voltages_kv:
                row = {
                    "structure": spec.name,
                    "phase": model.settings.phase,
                    "site": spec.series,
                    "depth": spec.depth,
                    "element": spec.species,
                    "what the beam can do": can,
                    "E_f static (eV)": static,
                    "T_d (eV)": np.nan if td is None else td,
                    "T_sputter (eV)": np.nan if sputter is None else sputter,
                    "T_d from": source,
                    "voltage (kV)": voltage,
                    "E_max (eV)": max_transfer_ev(voltage, spec.species),
                }  # fmt: skip
                if td is not None:
                    numbers = knock_on(spec.species, voltage, td)
                    row.update({
                        "threshold (kV)": numbers.threshold_voltage_kv,
                        "displaced at this voltage": "yes" if numbers.max_transfer_ev > td else "no",
                        "sigma Mott (barn)": mott_cross_section_barn(voltage, spec.species, td),
                        "sigma McKinley-Feshbach (barn)": numbers.mckinley_feshbach_barn,
                    })  # fmt: skip
                if sputter is not None:
                    row["sputtered at this voltage"] = "yes" if row["E_max (eV)"] > sputter else "no"
                rows.append(row)
    return pd.DataFrame(rows)


def _matching_threshold(thresholds: pd.DataFrame | None, sheet: str, species: str, depth: int
                        ) -> tuple[float | None, float | None, str]:  # fmt: skip
    """T_d and T_sputter of the exit-role kicked site of `sheet` at (species, depth), lowest over its
    symmetry-distinct sites, and where they come from."""
    if thresholds is None or thresholds.empty:
        return None, None, "not computed (knockon.dynamics off): E_f is only a lower bound"
    match = thresholds[(thresholds["sheet"] == sheet) & (thresholds["species"] == species)
                       & (thresholds["depth"] == depth) & (thresholds["role"] == "exit")]  # fmt: skip
    known = match["T_d (eV)"].dropna()
    if known.empty:
        why = "returned up to the highest kick" if len(match) else "site not kicked (knockon.dynamics.depths)"
        return None, None, why
    sputter = match["T_sputter (eV)"].dropna() if "T_sputter (eV)" in match else pd.Series(dtype=float)
    return (float(known.min()), float(sputter.min()) if len(sputter) else None,
            f"dynamics, {match['model'].iloc[0]}")  # fmt: skip


def records_table(calculated: Calculated) -> pd.DataFrame:
    """Every record the tables use: what was computed, how, and whether it converged."""
    rows = []
    for name, record in calculated.records.items():
        rows.append({
            "name": name,
            "task": record.task,
            "code": f"{record.code} {record.code_version}",
            "fingerprint": record.fingerprint,
            "formula": record.formula,
            "atoms": record.n_atoms,
            "k-points": "x".join(str(k) for k in record.kpoints),
            # n_i |a_i| per periodic direction: the density each energy was sampled at
            "k sampling (A)": " / ".join(f"{x:g}" for x in record.kpoint_sampling_a if x) or "-",
            "energy (eV)": record.energy_ev,
            "fmax (eV/A)": record.max_force_ev_per_a,
            "steps": record.ionic_steps,
            "converged": "yes" if record.converged else "no",
            "wall time (s)": record.wall_time_s,
        })  # fmt: skip
    return pd.DataFrame(rows)


def prerelax_note(settings: dict) -> str:
    """How the DFT relaxations started (the potential never enters an energy difference)."""
    model = settings.get("prerelax", "none")
    if model == "none":
        return ""
    seeded = " and Hessian" if settings.get("prerelax_hessian", True) else ""
    return f", relaxations started from the {model} geometry{seeded} (DFT energies only)"


def settings_record(records: dict[str, CalcRecord]) -> CalcRecord:
    """A record holding the study's whole settings: a relaxation's (a single point's record leaves out
    the relaxation fields it does not depend on)."""
    values = list(records.values())
    return next((r for r in values if r.task != "single-point"), values[0])


def settings_caption(records: dict[str, CalcRecord]) -> str:
    """One sentence of the settings all records share (they must share one fingerprint)."""
    first = settings_record(records)
    require_same_settings(*records.values())
    settings = first.settings
    if "mode" not in first.physics:  # a machine-learned potential
        return (f"machine-learned potential {first.code} {first.code_version} (not DFT), forces "
                f"{settings['fmax_ev_per_a']:g} eV/A (fingerprint {first.fingerprint})")  # fmt: skip
    basis = (f"plane waves {settings['encut_ev']:g} eV" if settings["mode"] == "pw"
             else f"LCAO {settings['basis']}, grid {settings['grid_spacing_a']:g} A")  # fmt: skip
    return (
        f"{first.code.upper()} {first.code_version}, {settings['functional']}, {basis}, "
        f"{settings['smearing']} smearing {settings['smearing_ev']:g} eV, SCF "
        f"{settings['scf_energy_tol_ev']:g} eV, "
        f"forces {settings['fmax_ev_per_a']:g} eV/A, one k-point density for every structure "
        f"(n_i = ceil({settings['kpoint_length_a']:g} A / |a_i|))" + prerelax_note(settings) + " "
        f"(fingerprint {first.fingerprint})"
    )
