"""Convergence series with error bars for the numbers users report.

Each series changes one parameter of the study's set-up and recomputes one reported quantity:

- the top-surface Se vacancy formation energy of one sheet (E_f at the Se-rich limit: its reference,
  trigonal Se, is computed at every point with the same settings, so no difference mixes settings);
- the interface energy of one rock-salt and one zinc blende CdS monolayer on PbS(100);
- the wurtzite-zinc blende margin of the phase competition at one composition (margin_point).

Slab thickness, lateral supercell (the vacancy concentration) and substrate thickness change the
structure: those series run on the machine-learned potential (relaxations; cheap), which says how large
the model has to be, not a DFT number. Vacuum, plane-wave cutoff and k-point density change what the DFT
calculation resolves around a fixed structure: those run on the study's DFT code, single points at one
fixed geometry, the standard frozen-geometry convergence test. That geometry is the study's own
DFT-relaxed structures (study_geometries: the very sheets, stacks and references of the table rows the
bars go on), so that the study-setting point of a series reproduces the table's number and the bar is the
sensitivity of that number; the potential's relaxed structures of the study's size only where the study
computes no such structure. Vacuum belongs there because what it converges is electrostatic - the dipole
field and the density's tail across the gap - which a potential with a 5-6 A cutoff and no long-range
term cannot see: on the potential every vacuum beyond its cutoff gives the same energy to 1e-4 eV
(measured). A series is converged at the first value after which every further change stays below its
tolerance; the last change is the error bar, and a series that never settles says so.

The thickness series of a stoichiometric sheet also gives its surface energy by the Fiorentini-Methfessel
fit (V. Fiorentini and M. Methfessel, J. Phys.: Condens. Matter 8, 6525 (1996)): E_slab(N) = N e_bulk +
2 gamma A, with the bulk energy per formula unit from the slope; the slope is compared with the bulk
calculation, whose difference would make a naive surface energy drift linearly with N.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from ase import Atoms
from ase.io import read

from nanophase.calculators import run_calculation
from nanophase.calculators.job import job_settings
from nanophase.calculators.records import CalcRecord, read_record, structure_hash, write_record
from nanophase.calculators.settings import CalcSettings
from nanophase.energetics import (
    composition,
    ev_per_a2_to_mev_per_a2,
    interface_excess_energy,
    require_same_settings,
    vacancy_formation_energy,
)
from nanophase.interfaces import StackSettings, build_stack
from nanophase.layers import in_plane_area_a2
from nanophase.slabs import SlabSettings, build_slab
from nanophase.symmetry import primitive_cell
from nanophase.vacancies import VacancySettings, make_vacancy_structure, plan_vacancies

STRUCTURE_PARAMETERS = ("monolayers", "supercell", "substrate_layers")  # the potential's tier
BASIS_PARAMETERS = ("encut_ev", "kpoint_length_a")  # the DFT tier: settings of the calculation
FROZEN_GEOMETRY_PARAMETERS = ("vacuum_a", *BASIS_PARAMETERS)  # the DFT tier: at a fixed geometry
# the series each quantity has (a stack's shell is 1 ML by definition: its thickness is the substrate's)
# the phase margin has no thickness series: a sheet's thickness is what the phase competition studies (and
# it changes the sheets' compositions), not a convergence parameter; nor a lateral one (pristine sheets)
SERIES_OF = {
    "vacancy": ("monolayers", "vacuum_a", "supercell", "encut_ev", "kpoint_length_a"),
    "interface": ("substrate_layers", "vacuum_a", "encut_ev", "kpoint_length_a"),
    "margin": ("vacuum_a", "encut_ev", "kpoint_length_a"),
}
QUANTITY_LABELS = {
    "vacancy": ("E_f top-surface vacancy, anion-rich (eV)",),
    "interface": ("E_int 1 ML rock salt (meV/A^2)", "E_int 1 ML zinc blende (meV/A^2)"),
    "margin": ("margin e(zincblende) - e(wurtzite) at equal Se/Cd (meV/Cd)",),
}
MARGIN_PHASES = ("wurtzite", "zincblende")
# the structures a DFT-tier point of each quantity is computed at (SeriesContext.frozen, study_geometries)
GEOMETRY_ROLES = {
    "vacancy": ("slab", "vacancy", "anion_solid"),
    "interface": ("bare", "rs", "zb", "shell"),
    "margin": MARGIN_PHASES,  # the pristine sheets; the others are "<phase>:<name>" (margin_facets)
}


@dataclass(frozen=True)
class ConvergenceSettings:
    """The config's `convergence` block: the sheet, the potential, tolerances and the values scanned."""

    sheet: str = ""
    model: str = "chgnet"
    fmax_ev_per_a: float = 0.02
    tolerance_ev: float = 0.05
    tolerance_mev_per_a2: float = 2.0
    tolerance_mev_per_cation: float = 10.0
    error_bars: bool = False  # the main job runs the series and its tables carry their error bars
    values: dict = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: dict | None) -> ConvergenceSettings:
        cfg = dict(cfg or {})
        values = {k: cfg.pop(k) for k in (*STRUCTURE_PARAMETERS, *FROZEN_GEOMETRY_PARAMETERS) if k in cfg}
        return cls(**cfg, values=values)

    def for_study(self, slab_keys: list[str]) -> ConvergenceSettings:
        """The settings with the sheet resolved (the first slab model unless named).

        Raises:
            ConfigError: the named sheet is not a slabs key.
        """
        from nanophase.config import ConfigError

        if self.sheet and self.sheet not in slab_keys:
            raise ConfigError(
                f"invalid config: convergence.sheet: {self.sheet!r} is not a slabs key "
                f"(allowed: {', '.join(slab_keys)})"
            )
        return replace(self, sheet=self.sheet or (slab_keys[0] if slab_keys else ""))

    def tolerance(self, quantity: str) -> float:
        return {"vacancy": self.tolerance_ev, "interface": self.tolerance_mev_per_a2}.get(
            quantity, self.tolerance_mev_per_cation
        )

    def series(self, with_interfaces: bool = True, with_margin: bool = False) -> list[tuple[str, str]]:
        """(quantity, parameter) of every series with values to scan."""
        quantities = (
            (("vacancy",) if self.sheet else ())
            + (("interface",) if with_interfaces else ())
            + (("margin",) if with_margin else ())
        )
        return [(q, p) for q in quantities for p in SERIES_OF[q] if self.values.get(p)]


def _as_json(data: dict) -> dict:
    """`data` as it reads back from a JSON record (tuples as lists)."""
    return json.loads(json.dumps(data))


def tier(parameter: str) -> str:
    return "potential" if parameter in STRUCTURE_PARAMETERS else "dft"


def format_value(value) -> str:
    """3, 10.0 or [2, 2] as 3, 10 and 2x2."""
    if isinstance(value, list | tuple):
        return "x".join(str(int(v)) for v in value)
    return f"{value:g}"


def value_label(parameter: str, value) -> str:
    """A folder name of one point of a series, e.g. supercell-2x2."""
    return f"{parameter}-{format_value(value)}"


def converged_at(values: list, quantities: list[float], tolerance: float) -> tuple[object, float, bool]:
    """The first value after which every change stays below `tolerance`, the last change (the error
    bar), and whether the series settled; with one point there is no change to judge (NaN)."""
    if len(quantities) < 2:
        return values[-1], float("nan"), False
    changes = np.abs(np.diff(quantities))
    for index in range(len(changes)):
        if (changes[index:] < tolerance).all():
            return values[index], float(changes[-1]), True
    return values[-1], float(changes[-1]), False


def fiorentini_methfessel(n_formula_units: list[float], energies: list[float], area_a2: float) -> dict:
    """Least-squares E(N) = N e_bulk + 2 gamma A over a thickness series (two faces of area A each)."""
    slope, intercept = np.polyfit(np.asarray(n_formula_units, float), np.asarray(energies, float), 1)
    return {
        "e_bulk_fit_ev": float(slope),
        "gamma_mev_per_a2": ev_per_a2_to_mev_per_a2(intercept / (2 * area_a2)),
    }


class PointCache:
    """The records of a series' calculations under one folder, read back on a rerun (resumable).

    A record is reused only for the same input structure and the same settings (a series rerun after a
    change of preset or of the potential's geometry recomputes, never mixes the old energies in)."""

    def __init__(self, folder: str | Path, writer: bool = True):
        self.folder, self.writer = Path(folder), writer

    def compute(self, atoms: Atoms, settings: CalcSettings, backend: str, task: str, name: str) -> CalcRecord:
        folder = self.folder / name
        if (folder / "record.json").exists():
            record = read_record(folder / "record.json")
            if record.input_hash == structure_hash(atoms) and record.settings == _as_json(
                job_settings(settings, task)
            ):
                return record
            shutil.rmtree(folder)  # computed for another structure or other settings: start over
        record, final = run_calculation(atoms, settings, backend, task, folder / "work", name)
        if self.writer:
            folder.mkdir(parents=True, exist_ok=True)  # a potential's single point writes no work files
            final.write(folder / "final.extxyz")
            write_record(record, folder / "record.json")  # last: its presence means done
        return record

    def relaxed(self, atoms: Atoms, settings: CalcSettings, name: str) -> Atoms:
        """`atoms` relaxed with the potential (positions), with its info and constraints kept."""
        self.compute(atoms, settings, "mlip", "relax", name)
        relaxed = atoms.copy()
        relaxed.positions = read(self.folder / name / "final.extxyz").positions
        return relaxed


@dataclass
class SeriesContext:
    """What the series need from the study: bulks (curated, conventional), base geometries, calculators."""

    dft: CalcSettings
    dft_backend: str
    potential: CalcSettings
    compound: Atoms | None = None
    anion_solid: Atoms | None = None
    slab: SlabSettings | None = None
    species: str = "Se"
    substrate: Atoms | None = None
    shell_zb: Atoms | None = None
    shell_cation: str = "Cd"
    shell_formula: str = "CdS"
    stack: StackSettings | None = None
    # the phase margin: per phase, the compound's bulk and the sheet (same thickness, same compound)
    phase_sheets: dict[str, tuple[Atoms, SlabSettings]] = field(default_factory=dict)
    # the DFT tier's fixed geometries where the study computed them (study_geometries): role -> the
    # study's relaxed structure; a missing role is relaxed with the potential instead
    frozen: dict[str, Atoms] = field(default_factory=dict)

    def fixed_geometry(self, role: str, cache: PointCache, build, name: str) -> Atoms:
        """The DFT tier's structure of `role`: the study's relaxed one, else `build()` relaxed with the
        potential (cached as `name`)."""
        if role in self.frozen:
            return self.frozen[role]
        return cache.relaxed(build(), self.potential, name)

    def geometry_source(self, roles: tuple[str, ...]) -> str:
        """What a DFT-tier point of these roles is computed at, for the table and the captions."""
        if all(role in self.frozen for role in roles):
            return "study's relaxed structures"
        if any(role in self.frozen for role in roles):
            return "study's relaxed structures, the rest the potential's"
        return "potential's relaxed structures"


def formula_units(slab: CalcRecord, bulk: CalcRecord) -> dict:
    """Formula units of the slab (of the bulk's formula), the bulk energy per unit, and whether the slab
    is stoichiometric (only then does E(N) = N e_bulk + 2 gamma A hold)."""
    bulk_counts, slab_counts = composition(bulk), composition(slab)
    per_cell = math.gcd(*bulk_counts.values())
    unit = {element: n // per_cell for element, n in bulk_counts.items()}
    n_units = min(slab_counts[element] / n for element, n in unit.items())
    stoichiometric = set(slab_counts) == set(unit) and all(
        slab_counts[e] == n_units * n for e, n in unit.items()
    )
    return {
        "n_formula_units": n_units,
        "e_bulk_ev": bulk.energy_ev / per_cell,
        "stoichiometric": stoichiometric,
    }


def _anion_loss(slab: Atoms, species: str, series: str) -> Atoms:
    """The slab with one top-face structure of a vacancy `series` ("surface-top": one atom of the outermost
    `species` plane, the first distinct site; "layer": that whole plane)."""
    settings = VacancySettings(
        species=species,
        surface_counts=(1,),
        surface_faces=("top",),
        depth=False,
        whole_layer=("top",) if series == "layer" else (),
        max_configurations=1,
    )
    spec = next(s for s in plan_vacancies(slab, settings) if series in s.series.split(";"))
    return make_vacancy_structure(slab, spec)


def top_vacancy(slab: Atoms, species: str) -> Atoms:
    """The slab with one `species` atom removed from its top surface plane (the first distinct site)."""
    return _anion_loss(slab, species, "surface-top")


def top_layer_removed(slab: Atoms, species: str) -> Atoms:
    """The slab without its outermost `species` plane on the top face."""
    return _anion_loss(slab, species, "layer")


def _varied(settings, parameter: str, value):
    return replace(settings, **{parameter: tuple(value) if parameter == "supercell" else value})


def dft_point_settings(context: SeriesContext, parameter: str, value) -> tuple[CalcSettings, str]:
    """The DFT settings of one frozen-geometry point and the label of its calculations: a cutoff or
    k-point density point changes the settings (its own bulk reference), a vacuum point only the cell
    (the bulk reference is the study-settings one, shared by every point)."""
    if parameter in BASIS_PARAMETERS:
        return _varied(context.dft, parameter, float(value)), value_label(parameter, value)
    return context.dft, "study-settings"


def with_vacuum(atoms: Atoms, vacuum_a: float, host: Atoms | None = None) -> Atoms:
    """`atoms` (a slab whose normal is the cell's z axis) in a cell with `vacuum_a` between the periodic
    images of `host` (default: itself), centred on it; relative positions and the in-plane cell unchanged.
    A defect takes its host's cell, as in the study, so the two differ by the defect only."""
    z = (atoms if host is None else host).positions[:, 2]
    resized = atoms.copy()
    cell = resized.cell.array.copy()
    cell[2] = (0.0, 0.0, z.max() - z.min() + vacuum_a)
    resized.set_cell(cell, scale_atoms=False)
    resized.positions += (0.0, 0.0, vacuum_a / 2 - z.min())
    return resized


def frozen(atoms: Atoms, parameter: str, value, host: Atoms | None = None) -> Atoms:
    """The fixed geometry of one frozen-geometry point: the vacuum changed for a vacuum series."""
    return with_vacuum(atoms, float(value), host) if parameter == "vacuum_a" else atoms


def vacancy_point(context: SeriesContext, cache: PointCache, parameter: str, value) -> dict:
    """E_f (anion-rich limit, eV) of one top-surface vacancy at one value of `parameter`."""
    label = value_label(parameter, value)
    if tier(parameter) == "potential":
        settings, backend, task = context.potential, "mlip", "relax"
        slab = cache.relaxed(
            build_slab(context.compound, _varied(context.slab, parameter, value)), settings, f"slab-{label}"
        )
        host = cache.compute(slab, settings, backend, task, f"slab-{label}")
        defect = cache.compute(
            top_vacancy(slab, context.species), settings, backend, task, f"vacancy-{label}"
        )
        solid = cache.compute(primitive_cell(context.anion_solid), settings, backend, task, "anion-solid")
    else:
        backend, task = context.dft_backend, "single-point"
        settings, bulk_label = dft_point_settings(context, parameter, value)
        slab = context.fixed_geometry(
            "slab", cache, lambda: build_slab(context.compound, context.slab), "slab-base"
        )
        vacancy = context.fixed_geometry(
            "vacancy", cache, lambda: top_vacancy(slab, context.species), "vacancy-base"
        )
        slab, vacancy = frozen(slab, parameter, value), frozen(vacancy, parameter, value, host=slab)
        host = cache.compute(slab, settings, backend, task, f"slab-{label}")
        defect = cache.compute(vacancy, settings, backend, task, f"vacancy-{label}")
        frozen_solid = "anion_solid" in context.frozen  # primitive_cell only where the study has none
        solid_atoms = context.frozen["anion_solid"] if frozen_solid else primitive_cell(context.anion_solid)
        solid = cache.compute(solid_atoms, settings, backend, task, f"anion-solid-{bulk_label}")
    require_same_settings(defect, host, solid)
    mu = solid.energy_ev / solid.n_atoms
    point = {
        "value": value,
        "quantities": [vacancy_formation_energy(defect, host, {context.species: mu})],
        "atoms": host.n_atoms,
        "seconds": host.wall_time_s + defect.wall_time_s + solid.wall_time_s,
    }
    if parameter == "monolayers":  # E(N) of the pristine sheet for the Fiorentini-Methfessel fit
        bulk = cache.compute(primitive_cell(context.compound), settings, backend, task, "compound")
        point.update(formula_units(host, bulk), slab_energy_ev=host.energy_ev, area_a2=in_plane_area_a2(slab))
    return point


def interface_point(context: SeriesContext, cache: PointCache, parameter: str, value) -> dict:
    """E_int (meV/A^2) of 1 ML rock-salt and 1 ML zinc blende shells at one value of `parameter`."""
    label = value_label(parameter, value)
    base = context.stack if tier(parameter) == "dft" else _varied(context.stack, parameter, value)
    base = replace(base, fixed=tuple(range(base.substrate_layers)))  # the substrate held at bulk positions
    geometries = {
        key: build_stack(
            context.substrate, context.shell_cation, replace(base, n_rocksalt=rs, n_zincblende=zb)
        )
        for key, rs, zb in (("bare", 0, 0), ("rs", 1, 0), ("zb", 0, 1))
    }
    if tier(parameter) == "potential":
        settings, backend, task = context.potential, "mlip", "relax"
        names = {key: f"{key}-{label}" for key in geometries}
        shell = cache.compute(primitive_cell(context.shell_zb), settings, backend, task, "shell-bulk")
    else:
        backend, task = context.dft_backend, "single-point"
        settings, bulk_label = dft_point_settings(context, parameter, value)
        geometries = {
            key: frozen(
                context.fixed_geometry(key, cache, lambda atoms=atoms: atoms, f"{key}-base"), parameter, value
            )
            for key, atoms in geometries.items()
        }
        names = {key: f"{key}-{label}" for key in geometries}
        frozen_shell = "shell" in context.frozen  # primitive_cell only where the study has none
        shell_atoms = context.frozen["shell"] if frozen_shell else primitive_cell(context.shell_zb)
        shell = cache.compute(shell_atoms, settings, backend, task, f"shell-bulk-{bulk_label}")
    records = {
        key: cache.compute(atoms, settings, backend, task, names[key]) for key, atoms in geometries.items()
    }
    area = in_plane_area_a2(geometries["bare"])
    quantities = [
        ev_per_a2_to_mev_per_a2(
            interface_excess_energy(records[key], records["bare"], shell, context.shell_formula, area, 1)
        )
        for key in ("rs", "zb")
    ]
    return {
        "value": value,
        "quantities": quantities,
        "atoms": records["zb"].n_atoms,
        "seconds": sum(r.wall_time_s for r in records.values()) + shell.wall_time_s,
    }


def per_cation(record: CalcRecord, anion: str) -> tuple[float, float]:
    """A sheet's point of the phase hulls: x = anion/cation and its energy per cation (eV)."""
    counts = composition(record)
    n_cation = sum(n for element, n in counts.items() if element != anion)
    return counts.get(anion, 0) / n_cation, record.energy_ev / n_cation


def margin_point(context: SeriesContext, cache: PointCache, parameter: str, value) -> dict:
    """The wurtzite-zinc blende margin (meV per cation) at one value of a frozen-geometry parameter.

    Each phase's sheets span its lower hull over x = anion/cation (nanophase.competition); the margin is
    e(zincblende) - e(wurtzite) at the highest x both hulls reach (the least reduced composition both
    phases have: the zinc blende cation-terminated sheet's own in the default study). The sheets are the
    study's own that bound the table's hull segment there (context.frozen roles "<phase>:<name>", chosen by
    margin_facets from the study's energies), else the phase's pristine sheet and the same sheet without
    its top anion plane relaxed with the potential. At equal composition the reservoir terms of e(x) are
    the same for both phases and cancel (they are linear in x), so the margin needs no bulk reference.
    """
    from nanophase.competition import ComparisonUnavailable, common_range, lower_hull

    label = value_label(parameter, value)
    settings, _ = dft_point_settings(context, parameter, value)
    hulls, records = {}, []
    for phase in MARGIN_PHASES:
        compound, sheet = context.phase_sheets[phase]
        pristine = context.fixed_geometry(phase, cache, partial(build_slab, compound, sheet), f"{phase}-base")
        sheets = {role: atoms for role, atoms in context.frozen.items() if role.startswith(f"{phase}:")}
        if not sheets:
            layer_removed = partial(top_layer_removed, pristine, context.species)
            reduced = context.fixed_geometry(f"{phase}-layer", cache, layer_removed, f"{phase}-layer-base")
            sheets = {phase: pristine, f"{phase}-layer": reduced}
        points = []
        for key, atoms in sheets.items():
            record = cache.compute(
                frozen(atoms, parameter, value, host=pristine),
                settings,
                context.dft_backend,
                "single-point",
                f"{key.replace(':', '-')}-{label}",
            )
            points.append((*per_cation(record, context.species), key))
            records.append(record)
        x, e, names = zip(*points, strict=True)
        hulls[phase] = lower_hull(np.array(x), np.array(e), names)
    require_same_settings(*records)
    overlap = common_range(*hulls.values())
    if overlap is None:
        raise ComparisonUnavailable(
            "the sheets' hulls share no composition: "
            + "; ".join(f"{p} {h.x[0]:.3f}-{h.x[-1]:.3f}" for p, h in hulls.items())
        )
    x_common = overlap[1]
    first, second = (hulls[phase].at(x_common) for phase in MARGIN_PHASES)
    return {
        "value": value,
        "quantities": [1000.0 * (second - first)],
        "composition": x_common,
        "atoms": max(r.n_atoms for r in records),
        "seconds": sum(r.wall_time_s for r in records),
    }


def series_values(values: list, study_value) -> list:
    """The scanned values with the study's own setting among them (its error bar needs it), in order."""
    if study_value not in values:
        values = [*values, study_value]
    return sorted(values, key=lambda v: float(np.prod(v)) if isinstance(v, list | tuple) else float(v))


def run_series(
    context: SeriesContext,
    quantity: str,
    parameter: str,
    values: list,
    folder: str | Path,
    writer: bool = True,
) -> dict:
    """Every point of one series (resumable through its records) and its verdict per quantity."""
    cache = PointCache(Path(folder), writer)
    point_of = {"vacancy": vacancy_point, "interface": interface_point, "margin": margin_point}[quantity]
    points = [point_of(context, cache, parameter, value) for value in values]
    geometry = (
        context.geometry_source(GEOMETRY_ROLES[quantity])
        if tier(parameter) == "dft"
        else "potential's relaxations at each value"
    )
    return {"quantity": quantity, "parameter": parameter, "tier": tier(parameter), "geometry": geometry,
            "points": points}  # fmt: skip


def series_rows(series: dict, tolerance: float, study_value) -> list[dict]:
    """One table row per reported quantity of a series: the values, the converged setting, the error bar
    at the study's own setting (the change to the next value), and the last change."""
    values = [p["value"] for p in series["points"]]
    rows = []
    for index, label in enumerate(QUANTITY_LABELS[series["quantity"]]):
        quantities = [p["quantities"][index] for p in series["points"]]
        value, last_change, settled = converged_at(values, quantities, tolerance)
        at_study = next((i for i, v in enumerate(values) if v == study_value), None)
        study_error = (
            abs(quantities[at_study + 1] - quantities[at_study])
            if at_study is not None and at_study + 1 < len(quantities)
            else float("nan")
        )
        rows.append(
            {
                "quantity": label,
                "parameter": series["parameter"],
                "tier": series["tier"],
                "geometry": series.get("geometry", ""),
                "values": " / ".join(format_value(v) for v in values),
                "results": " / ".join(f"{q:.3f}" for q in quantities),
                "tolerance": tolerance,
                "converged at": format_value(value)
                if settled
                else f"not converged (last change {last_change:.3f})",
                "last change": last_change,
                "study setting": format_value(study_value),
                "error at the study setting": study_error,
                "seconds": sum(p["seconds"] for p in series["points"]),
            }
        )
    return rows


def series_context(
    convergence: ConvergenceSettings,
    slab_cfg: dict,
    interfaces_cfg: dict | None,
    dft: CalcSettings,
    backend: str,
    bulks: dict[str, Atoms],
    phase_slabs: dict[str, dict] | None = None,
) -> SeriesContext:
    """The context of the study's sheet (`convergence.sheet`), stacks and the sheets of the phase margin
    (`phase_slabs`: phase -> slab config; their bulks are `bulks["phase-<phase>"]`), from config blocks."""
    from nanophase.bulk import cation_anion, reduced_formula

    context = SeriesContext(
        dft=dft,
        dft_backend=backend,
        potential=CalcSettings(mlip_model=convergence.model, fmax_ev_per_a=convergence.fmax_ev_per_a),
    )
    if slab_cfg:
        context.compound, context.anion_solid = bulks["compound"], bulks["anion_solid"]
        context.slab = SlabSettings.from_config(slab_cfg)
        context.species = slab_cfg.get("vacancies", {}).get("species", "Se")
    if interfaces_cfg and "shell_zb" in bulks:
        context.substrate, context.shell_zb = bulks["substrate"], bulks["shell_zb"]
        context.shell_cation = cation_anion(set(bulks["shell_zb"].get_chemical_symbols()))[0]
        context.shell_formula = reduced_formula(bulks["shell_zb"])
        context.stack = StackSettings(
            substrate_layers=int(interfaces_cfg.get("substrate_layers", 2)),
            faces="top",
            supercell=tuple(interfaces_cfg.get("supercell", (1, 1))),
            vacuum_a=float(interfaces_cfg.get("vacuum_a", 15.0)),
        )
    for phase, cfg in (phase_slabs or {}).items():
        context.phase_sheets[phase] = (bulks[f"phase-{phase}"], SlabSettings.from_config(cfg))
    return context


def series_context_values(
    slab_cfg: dict, interfaces_cfg: dict | None, dft: CalcSettings, phase_slabs: dict[str, dict] | None = None
) -> dict:
    """The study's own setting of each parameter, per quantity (where its error bar is read)."""
    basis = {parameter: getattr(dft, parameter) for parameter in BASIS_PARAMETERS}
    values = {}
    if slab_cfg:
        slab = SlabSettings.from_config(slab_cfg)
        values["vacancy"] = {
            "monolayers": slab.monolayers,
            "vacuum_a": slab.vacuum_a,
            "supercell": list(slab.supercell),
            **basis,
        }
    if interfaces_cfg:
        values["interface"] = {
            "substrate_layers": int(interfaces_cfg.get("substrate_layers", 2)),
            "vacuum_a": float(interfaces_cfg.get("vacuum_a", 15.0)),
            **basis,
        }
    if phase_slabs:
        first = SlabSettings.from_config(phase_slabs[MARGIN_PHASES[0]])
        values["margin"] = {"vacuum_a": first.vacuum_a, **basis}
    return values


def margin_sheets(
    slabs: dict[str, dict], pairs: dict[int, dict[str, list[str]]], sheet: str
) -> dict[str, str]:
    """The slabs keys of the phase margin (phase -> key): the pair of the convergence sheet's thickness,
    else of the first thickness computed in both phases; empty when the study has no wurtzite-zinc blende
    pair (Study.phase_pairs)."""
    thickness = slabs.get(sheet, {}).get("monolayers")
    candidates = [pairs[thickness]] if thickness in pairs else list(pairs.values())[:1]
    for phases in candidates:
        if set(phases) == set(MARGIN_PHASES):
            return {phase: (sheet if sheet in keys else keys[0]) for phase, keys in phases.items()}
    return {}


def study_geometries(study, sheet: str, margin: dict[str, str]) -> dict[str, dict[str, str]]:
    """Per quantity, the study's structures its DFT-tier points are computed at (role -> structure name):
    the structures of the table rows that carry the bar, so the series' point at the study's settings is
    the table's number. A quantity whose structures the study does not compute is left out (its points
    use the potential's relaxed structures, and the table says so).

    `study`: nanophase.study.Study; `sheet`: the convergence sheet's slabs key; `margin`: phase -> slabs
    key of the margin's sheets (margin_sheets).
    """
    models = {model.key: model for model in study.slabs}
    geometries: dict[str, dict[str, str]] = {}
    model = models.get(sheet)
    if model is not None and model.key in study.references:
        species = model.vacancy_settings.species
        single = next(
            (v for v in model.vacancies if "surface-top" in v.series.split(";") and len(v.removed) == 1), None
        )
        if single is not None:
            solid = study.references[model.key].solids[species]
            geometries["vacancy"] = {"slab": model.name, "vacancy": single.name, "anion_solid": solid}
    interfaces = study.interfaces
    if interfaces is not None:
        stacks = {(s.n_rocksalt, s.n_zincblende, s.faces): name
                  for s, name in zip(interfaces.stacks, interfaces.names, strict=True)}  # fmt: skip
        rocksalt, zincblende = stacks.get((1, 0, "top")), stacks.get((0, 1, "top"))
        if rocksalt and zincblende:
            geometries["interface"] = {"bare": interfaces.bare_name, "rs": rocksalt, "zb": zincblende,
                                       "shell": interfaces.zincblende_shell}  # fmt: skip
    sheets = {}
    for phase, key in margin.items():  # the pristine sheet (the vacuum series' host) and every sheet
        members = [models[key].name, *(spec.name for spec in models[key].vacancies)]
        sheets.update({phase: models[key].name, **{f"{phase}:{name}": name for name in members}})
    if sheets:
        geometries["margin"] = sheets
    return geometries


def margin_facets(frozen: dict[str, Atoms], records: dict[str, CalcRecord], species: str) -> dict[str, Atoms]:
    """`frozen` with, of the margin's sheets ("<phase>:<name>" roles, whose study records are `records`),
    only those the phase competition table reads its margin from: per phase the hull vertex at the highest
    composition both hulls reach, or the two that bound the hull segment there (the hull of e per cation
    over x has the same vertices as that of the raw energy per cation: the reservoir terms are linear in
    x)."""
    from nanophase.competition import X_TOL, ComparisonUnavailable, common_range, lower_hull

    hulls = {}
    for phase in MARGIN_PHASES:
        roles = [role for role in records if role.startswith(f"{phase}:")]
        points = [per_cation(records[role], species) for role in roles]
        x, e = (np.array(values) for values in zip(*points, strict=True))
        hulls[phase] = lower_hull(x, e, roles)
    overlap = common_range(*hulls.values())
    if overlap is None:
        raise ComparisonUnavailable("the study's sheets of the two phases share no composition")
    kept = set()
    for hull in hulls.values():
        vertex = np.flatnonzero(np.abs(hull.x - overlap[1]) < X_TOL)
        if len(vertex):  # a sheet of exactly that composition: the hull is that sheet there
            kept.add(hull.names[vertex[0]])
            continue
        segment = int(np.searchsorted(hull.x, overlap[1])) - 1
        kept.update(hull.names[segment : segment + 2])
    return {role: atoms for role, atoms in frozen.items() if ":" not in role or role in kept}


def surface_energy_fit(series: dict) -> list[dict]:
    """The thickness series' pristine sheets: the naive surface energy against the bulk calculation at
    each N beside the Fiorentini-Methfessel fit over all N (empty for a non-stoichiometric sheet)."""
    points = [p for p in series["points"] if p.get("stoichiometric")]
    if len(points) < 2:
        return []
    fit = fiorentini_methfessel(
        [p["n_formula_units"] for p in points], [p["slab_energy_ev"] for p in points], points[0]["area_a2"]
    )
    rows = []
    for p in points:
        naive = (p["slab_energy_ev"] - p["n_formula_units"] * p["e_bulk_ev"]) / (2 * p["area_a2"])
        rows.append(
            {
                "monolayers": p["value"],
                "formula units": p["n_formula_units"],
                "E_slab (eV)": p["slab_energy_ev"],
                "gamma vs bulk calculation (meV/A^2)": ev_per_a2_to_mev_per_a2(naive),
                "gamma Fiorentini-Methfessel (meV/A^2)": fit["gamma_mev_per_a2"],
                "e_bulk fit - e_bulk calculation (meV/f.u.)": 1000.0
                * (fit["e_bulk_fit_ev"] - p["e_bulk_ev"]),
            }
        )
    return rows


# --- error bars of the study's tables -------------------------------------------------------------------
# The series are one parameter at a time; their errors at the study's setting are taken as independent and
# added in quadrature (the usual combination of convergence errors). The bar belongs to the quantity the
# series computed - the top-surface vacancy at the anion-rich limit of the convergence sheet, the 1 ML
# interface energies - and to no other row.
VACANCY_BAR = "+/- E_f anion-rich, convergence (eV)"
INTERFACE_BAR = "+/- E_int, convergence (meV/A^2)"
MARGIN_BAR = "+/- margin, convergence (meV/Cd)"
INTERFACE_LABELS = {(1, 0): QUANTITY_LABELS["interface"][0], (0, 1): QUANTITY_LABELS["interface"][1]}


def error_bars(table: pd.DataFrame) -> dict[str, dict]:
    """Per reported quantity of a convergence table: the quadrature sum of its series' errors at the study
    setting, the parts, and the series without one (the study's value was the last scanned: no next)."""
    bars = {}
    for label, rows in table.groupby("quantity", sort=False):
        parts = dict(zip(rows["parameter"], rows["error at the study setting"].astype(float), strict=True))
        known = {parameter: error for parameter, error in parts.items() if math.isfinite(error)}
        frozen_at = rows.loc[rows["tier"] == "dft", "geometry"] if "geometry" in rows else []
        bars[label] = {
            "error": math.sqrt(sum(error * error for error in known.values())) if known else math.nan,
            "parts": known,
            "missing": sorted(set(parts) - set(known)),
            "geometry": "; ".join(sorted(set(frozen_at))),
        }
    return bars


def with_error_bars(vacancies: pd.DataFrame, interfaces: pd.DataFrame, bars: dict[str, dict],
                    sheet: str) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """The vacancy and interface tables with the convergence error bar on the rows it was computed for:
    the single top-surface vacancy of `sheet` (anion-rich E_f) and the 1 ML rock-salt / zinc blende
    stacks; NaN elsewhere."""
    vacancies, interfaces = vacancies.copy(), interfaces.copy()
    vacancy = bars.get(QUANTITY_LABELS["vacancy"][0])
    if len(vacancies):
        measured = (  # the outermost plane's single vacancy (its series may be shared: "surface-top;depth")
            (vacancies["host"] == sheet)
            & vacancies["series"].str.contains("surface")
            & (vacancies["faces"] == "top")
            & (vacancies["depth"] == 0)
            & (vacancies["removed"] == 1)
        )
        error = vacancy["error"] if vacancy else math.nan
        vacancies[VACANCY_BAR] = np.where(measured, error, math.nan)
    if len(interfaces):
        errors = []
        for n_rs, n_zb in zip(interfaces["n_rs"], interfaces["n_zb"], strict=True):
            bar = bars.get(INTERFACE_LABELS.get((int(n_rs), int(n_zb)), ""))
            errors.append(bar["error"] if bar else math.nan)
        interfaces[INTERFACE_BAR] = errors
    return vacancies, interfaces


def with_margin_bar(competition: pd.DataFrame, bars: dict[str, dict], monolayers: int) -> pd.DataFrame:
    """The phase competition table with the margin's error bar on the rows it was computed for: pristine
    sheets of the converged thickness at a composition both phases reach (a finite margin); NaN
    elsewhere."""
    bar = bars.get(QUANTITY_LABELS["margin"][0])
    margin_column = next((c for c in competition.columns if c.startswith("margin (")), None)
    if bar is None or margin_column is None:
        return competition
    competition = competition.copy()
    measured = (
        (competition["series"] == "pristine")
        & (competition["monolayers"] == monolayers)
        & np.isfinite(competition[margin_column].astype(float))
    )
    competition[MARGIN_BAR] = np.where(measured, bar["error"], math.nan)
    return competition


def error_bar_note(bars: dict[str, dict]) -> str:
    """One sentence for the captions: what each bar is made of."""
    parts = []
    for label, bar in bars.items():
        made_of = ", ".join(f"{parameter} {error:.3g}" for parameter, error in bar["parts"].items())
        missing = f"; no next value for {', '.join(bar['missing'])}" if bar["missing"] else ""
        frozen_at = f"; vacuum, cutoff and k at the {bar['geometry']}" if bar.get("geometry") else ""
        parts.append(f"{label}: +/- {bar['error']:.3g} ({made_of}{missing}{frozen_at})")
    return (
        "Error bars (+/- columns): the quadrature sum, over the convergence series, of the change from the "
        "study's setting to the next value (results/convergence/tables/convergence.*), on the rows those "
        "series computed only - " + "; ".join(parts) + ". Sensitivities: the sizes (thickness, lateral "
        "cell, substrate layers) on the potential's relaxed structures, vacuum, cutoff and k-points as "
        "single points at the study's own relaxed structures of those rows (where the study computes them), "
        "so that their study-setting point is the table's number; the margin's from the sheets the "
        "phase competition reads it from (each phase's hull at that composition)."
    )


def convergence_caption(note: str, dft: CalcSettings, model: str) -> str:
    return (
        "Convergence of the reported quantities: each series changes one parameter of the study's set-up "
        "(the others at the study's values) and recomputes the quantity; 'converged at' is the first value "
        "after which every change stays below the tolerance, 'error at the study setting' the change from "
        "the study's value to the next one (the error bar of the study's number), 'last change' that of "
        "the last two values. Tier 'potential': structures relaxed with the machine-learned potential "
        f"{model} (how large the model must be, not a DFT number); tier 'dft': {dft.functional} single "
        "points at a fixed geometry, column 'geometry': the study's own relaxed structures of the rows that "
        "carry the bars where the study computes them, else the potential's of the study's size "
        "(frozen-geometry test of vacuum, cutoff and k-point density, n_i = ceil(L / |a_i|); vacuum is "
        "electrostatic, beyond a potential's reach). E_f: "
        "one top-surface anion vacancy at the anion-rich limit (the elemental solid computed with the "
        "point's settings); E_int: one monolayer of rock-salt or zinc blende shell on "
        f"the substrate, against the bare substrate and the zinc blende shell bulk. {note}"
    )


SURFACE_FIT_CAPTION = (
    "Surface energy of the pristine sheet (two equivalent faces) from the thickness series: against the "
    "separate bulk calculation at each thickness, and from the Fiorentini-Methfessel fit E(N) = N e_bulk + "
    "2 gamma A over all thicknesses (J. Phys.: Condens. Matter 8, 6525 (1996)); the last column is the "
    "fitted "
    "bulk energy per formula unit minus the calculated one, which makes the naive value drift with N. "
    "Machine-learned potential."
)
