"""Which sheet is lower after anion loss: the two phases compared at equal composition.

A wurtzite sheet that loses Se and turns into zinc blende keeps its atoms, so the phases are compared at
the same Se/Cd, against one reservoir (../shared/science.md, section 4; the standard construction of
ab-initio thermodynamics of surfaces, Reuter & Scheffler, PRB 65, 035406 (2001)):

    e(x) = [E - m e_CdSe - (n - m) e_Cd] / n          per Cd, x = m / n (m anions, n cations)

with e_CdSe the bulk compound per formula unit and e_Cd the cation solid per atom, one value for both
phases, so no code's zero of energy enters. Each phase's lower convex hull over x gives, at each x, the
lowest energy that phase reaches (mixtures of its computed sheets); the lower hull is favoured. With the
cations kept in the sheet and the anion exchanged with a reservoir at dmu = mu_Se - e_Se(solid), the
grand potential per Cd is omega(x) = e(x) - x (dmu - dH_f) (+ a constant common to both phases): its
minimum is the tangent construction on the same hulls, and a hull segment of slope s is in equilibrium
with the reservoir at dmu = dH_f + s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nanophase.analysis import Calculated, vacancy_models
from nanophase.bulk import formula_elements
from nanophase.energetics import (
    composition,
    energy_per_formula_unit,
    require_same_settings,
)
from nanophase.study import Study

X_TOL = 1e-9  # two sheets with Se/Cd closer than this have the same composition
E_TOL = 1e-9  # eV per cation: energies closer than this are equal (collinear points, ties)


class ComparisonUnavailable(ValueError):
    """The study cannot compare two phases at equal composition; the message says why."""


@dataclass(frozen=True)
class Hull:
    """A lower convex hull: vertices (x increasing), their energies and structure names."""

    x: np.ndarray
    e: np.ndarray
    names: tuple[str, ...]

    def covers(self, x: float) -> bool:
        return self.x[0] - X_TOL <= x <= self.x[-1] + X_TOL

    def at(self, x: float) -> float:
        """The hull's energy at composition x (a mixture of its two neighbouring vertices); NaN outside."""
        if not self.covers(x):
            return np.nan
        return float(np.interp(x, self.x, self.e))

    def slopes(self) -> np.ndarray:
        return np.diff(self.e) / np.diff(self.x)

    def grand_minimum(self, exchange: float) -> tuple[int, float]:
        """Vertex minimising omega = e - x * exchange (exchange = dmu - dH_f) and that minimum.

        At a tangent two vertices tie; the one with the lower x is reported (the composition just
        below the tangent mu), whatever the rounding.
        """
        omega = self.e - self.x * exchange
        best = int(np.flatnonzero(omega <= omega.min() + E_TOL)[0])
        return best, float(omega[best])


def lower_hull(x: np.ndarray, e: np.ndarray, names: list[str] | tuple[str, ...]) -> Hull:
    """Lower convex hull of the points (x, e) (Andrew's monotone chain); at equal x the lowest e."""
    order = sorted(range(len(x)), key=lambda i: (x[i], e[i]))
    vertices: list[int] = []
    for i in order:
        if vertices and abs(x[vertices[-1]] - x[i]) < X_TOL:
            continue  # same composition, higher energy: never on the lower hull
        while len(vertices) >= 2:
            a, b = vertices[-2], vertices[-1]
            chord = e[a] + (e[i] - e[a]) * (x[b] - x[a]) / (x[i] - x[a])
            if e[b] < chord - E_TOL:  # b lies below the chord a-i: keep it
                break
            vertices.pop()
        vertices.append(i)
    return Hull(np.asarray(x)[vertices], np.asarray(e)[vertices], tuple(names[i] for i in vertices))


def common_range(a: Hull, b: Hull) -> tuple[float, float] | None:
    """The compositions both hulls cover, or None."""
    low, high = max(a.x[0], b.x[0]), min(a.x[-1], b.x[-1])
    return (low, high) if high >= low - X_TOL else None


def hull_gap(a: Hull, b: Hull) -> tuple[np.ndarray, np.ndarray]:
    """Hull a - hull b at every vertex of either inside their common range (it is linear in between)."""
    span = common_range(a, b)
    if span is None:
        return np.array([]), np.array([])
    grid = np.unique(np.concatenate([a.x, b.x, span]))
    grid = grid[(grid >= span[0] - X_TOL) & (grid <= span[1] + X_TOL)]
    return grid, np.array([a.at(x) - b.at(x) for x in grid])


def crossings(a: Hull, b: Hull) -> list[float]:
    """Compositions where hull a - hull b changes sign (exact: both are linear between their vertices)."""
    return sign_changes(*hull_gap(a, b))


def sign_changes(grid: np.ndarray, values: np.ndarray, tol: float = E_TOL) -> list[float]:
    """Where a piecewise-linear function (values at grid) changes sign; |value| < tol counts as zero."""
    signs = np.where(np.abs(values) < tol, 0, np.sign(values))
    nonzero = np.flatnonzero(signs)
    found = []
    for i, j in zip(nonzero[:-1], nonzero[1:], strict=True):
        if signs[i] == signs[j]:
            continue
        if j > i + 1:  # it touches zero at grid points between them: the crossing is there
            found.append(float(np.mean(grid[i + 1 : j])))
        else:
            found.append(float(grid[i] - values[i] * (grid[j] - grid[i]) / (values[j] - values[i])))
    return found


@dataclass(frozen=True)
class Reservoir:
    """One reservoir for every phase: bulk compound per f.u. and both elemental solids per atom, eV."""

    formula: str
    compound: str
    cation_solid: str
    anion_solid: str
    e_compound: float
    e_cation: float
    e_anion: float

    @property
    def formation_enthalpy(self) -> float:
        return self.e_compound - self.e_cation - self.e_anion

    def names(self) -> list[str]:
        return [self.compound, self.cation_solid, self.anion_solid]


def reservoir(study: Study, calculated: Calculated) -> Reservoir:
    """The common reservoir of the study's sheets: the lowest-energy bulk of their compound.

    Raises:
        ComparisonUnavailable: the sheets are not of one compound or do not share the elemental solids.
    """
    refs = [study.references[model.key] for model in vacancy_models(study)]
    formulas = sorted({r.formula for r in refs})
    if len(formulas) != 1:
        raise ComparisonUnavailable(f"the sheets are of {len(formulas)} compounds {formulas}, not one")
    formula = formulas[0]
    cation, anion = formula_elements(formula)
    solids = sorted({(r.solids[cation], r.solids[anion]) for r in refs})
    if len(solids) != 1:
        raise ComparisonUnavailable(f"the sheets use different elemental solids {solids}")
    compounds = sorted({r.compound for r in refs})
    ((cation_solid, anion_solid),) = solids
    require_same_settings(*(calculated.record(n) for n in [*compounds, cation_solid, anion_solid]))
    energies = {c: energy_per_formula_unit(calculated.record(c), formula) for c in compounds}
    compound = min(energies, key=energies.__getitem__)
    return Reservoir(
        formula,
        compound,
        cation_solid,
        anion_solid,
        energies[compound],
        energy_per_formula_unit(calculated.record(cation_solid), cation),
        energy_per_formula_unit(calculated.record(anion_solid), anion),
    )


def energy_per_cation(energy_ev: float, n_cation: int, n_anion: int, res: Reservoir) -> float:
    """e(x) = [E - m e_compound - (n - m) e_cation] / n, eV per cation."""
    return (energy_ev - n_anion * res.e_compound - (n_cation - n_anion) * res.e_cation) / n_cation


def sheet_points(study: Study, calculated: Calculated, res: Reservoir) -> pd.DataFrame:
    """Every sheet of the compared models (pristine and with vacancies): composition and e(x)."""
    cation, anion = formula_elements(res.formula)
    rows = []
    for model in vacancy_models(study):
        members = [(model.name, "pristine", "-")] + [
            (spec.name, spec.series, spec.configuration or "-") for spec in model.vacancies
        ]
        for name, series, configuration in members:
            record = calculated.record(name)
            counts = composition(record)
            rows.append(
                {
                    "monolayers": model.settings.monolayers,
                    "phase": model.settings.phase,
                    "structure": name,
                    "series": series,
                    "configuration": configuration,
                    f"n_{cation}": counts[cation],
                    f"n_{anion}": counts[anion],
                    f"{anion}/{cation}": counts[anion] / counts[cation],
                    f"e per {cation} (eV)": energy_per_cation(
                        record.energy_ev, counts[cation], counts[anion], res
                    ),
                }
            )
    require_same_settings(
        *(calculated.record(r["structure"]) for r in rows), *(calculated.record(n) for n in res.names())
    )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Comparison:
    """The phase competition of one sheet thickness."""

    monolayers: int
    hulls: dict[str, Hull]
    points: pd.DataFrame
    crossings: tuple[float, ...]


def comparisons(study: Study, calculated: Calculated) -> tuple[Reservoir, list[Comparison]]:
    """One comparison per sheet thickness computed in both phases.

    Raises:
        ComparisonUnavailable: one phase only, no common thickness, or no common reservoir.
    """
    pairs, reason = study.phase_pairs()
    if not pairs:
        raise ComparisonUnavailable(reason)
    res = reservoir(study, calculated)
    points = sheet_points(study, calculated, res)
    cation, anion = formula_elements(res.formula)
    x_col, e_col = f"{anion}/{cation}", f"e per {cation} (eV)"
    found = []
    for monolayers in pairs:
        group = points[points["monolayers"] == monolayers]
        hulls = {}
        for phase, sheets in group.groupby("phase"):
            hulls[phase] = lower_hull(
                sheets[x_col].to_numpy(), sheets[e_col].to_numpy(), list(sheets["structure"])
            )
        first, second = sorted(hulls)
        found.append(Comparison(monolayers, hulls, group, tuple(crossings(hulls[first], hulls[second]))))
    return res, found


def _favoured(hulls: dict[str, Hull], x: float) -> tuple[str, float]:
    """The phase whose hull is lower at x and the margin (meV per cation), or why there is none."""
    values = {phase: hull.at(x) for phase, hull in hulls.items()}
    missing = [phase for phase, v in values.items() if np.isnan(v)]
    if missing:
        spans = ", ".join(f"{p} {hulls[p].x[0]:.3f}-{hulls[p].x[-1]:.3f}" for p in missing)
        return f"not comparable: outside the {spans} computed", np.nan
    (low, e_low), (_, e_high) = sorted(values.items(), key=lambda item: item[1])
    if abs(e_high - e_low) < 1e-9:
        return "equal", 0.0
    return low, 1000.0 * (e_high - e_low)


def competition_table(res: Reservoir, found: list[Comparison]) -> pd.DataFrame:
    """Every sheet: composition, e(x), on its phase's hull or not, and which phase is lower there."""
    cation, anion = formula_elements(res.formula)
    x_col, e_col = f"{anion}/{cation}", f"e per {cation} (eV)"
    frames = []
    for comparison in found:
        table = comparison.points.copy()
        above = [
            round(1000.0 * (e - comparison.hulls[phase].at(x)), 6)
            for phase, x, e in zip(table["phase"], table[x_col], table[e_col], strict=True)
        ]
        table[f"above own hull (meV/{cation})"] = above
        table["on hull"] = ["yes" if value < 1e-3 else "no" for value in above]  # within 1 micro-eV
        for phase, hull in comparison.hulls.items():
            table[f"{phase} hull (eV/{cation})"] = [hull.at(x) for x in table[x_col]]
        verdicts = [_favoured(comparison.hulls, x) for x in table[x_col]]
        table["favoured phase"] = [v[0] for v in verdicts]
        table[f"margin (meV/{cation})"] = [v[1] for v in verdicts]
        frames.append(table.sort_values([x_col, "phase"], kind="stable"))
    return pd.concat(frames, ignore_index=True)


def phase_map(res: Reservoir, found: list[Comparison], points: int = 11) -> pd.DataFrame:
    """The grand-potential view: at each dmu_Se of [dH_f, 0], each phase's equilibrium sheet, the lower one.

    The grid holds `points` evenly spaced values and every tangent dmu of a hull segment inside the range
    (where a phase's equilibrium composition jumps) and every dmu where the favoured phase changes.
    """
    cation, anion = formula_elements(res.formula)
    dh = res.formation_enthalpy
    rows = []
    for comparison in found:
        hulls = comparison.hulls
        tangents = {
            float(dh + s): phase for phase, hull in hulls.items() for s in hull.slopes() if dh <= dh + s <= 0
        }
        # rounded to 1e-9 eV so that a tangent landing on a grid point is one row
        grid = np.unique(np.round(np.concatenate([np.linspace(dh, 0.0, points), list(tangents)]), 9))
        switch = _grand_switches(hulls, grid, dh)
        grid = np.unique(np.round(np.concatenate([grid, switch]), 9))
        for dmu in grid:
            row = {"monolayers": comparison.monolayers, f"dmu_{anion} (eV)": float(dmu)}
            omegas = {}
            for phase, hull in hulls.items():
                best, omega = hull.grand_minimum(dmu - dh)
                omegas[phase] = omega
                row[f"{phase} sheet"] = hull.names[best]
                row[f"{phase} {anion}/{cation}"] = float(hull.x[best])
                row[f"{phase} omega (eV/{cation})"] = omega
            (low, w_low), (_, w_high) = sorted(omegas.items(), key=lambda item: item[1])
            row["favoured phase"] = low if w_high - w_low > 1e-9 else "equal"
            row[f"margin (meV/{cation})"] = 1000.0 * (w_high - w_low)
            notes = [f"{tangents[t]} composition changes" for t in tangents if abs(t - dmu) < 1e-9]
            notes += ["favoured phase changes" for s in switch if abs(s - dmu) < 1e-9]
            row["note"] = "; ".join(notes) or "-"
            rows.append(row)
    return pd.DataFrame(rows)


def _grand_switches(hulls: dict[str, Hull], grid: np.ndarray, dh: float) -> list[float]:
    """dmu where the lowest grand potentials of the two phases cross (each is linear between tangents)."""
    first, second = sorted(hulls)

    def gap(dmu: float) -> float:
        return hulls[first].grand_minimum(dmu - dh)[1] - hulls[second].grand_minimum(dmu - dh)[1]

    return sign_changes(grid, np.array([gap(d) for d in grid]))


def phase_conclusions(
    res: Reservoir | None,
    found: list[Comparison],
    mu_map: pd.DataFrame,
    scan: pd.DataFrame,
    implied: dict[str, float],
    unavailable: str = "",
    measured_ratio: float = 0.8,
) -> pd.DataFrame:
    """What the study can conclude, each row saying what it compares (replaces per-phase-only conclusions).

    One row compares the thicknesses at the measured anion/cation ratio (the EDS value after irradiation).
    """
    rows = []
    if res is None:
        rows.append(
            {
                "measure": "phase competition at equal composition",
                "sheets": "",
                "compares": "nothing",
                "finding": f"not computed: {unavailable}",
            }
        )
    else:
        cation, anion = formula_elements(res.formula)
        dmu = f"dmu_{anion} (eV)"
        for comparison in found:
            first, second = sorted(comparison.hulls)
            a, b = comparison.hulls[first], comparison.hulls[second]
            span = common_range(a, b)
            sheets = f"{comparison.monolayers} ML"
            compares = (
                f"{first} vs {second} sheets of equal {anion}/{cation}, energy per {cation} against bulk "
                f"{res.compound} and {res.cation_solid} (lower convex hulls)"
            )
            if span is None:
                finding = (
                    f"no common {anion}/{cation}: {first} {a.x[0]:.3f}-{a.x[-1]:.3f}, "
                    f"{second} {b.x[0]:.3f}-{b.x[-1]:.3f}"
                )
            else:
                diff = 1000.0 * hull_gap(a, b)[1]
                if comparison.crossings:
                    segments = []
                    edges = [span[0], *comparison.crossings, span[1]]
                    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
                        middle = 0.5 * (lo + hi)
                        segments.append(
                            f"{first if a.at(middle) < b.at(middle) else second} lower at "
                            f"{anion}/{cation} {lo:.3f}-{hi:.3f}"
                        )
                    finding = (
                        f"favoured phase changes at {anion}/{cation} = "
                        f"{', '.join(f'{c:.3f}' for c in comparison.crossings)}: {'; '.join(segments)}"
                    )
                else:
                    lower = first if diff.mean() < 0 else second
                    margins = np.abs(diff)
                    finding = (
                        f"{lower} lower at every common {anion}/{cation} "
                        f"from {span[0]:.3f} to {span[1]:.3f}, "
                        f"by {margins.min():.0f}-{margins.max():.0f} meV per {cation}; no crossing"
                    )
            rows.append(
                {
                    "measure": "phase competition at equal composition",
                    "sheets": sheets,
                    "compares": compares,
                    "finding": finding,
                }
            )
            view = mu_map[mu_map["monolayers"] == comparison.monolayers]
            changes = view[view["note"].str.contains("favoured phase changes")]
            ends = view.iloc[[0, -1]]
            symbol = dmu.split(" ")[0]
            finding = "; ".join(
                f"at {symbol} = {row[dmu]:+.2f} eV {row['favoured phase']} "
                f"by {row[f'margin (meV/{cation})']:.0f} "
                f"meV per {cation} ({first} at {anion}/{cation} {row[f'{first} {anion}/{cation}']:.2f}, "
                f"{second} at {row[f'{second} {anion}/{cation}']:.2f})"
                for _, row in ends.iterrows()
            )
            if len(changes):
                finding += "; favoured phase changes at " + ", ".join(f"{d:+.2f} eV" for d in changes[dmu])
            rows.append(
                {
                    "measure": f"grand potential per {cation} over dH_f <= dmu_{anion} <= 0",
                    "sheets": sheets,
                    "compares": (
                        f"each phase's equilibrium sheet with one {anion} reservoir, {cation} kept in the "
                        "sheet (tangent construction on the same hulls)"
                    ),
                    "finding": finding,
                }
            )
        at_measured = []
        for comparison in found:
            phase, margin = _favoured(comparison.hulls, measured_ratio)
            at_measured.append(
                f"{comparison.monolayers} ML: {phase}"
                + (f" by {margin:.0f} meV per {cation}" if np.isfinite(margin) else "")
            )
        rows.append(
            {
                "measure": f"favoured phase at the measured {anion}/{cation} {measured_ratio:g}, "
                "by thickness",
                "sheets": ", ".join(f"{c.monolayers} ML" for c in found),
                "compares": f"the two hulls of each thickness at {anion}/{cation} = {measured_ratio:g} (EDS)",
                "finding": "; ".join(at_measured),
            }
        )
    if not scan.empty:
        dmu = next(c for c in scan.columns if c.startswith("dmu_"))
        symbol = dmu.split(" ")[0]
        for (phase, species), lines in scan.groupby(["phase", "species"]):
            lowest = lines.loc[lines["E_f (eV/vacancy)"].idxmin()]
            negative = lines[lines["E_f (eV/vacancy)"] < 0]
            finding = (
                f"lowest E_f {lowest['E_f (eV/vacancy)']:.2f} eV ({lowest['structure']} at {symbol} = "
                f"{lowest[dmu]:+.2f} eV); "
            )
            finding += (
                f"E_f < 0 for {negative['structure'].nunique()} of {lines['structure'].nunique()} structures "
                f"somewhere in {symbol} {negative[dmu].min():+.2f} ... {negative[dmu].max():+.2f} eV"
                if len(negative)
                else "E_f > 0 over the whole allowed range"
            )
            rows.append(
                {
                    "measure": f"E_f(mu) per {species} vacancy",
                    "sheets": phase,
                    "compares": f"each {phase} structure with its own host sheet "
                    "(the cost of the loss within "
                    "one phase, not a comparison of phases)",
                    "finding": finding,
                }
            )
    for sheet, value in implied.items():
        rows.append(
            {
                "measure": "dE/atom (the study's measure)",
                "sheets": sheet,
                "compares": "each defect sheet with its own pristine sheet per atom: a formation energy at "
                "mu_bar = E_host/N_host",
                "finding": f"mu_bar sits at dmu = {value:+.2f} eV; no conclusion is drawn from it"
                + (
                    " (outside the allowed range)"
                    if value > 0 or (res is not None and value < res.formation_enthalpy)
                    else ""
                ),
            }
        )
    return pd.DataFrame(rows)
