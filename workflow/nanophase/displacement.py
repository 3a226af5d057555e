"""Displacement thresholds by collision dynamics: kick one atom of a relaxed sheet along the beam, run NVE,
bisect on the kinetic energy.

The standard method for 2D sheets (Komsa et al., PRL 109, 035503 (2012), there with DFT-MD): the beam runs
along the sheet normal, enters one face and leaves the other. An atom hit head-on gets a kinetic energy T
along the beam; on the exit face it is pushed out of the sheet (sputtering), on the entrance face and inside
it is pushed into the sheet (a Frenkel pair at best). T_d is the smallest T after which the atom does not
come back to its site. Here the forces come from a machine-learned potential with the ZBL repulsion added
at short range (nanophase.collisions); velocity Verlet with a time step bounded by the largest displacement
per step; a run that fails (atoms closer than min_distance_a, a blow-up, energy drift above the bound) is
retried with smaller steps and never counted as "returned".
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import PropertyNotImplementedError

from nanophase.calculators.settings import CalcSettings, kpoint_mesh
from nanophase.collisions import RepulsionRange, close_pairs
from nanophase.safe_write import atomic_path, atomic_write_text
from nanophase.symmetry import symmetry_permutations
from nanophase.vacancies import species_planes

ROLES = ("exit", "entrance")
RETURNED, SPUTTERED, ADATOM, FRENKEL, FAILED = "returned", "sputtered", "adatom", "Frenkel pair", "failed"
# the quench fell below the starting sheet: the sheet was metastable with this potential, not displaced
REARRANGED = "sheet rearranged"
# a run without a quench (the DFT check) whose atom was still on its way out, bound to the frozen sheet,
# when the window closed: neither sputtered nor kept
UNDECIDED = "undecided (still leaving)"


@dataclass(frozen=True)
class KickSettings:
    """knockon.dynamics of the config: the sites, the potential, the MD and the bisection of T_d."""

    model: str = "chgnet"
    species: tuple[str, ...] = ("Se",)
    roles: tuple[str, ...] = ("exit",)
    depths: tuple[int, ...] = (0,)
    min_lateral_a: float = 10.0
    resolution_ev: float = 0.1
    min_kick_ev: float = 1.0
    max_kick_ev: float | None = None  # None: 1.25 x E_max of the element at the highest voltage
    duration_fs: float = 300.0
    max_step_fs: float = 4.0
    max_displacement_a: float = 0.15
    max_drift_ev_per_atom: float = 0.002
    return_radius_a: float = 1.0
    escape_distance_a: float = 6.0  # beyond the potentials' reach (CHGNet 6 A, SevenNet-0 5 A)
    min_distance_a: float = 0.5
    retries: int = 3
    relax_fmax_ev_per_a: float = 0.01
    relax_steps: int = 400
    repulsion: RepulsionRange = field(default_factory=RepulsionRange)

    def __post_init__(self) -> None:
        bad_roles = sorted(set(self.roles) - set(ROLES))
        if bad_roles:
            raise ValueError(f"knockon.dynamics.roles: {bad_roles} not allowed (allowed: {', '.join(ROLES)})")
        if self.resolution_ev <= 0 or self.min_kick_ev <= 0:
            raise ValueError("knockon.dynamics: resolution_ev and min_kick_ev must be > 0")
        if self.max_kick_ev is not None and self.max_kick_ev <= self.min_kick_ev + self.resolution_ev:
            raise ValueError(f"knockon.dynamics.max_kick_ev: must exceed min_kick_ev + resolution_ev, got "
                             f"{self.max_kick_ev}")  # fmt: skip

    @classmethod
    def from_config(cls, cfg: dict | None) -> KickSettings:
        cfg = dict(cfg or {})
        cfg.pop("enabled", None)
        zbl = cfg.pop("zbl", {})
        for key in ("species", "roles", "depths"):
            if key in cfg:
                cfg[key] = tuple(cfg[key])
        return cls(**cfg, repulsion=RepulsionRange(**zbl))

    def record(self) -> dict:
        return asdict(self)

    def fingerprint(self) -> str:
        """Short hash of every setting: runs of other settings live in another folder, never reused."""
        return hashlib.sha256(json.dumps(self.record(), sort_keys=True).encode()).hexdigest()[:10]


def dynamics_choice(cfg: dict) -> tuple[bool, str]:
    """Whether the kicks run (knockon.dynamics.enabled: auto = when the model is installed) and why."""
    from nanophase.calculators.mlip_calc import INSTALL_HINT, mlip_available

    KickSettings.from_config(cfg)  # a bad value fails here, at planning, before any job
    enabled, model = cfg.get("enabled", "auto"), cfg.get("model", "chgnet")
    if enabled is False:
        return False, "knockon.dynamics.enabled is false"
    if mlip_available(model):
        return True, f"{model} + ZBL"
    if enabled is True:
        raise ValueError(f"knockon.dynamics.enabled: true, but {model} is not installed; {INSTALL_HINT}")
    return False, f"{model} is not installed ({INSTALL_HINT}); knockon_sites gives static E_f only"


@dataclass(frozen=True)
class KickSite:
    """One symmetry-distinct atom to kick: where it sits and which way the beam pushes it."""

    index: int
    species: str
    face: str  # the face it belongs to: top or bottom
    depth: int  # planes of its species below that face (0: outermost)
    role: str  # exit: pushed out through its face; entrance: pushed into the sheet
    direction: int  # +1 / -1 along z
    equivalent_faces: bool  # the other face holds an identical site (one run covers both)

    @property
    def label(self) -> str:
        face = "either face" if self.equivalent_faces else f"{self.face} face"
        return f"{self.species} {self.role} ({face}, depth {self.depth})"


@dataclass
class KickRun:
    """One NVE run after a kick of energy_ev."""

    energy_ev: float
    outcome: str
    reason: str
    steps: int
    time_fs: float
    drift_ev_per_atom: float
    displacement_a: float  # of the kicked atom from its site, relative to the rest of the sheet, at the end
    step_scale: float  # 1 at the first try, smaller after a failure
    seconds: float


def kick_supercell(slab: Atoms, min_lateral_a: float, vacuum_a: float = 10.0) -> Atoms:
    """The slab repeated in-plane until both in-plane cell vectors are at least `min_lateral_a` long.

    The kicked atom's periodic images must be far apart (they move together); at least `vacuum_a` on
    each side (more than the escape distance); constraints are dropped,
    because a collision conserves momentum and energy only in a free sheet.
    """
    lengths = np.linalg.norm(slab.cell[:2], axis=1)
    repeat = [max(1, math.ceil(min_lateral_a / length - 1e-9)) for length in lengths]
    sheet = slab.repeat((*repeat, 1))
    sheet.set_constraint()
    sheet.pbc = True
    # room for a sputtered atom to get beyond the potential's reach before it meets the periodic image
    sheet.center(vacuum=max(vacuum_a, 0.5 * (sheet.cell[2, 2] - np.ptp(sheet.positions[:, 2]))), axis=2)
    sheet.info["kick_supercell"] = repeat
    return sheet


def kick_sites(sheet: Atoms, settings: KickSettings) -> list[KickSite]:
    """Symmetry-distinct atoms of the requested species, depths and roles, on both faces.

    An orbit of the sheet's symmetry that contains atoms of both faces is one site (the faces are
    equivalent for it): the sheet can lie either way up under the beam.
    """
    perms = symmetry_permutations(sheet)
    sites = []
    for species in settings.species:
        planes = species_planes(sheet, species)
        if not planes:
            raise ValueError(f"knockon.dynamics.species: the sheet has no {species}")
        seen: set[int] = set()
        for depth in settings.depths:
            if depth >= (len(planes) + 1) // 2:
                continue  # past the middle: that plane belongs to the other face
            for face, plane in (("top", planes[-1 - depth]), ("bottom", planes[depth])):
                for atom in plane:
                    if atom in seen:
                        continue
                    orbit = {int(p[atom]) for p in perms}
                    seen |= orbit
                    other = set(planes[depth] if face == "top" else planes[-1 - depth])
                    outward = 1 if face == "top" else -1
                    for role in settings.roles:
                        sites.append(KickSite(atom, species, face, depth, role,
                                              outward if role == "exit" else -outward,
                                              bool(orbit & other)))  # fmt: skip
    return sites


def kinetic_energy(atoms: Atoms, velocities: np.ndarray) -> float:
    return 0.5 * float(np.sum(atoms.get_masses()[:, None] * velocities**2))


class KickFailed(RuntimeError):
    """The run is not physical (overlap, blow-up, drift): retry with a smaller step."""


def force_consistent_energy(atoms: Atoms) -> float:
    """The energy whose gradient the forces are: with electronic smearing (GPAW), the Mermin free energy,
    not the zero-width extrapolation that get_potential_energy() gives. The extrapolation moves against
    the forces as states cross the Fermi level (a Se leaving the sheet: 3 % of the force, 0.1 eV over
    the exit), which reads as energy drift; potentials without smearing have only the one energy."""
    try:
        return float(atoms.get_potential_energy(force_consistent=True))
    except PropertyNotImplementedError:
        return float(atoms.get_potential_energy())


def nve(atoms: Atoms, velocities: np.ndarray, settings: KickSettings, step_scale: float = 1.0, watch=None):
    """Velocity Verlet from `velocities` for settings.duration_fs; the step is the smallest of max_step_fs,
    max_displacement_a / v_max and sqrt(2 max_displacement_a / a_max) (times step_scale).

    `watch(atoms, velocities, time_fs)` may return an outcome to stop early. Returns (outcome or None,
    steps, time_fs, drift eV/atom, final velocities). Raises KickFailed on overlap, non-finite forces or
    drift above the bound.
    """
    masses = atoms.get_masses()[:, None]
    forces = atoms.get_forces()
    start_energy = force_consistent_energy(atoms) + kinetic_energy(atoms, velocities)
    elapsed, steps, drift = 0.0, 0, 0.0
    max_step = settings.max_step_fs * step_scale * units.fs
    while elapsed < settings.duration_fs:
        speed = float(np.sqrt((velocities**2).sum(axis=1)).max())
        acceleration = forces / masses
        accel = float(np.sqrt((acceleration**2).sum(axis=1)).max())
        limit = settings.max_displacement_a * step_scale
        dt = min(max_step, limit / max(speed, 1e-12), math.sqrt(2 * limit / max(accel, 1e-12)))
        atoms.positions = atoms.positions + velocities * dt + 0.5 * acceleration * dt * dt
        new_forces = atoms.get_forces()
        if not np.all(np.isfinite(new_forces)):
            raise KickFailed(f"non-finite forces after {steps} steps")
        velocities = velocities + 0.5 * (acceleration + new_forces / masses) * dt
        forces = new_forces
        elapsed += dt / units.fs
        steps += 1
        closest = _closest_pair(atoms)
        if closest < settings.min_distance_a:
            raise KickFailed(
                f"atoms {closest:.2f} A apart (below min_distance_a {settings.min_distance_a} A)"
            )
        energy = force_consistent_energy(atoms) + kinetic_energy(atoms, velocities)
        drift = max(drift, abs(energy - start_energy) / len(atoms))
        if drift > settings.max_drift_ev_per_atom:
            raise KickFailed(
                f"energy drift {1e3 * drift:.2f} meV/atom above {1e3 * settings.max_drift_ev_per_atom:g}"
            )
        if watch is not None:
            outcome = watch(atoms, velocities, elapsed)
            if outcome:
                return outcome, steps, elapsed, drift, velocities
    return None, steps, elapsed, drift, velocities


def _closest_pair(atoms: Atoms) -> float:
    distances = close_pairs(atoms, 1.2)[2]
    return float(distances.min()) if len(distances) else math.inf


class _Watcher:
    """Follows the kicked atom relative to the rest of the sheet; stops the run once the outcome is clear.

    Escaped: beyond every other atom by more than the potential's reach and still leaving. Spent: it has
    turned back (or stopped) and kept under a tenth of the kick's kinetic energy; the quench then decides
    where it came to rest.
    """

    def __init__(self, atoms: Atoms, site: KickSite, settings: KickSettings, energy_ev: float, probe=None):
        self.site, self.settings, self.energy_ev = site, settings, energy_ev
        # the calculator of the unbound test's far-away configuration: a DFT run keeps a second one, so
        # that the trajectory's SCF restarts from its own last density, not from the far geometry's
        self.probe = probe
        self.others = np.array([i for i in range(len(atoms)) if i != site.index])
        self.start = atoms.positions.copy()
        self.mass = float(atoms.get_masses()[site.index])
        self.start_energy = force_consistent_energy(atoms)
        self.turned = False
        self.calls = 0

    def relative_displacement(self, atoms: Atoms) -> np.ndarray:
        drift = (atoms.positions[self.others] - self.start[self.others]).mean(axis=0)
        return atoms.positions[self.site.index] - self.start[self.site.index] - drift

    def nearest_other(self, atoms: Atoms) -> float:
        return float(atoms.get_distances(self.site.index, self.others, mic=True).min())

    def unbound(self, atoms: Atoms, kinetic_ev: float) -> bool:
        """Its kinetic energy exceeds what it takes to go from here to beyond the potential's reach with
        the rest of the sheet frozen (the receding atom's own pull is all the sheet can still do)."""
        side = self.site.direction
        surface = float((atoms.positions[self.others, 2] * side).max())
        height = atoms.positions[self.site.index, 2] * side - surface
        if height < 2.0:
            return False
        far = atoms.copy()
        far.calc = self.probe or atoms.calc
        far.positions[self.site.index, 2] += side * max(0.0, self.settings.escape_distance_a - height)
        binding = force_consistent_energy(far) - force_consistent_energy(atoms)
        return kinetic_ev > binding

    def __call__(self, atoms: Atoms, velocities: np.ndarray, time_fs: float) -> str | None:
        velocity = velocities[self.site.index]
        along = float(velocity[2]) * self.site.direction
        kinetic = 0.5 * self.mass * float(velocity @ velocity)
        self.calls += 1
        # the unbound test costs one more energy: every third step is fine-grained enough
        if along > 0 and (self.nearest_other(atoms) > self.settings.escape_distance_a
                          or (self.calls % 3 == 0 and self.unbound(atoms, kinetic))):  # fmt: skip
            return SPUTTERED
        if along <= 0 and kinetic < 0.1 * self.energy_ev:
            return "spent"
        return None

    def end_of_window(self, atoms: Atoms, velocities: np.ndarray) -> str:
        """Without a quench: where the run stopped, unless the atom is still leaving - then sputtered if
        its kinetic energy beats what the frozen sheet still binds it with, else undecided."""
        velocity = velocities[self.site.index]
        if float(velocity[2]) * self.site.direction <= 0:
            return self.verdict(atoms)
        kinetic = 0.5 * self.mass * float(velocity @ velocity)
        return SPUTTERED if self.unbound(atoms, kinetic) else UNDECIDED

    def verdict(self, atoms: Atoms) -> str:
        """Where the kicked atom rests after the quench."""
        if self.nearest_other(atoms) > self.settings.escape_distance_a:
            return SPUTTERED
        if np.linalg.norm(self.relative_displacement(atoms)) < self.settings.return_radius_a:
            return RETURNED
        if force_consistent_energy(atoms) < self.start_energy - 0.05:
            return REARRANGED
        side = self.site.direction
        surface = float((atoms.positions[self.others, 2] * side).max())
        return ADATOM if atoms.positions[self.site.index, 2] * side > surface + 0.5 else FRENKEL


# FIRE's first time step for the quench, ASE units (its default 0.1): on the end states of eleven kicks
# of both default sheets (returned, Frenkel pair, adatom) it falls into the same minimum as the default
# (kicked atom within 0.05 A) in 28 % fewer force calls; 0.3 jumped to another minimum once. BFGS and
# LBFGS, fewer steps still, left the basin (an adatom 2 A off, a returned atom counted as a Frenkel pair).
QUENCH_FIRST_STEP = 0.2


def quench(atoms: Atoms, settings: KickSettings) -> int:
    """Relax the sheet after the run (velocities dropped): the outcome is the minimum it falls into.
    FIRE, inertial and bounded in its step, follows the run's basin where a quasi-Newton step may leave it."""
    from ase.optimize import FIRE

    optimizer = FIRE(atoms, logfile=None, dt=QUENCH_FIRST_STEP)
    optimizer.run(fmax=settings.relax_fmax_ev_per_a * 10, steps=settings.relax_steps)
    return optimizer.nsteps


def run_kick(sheet: Atoms, calculator, site: KickSite, energy_ev: float, settings: KickSettings,
             quench_after: bool = True, probe=None) -> KickRun:  # fmt: skip
    """Kick `site` with `energy_ev` along its direction, follow it, quench; retried with smaller steps on
    failure (a failed run is never counted as returned). Without the quench (the DFT check, which asks
    only whether the atom leaves) the verdict is taken where the run stopped. `probe`: a second
    calculator for the unbound test's far configuration (default: `calculator`)."""
    reasons = []
    for attempt in range(settings.retries + 1):
        scale = 0.5**attempt
        atoms = sheet.copy()
        atoms.calc = calculator
        velocities = np.zeros((len(atoms), 3))
        mass = atoms.get_masses()[site.index]
        velocities[site.index, 2] = site.direction * math.sqrt(2 * energy_ev / mass)
        watcher = _Watcher(atoms, site, settings, energy_ev, probe)
        started = time.perf_counter()
        try:
            outcome, steps, elapsed, drift, velocities = nve(atoms, velocities, settings, scale, watcher)
        except KickFailed as error:
            reasons.append(f"try {attempt + 1}: {error}")
            continue
        if outcome != SPUTTERED and quench_after:
            steps += quench(atoms, settings)
            outcome = watcher.verdict(atoms)
        elif outcome != SPUTTERED:
            outcome = watcher.end_of_window(atoms, velocities)
        return KickRun(energy_ev, outcome, "; ".join(reasons), steps, elapsed, drift,
                       float(np.linalg.norm(watcher.relative_displacement(atoms))), scale,
                       time.perf_counter() - started)  # fmt: skip
    return KickRun(
        energy_ev, FAILED, "; ".join(reasons), 0, 0.0, math.nan, math.nan, 0.5**settings.retries, 0.0
    )


@dataclass
class SiteThreshold:
    """The bisection of one site: T_d is the lowest kick that did not return (within resolution_ev)."""

    site: KickSite
    threshold_ev: float | None  # None: returned up to the highest kick, or failed
    bracket_ev: tuple[float, float]  # (highest kick that returned, lowest that did not)
    outcome: str  # what the atom did at T_d (or "returned" / "failed")
    note: str
    runs: list[KickRun]
    static_formation_ev: float | None = None  # E_f against the free atom with the same potential, relaxed
    seconds: float = 0.0
    sputtering_ev: float | None = None  # exit sites: the lowest kick that sputtered (>= T_d)
    sputtering_bracket_ev: tuple[float, float] = (math.nan, math.nan)


def bisect_threshold(
    run, low_ev: float, high_ev: float, resolution_ev: float
) -> tuple[float | None, tuple, str, str]:
    """Bisection on the kick energy. `run(T)` returns a KickRun; returns (T_d, bracket, outcome, note).

    The low end must return and the high end must not; a failed run stops the search and says so.
    """
    first = run(low_ev)
    if first.outcome == FAILED:
        return None, (math.nan, low_ev), FAILED, f"the run at {low_ev:g} eV failed: {first.reason}"
    if first.outcome != RETURNED:
        return low_ev, (0.0, low_ev), first.outcome, f"not returned already at the lowest kick {low_ev:g} eV"
    last = run(high_ev)
    if last.outcome == FAILED:
        return None, (low_ev, math.nan), FAILED, f"the run at {high_ev:g} eV failed: {last.reason}"
    if last.outcome == RETURNED:
        return None, (high_ev, math.inf), RETURNED, f"returned up to the highest kick {high_ev:g} eV"
    outcome, rearranged = last.outcome, last.outcome == REARRANGED
    while high_ev - low_ev > resolution_ev:
        middle = 0.5 * (low_ev + high_ev)
        trial = run(middle)
        if trial.outcome == FAILED:
            return None, (low_ev, high_ev), FAILED, f"the run at {middle:.3f} eV failed: {trial.reason}"
        if trial.outcome == RETURNED:
            low_ev = middle
        else:
            high_ev, outcome = middle, trial.outcome
            rearranged = rearranged or outcome == REARRANGED
    note = (
        "the sheet rearranged into a lower minimum after some kicks: it is metastable with this "
        "potential, and T_d is not a displacement threshold"
        if rearranged
        else ""
    )
    return high_ev, (low_ev, high_ev), outcome, note


class RunLog:
    """The runs of one sheet, kept in a JSON file after every run: an interrupted job redoes none of them."""

    def __init__(self, path: Path, write: bool = True):
        self.path, self.write = Path(path), write  # under MPI only rank 0 writes
        self.runs: dict[str, dict] = json.loads(self.path.read_text()) if self.path.exists() else {}

    @staticmethod
    def key(site: KickSite, energy_ev: float) -> str:
        return f"{site.index}:{site.direction}:{energy_ev:.6f}"

    def get(self, site: KickSite, energy_ev: float) -> KickRun | None:
        stored = self.runs.get(self.key(site, energy_ev))
        return KickRun(**stored) if stored else None

    def put(self, site: KickSite, run: KickRun) -> None:
        self.runs[self.key(site, run.energy_ev)] = asdict(run)
        if self.write:
            atomic_write_text(self.path, json.dumps(self.runs, indent=1))


def site_threshold(sheet: Atoms, calculator, site: KickSite, settings: KickSettings, high_ev: float,
                   log: RunLog) -> SiteThreshold:  # fmt: skip
    """Bisect T_d of one site (runs taken from `log` where done before); for an exit site also the
    sputtering threshold, the lowest kick after which the atom leaves the sheet (an atom displaced to a
    nearby site is not removed by the beam)."""
    runs: list[KickRun] = []

    def run(energy_ev: float) -> KickRun:
        done = log.get(site, energy_ev)
        if done is None:
            done = run_kick(sheet, calculator, site, energy_ev, settings)
            log.put(site, done)
        runs.append(done)
        return done

    threshold, bracket, outcome, note = bisect_threshold(
        run, settings.min_kick_ev, high_ev, settings.resolution_ev
    )
    deciding = [r for r in runs if r.energy_ev in bracket and r.time_fs >= settings.duration_fs]
    if deciding:  # the quench, not the dynamics, decided: a soft sheet whose atom was still on its way
        slow = (f"the runs at T_d reached duration_fs ({settings.duration_fs:g} fs) before the atom settled: "
                "T_d depends on the run length")  # fmt: skip
        note = "; ".join(filter(None, [note, slow]))
    result = SiteThreshold(site, threshold, bracket, outcome, note, runs)
    if site.role == "exit" and threshold is not None:
        result.sputtering_ev, result.sputtering_bracket_ev = sputtering_threshold(
            run, runs, settings.resolution_ev
        )
    result.seconds = sum(r.seconds for r in runs)  # the runs' own time: also right when resumed
    return result


def sputtering_threshold(run, runs: list[KickRun], resolution_ev: float) -> tuple[float | None, tuple]:
    """Bisection between the highest kick that did not sputter and the lowest that did (runs so far)."""
    sputtered = [r.energy_ev for r in runs if r.outcome == SPUTTERED]
    if not sputtered:
        return None, (max(r.energy_ev for r in runs), math.inf)
    high = min(sputtered)
    low = max((r.energy_ev for r in runs if r.outcome != SPUTTERED and r.energy_ev < high), default=0.0)
    while high - low > resolution_ev:
        middle = 0.5 * (low + high)
        trial = run(middle)
        if trial.outcome == FAILED:
            return None, (low, high)
        low, high = (low, middle) if trial.outcome == SPUTTERED else (middle, high)
    return high, (low, high)


def static_formation_energy(sheet: Atoms, calculator, site: KickSite, atom_energy_ev: float,
                            settings: KickSettings) -> float:  # fmt: skip
    """E_f = E(sheet without the atom, relaxed) + E(free atom) - E(sheet), all with `calculator`, eV."""
    from ase.optimize import BFGS

    vacancy = sheet.copy()
    del vacancy[site.index]
    vacancy.calc = calculator
    BFGS(vacancy, logfile=None).run(fmax=settings.relax_fmax_ev_per_a * 5, steps=settings.relax_steps)
    sheet = sheet.copy()
    sheet.calc = calculator
    return float(vacancy.get_potential_energy() + atom_energy_ev - sheet.get_potential_energy())


def free_atom_energy(species: str, calculator, box_a: float = 12.0) -> float:
    atom = Atoms(species, positions=[(box_a / 2,) * 3], cell=[box_a] * 3, pbc=True)
    atom.calc = calculator
    return float(atom.get_potential_energy())


def collision_calculator(settings: KickSettings):
    """The settings' MLIP with the ZBL repulsion added."""
    from nanophase.calculators.mlip_calc import mlip_calculator
    from nanophase.collisions import with_repulsion

    return with_repulsion(mlip_calculator(settings.model, stress=False), settings.repulsion)


def relaxed_sheet(slab: Atoms, calculator, settings: KickSettings, workdir: Path) -> tuple[Atoms, dict]:
    """The kick supercell relaxed with the collision calculator (kept in workdir: done once)."""
    from ase.io import read, write
    from ase.optimize import BFGS

    path = workdir / "relaxed-sheet.extxyz"
    if path.exists():
        sheet = read(path)
        sheet.calc = calculator
        return sheet, json.loads((workdir / "relaxed-sheet.json").read_text())
    sheet = kick_supercell(slab, settings.min_lateral_a, settings.escape_distance_a + 4.0)
    sheet.calc = calculator
    optimizer = BFGS(sheet, logfile=None)
    converged = bool(optimizer.run(fmax=settings.relax_fmax_ev_per_a, steps=settings.relax_steps))
    info = {"atoms": len(sheet), "supercell": sheet.info["kick_supercell"], "relax_steps": optimizer.nsteps,
            "relax_converged": converged, "max_force_ev_per_a": float(np.abs(sheet.get_forces()).max()),
            "energy_ev": float(sheet.get_potential_energy())}  # fmt: skip
    stored = sheet.copy()
    stored.calc = None
    with atomic_path(path) as tmp:
        write(tmp, stored, format="extxyz")
    atomic_write_text(workdir / "relaxed-sheet.json", json.dumps(info))
    return sheet, info


def sheet_thresholds(slab: Atoms, name: str, settings: KickSettings, highest_kick_ev: dict[str, float],
                     workdir: str | Path, small_cell: bool = False) -> dict:  # fmt: skip
    """T_d of every requested site of one sheet (a pristine slab), as a JSON-ready record.

    `highest_kick_ev` is the top of the bisection per species (E_max at the study's highest voltage, with
    a margin for thermal motion): a site that returns up there cannot be displaced by the study's beams.
    """
    from nanophase.calculators.mlip_calc import model_version

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    calculator = collision_calculator(settings)
    sheet, sheet_info = relaxed_sheet(slab, calculator, settings, workdir)
    log = RunLog(workdir / "runs.json")
    atom_energies = {s: free_atom_energy(s, calculator) for s in settings.species}
    results = []
    for site in kick_sites(sheet, settings):
        high = settings.max_kick_ev or highest_kick_ev[site.species]
        threshold = site_threshold(sheet, calculator, site, settings, high, log)
        atom_energy = atom_energies[site.species]
        threshold.static_formation_ev = static_formation_energy(
            sheet, calculator, site, atom_energy, settings
        )
        results.append(threshold)
    record = {
        "sheet": name,
        "model": settings.model,
        "model_version": model_version(settings.model),
        "settings": settings.record(),
        "sheet_info": sheet_info,
        "sites": [_site_record(r) for r in results],
    }
    lowest = lowest_site(record)
    if small_cell and lowest is not None:  # the DFT check's counterpart: the same site on the small cell
        high = settings.max_kick_ev or highest_kick_ev[lowest["site"]["species"]]
        record["small_cell"] = small_cell_threshold(
            slab, settings, lowest["site"], high, workdir / "small-cell"
        )
    return record


def _site_record(result: SiteThreshold) -> dict:
    record = asdict(result)
    record["site"]["label"] = result.site.label
    record["runs"] = len(result.runs)
    record["md_steps"] = sum(r.steps for r in result.runs)
    record["failed_runs"] = sum(1 for r in result.runs if r.outcome == FAILED or r.reason)
    record["run_log"] = [asdict(r) for r in result.runs]
    return record


# --- the DFT check --------------------------------------------------------------------------------------
# Born-Oppenheimer MD on the sheet's primitive in-plane cell (a 2x2 kick cell is out of reach of a laptop),
# for the site with the lowest MLIP sputtering threshold. By default in LCAO mode (dzp basis, 0.3 A grid)
# at the Gamma point with the study's functional and smearing: an MD step then costs a few LCAO SCF
# iterations restarted from the previous step's density (~4 s for the 12-atom wurtzite cell on 2 cores),
# where the plane-wave set-up cost 10-30 min per kick. The MLIP is bisected on the same small cell, so
# the two are compared like for like; the DFT side brackets its threshold with a few kicks around the
# MLIP one (a coarser bisection than the MLIP's, see next_check_kick).


FAR_MARGIN_A = 4.0  # vacuum beyond the far configuration's atom, angstrom


@dataclass(frozen=True)
class DFTCheckSettings:
    """knockon.dft_check of the config."""

    enabled: bool = False
    sheets: tuple[str, ...] = ()
    half_width_ev: float = 0.5
    duration_fs: float = 200.0
    max_runs: int = 4
    mode: str = "lcao"
    basis: str = "dzp"
    # LCAO grid: on the wurtzite check cell, lifting the Se 2 A out of its site costs 3.7995 / 3.7988 /
    # 3.7972 eV at 0.2 / 0.25 / 0.3 A (the force there moves by 6 %, the grid's egg-box ripple, which the
    # work over the path averages out), with 0.58x the grid points of 0.25 A
    grid_spacing_a: float = 0.3
    gamma_only: bool = True

    def calc_settings(self, study: CalcSettings) -> CalcSettings:
        """The study's DFT settings with the check's mode, basis and grid."""
        return replace(study, mode=self.mode, basis=self.basis, grid_spacing_a=self.grid_spacing_a)

    def mesh(self, atoms: Atoms, study: CalcSettings) -> tuple[int, int, int]:
        return (1, 1, 1) if self.gamma_only else kpoint_mesh(atoms, study.kpoint_length_a)

    def describe(self, study: CalcSettings, mesh: tuple[int, int, int]) -> str:
        """'PBE, LCAO dzp (h 0.30 A), Gamma point, ...' - what the check ran with, for captions."""
        if self.mode == "lcao":
            basis = f"LCAO {self.basis} (h {study.grid_spacing_a:.2f} A)"
        else:
            basis = f"PW {study.encut_ev:g} eV"
        kpoints = "Gamma point" if tuple(mesh) == (1, 1, 1) else "x".join(map(str, mesh)) + " k-points"
        return f"{study.functional}, {basis}, {kpoints}, {study.smearing} smearing {study.smearing_ev:g} eV"

    @classmethod
    def from_config(cls, cfg: dict | None) -> DFTCheckSettings:
        cfg = dict(cfg or {})
        return cls(**{**cfg, "sheets": tuple(cfg.get("sheets", ()))})


def lowest_site(record: dict) -> dict | None:
    """The exit site with the lowest sputtering threshold of a sheet record (None if none sputtered)."""
    sputtered = [s for s in record["sites"] if s["sputtering_ev"] is not None]
    return min(sputtered, key=lambda s: s["sputtering_ev"]) if sputtered else None


def same_site(sheet: Atoms, settings: KickSettings, like: dict) -> KickSite:
    """The site of `sheet` in the same place as `like` (a site record of another cell of the same slab)."""
    wanted = replace(settings, species=(like["species"],), roles=(like["role"],), depths=(like["depth"],))
    sites = [s for s in kick_sites(sheet, wanted) if s.face == like["face"]]
    return sites[0]


def small_cell_threshold(
    slab: Atoms, settings: KickSettings, like: dict, high_ev: float, workdir: Path
) -> dict:
    """The MLIP thresholds of the site `like` on the slab's own in-plane cell (the DFT check's cell)."""
    small = replace(settings, min_lateral_a=0.0)
    calculator = collision_calculator(small)
    sheet, info = relaxed_sheet(slab, calculator, small, workdir)
    site = same_site(sheet, small, like)
    result = site_threshold(sheet, calculator, site, small, high_ev, RunLog(workdir / "runs.json"))
    return {
        "site": site.label,
        "index": site.index,
        "atoms": info["atoms"],
        "threshold_ev": result.threshold_ev,
        "sputtering_ev": result.sputtering_ev,
        "sputtering_bracket_ev": result.sputtering_bracket_ev,
        "seconds": result.seconds,
    }


def check_bracket(runs: list[KickRun]) -> tuple[float, float]:
    """(the highest kick kept below the lowest that sputtered, the lowest that sputtered); NaN where none.
    Failed and undecided runs count as neither."""
    sputtered = min((r.energy_ev for r in runs if r.outcome == SPUTTERED), default=math.nan)
    kept = [r.energy_ev for r in runs if r.outcome not in (SPUTTERED, FAILED, UNDECIDED)]
    below = [e for e in kept if math.isnan(sputtered) or e < sputtered]
    return max(below, default=math.nan), sputtered


def next_check_kick(
    runs: list[KickRun], mlip_ev: float, half_width_ev: float, min_kick_ev: float
) -> float | None:
    """The next kick of the DFT check, each run chosen by the ones before (None: nothing left to learn).

    First T_MLIP + half_width: kept there, the MLIP's threshold is too low (it overstates beam damage), and
    the next kick goes a full width higher; sputtered, the next goes a full width lower, below T_MLIP.
    Once kept and sputtered kicks bracket the threshold, the rest bisect the bracket. A run that failed or
    ended undecided counts as neither and moves the search on (a higher kick)."""
    if not runs:
        return round(mlip_ev + half_width_ev, 6)
    low, high = check_bracket(runs)
    if math.isnan(high):
        energy = (runs[-1].energy_ev if math.isnan(low) else low) + 2 * half_width_ev
    elif math.isnan(low):
        energy = high - 2 * half_width_ev
        if energy < min_kick_ev:
            return None
    else:
        energy = 0.5 * (low + high)
    energy = round(energy, 6)
    return None if energy in {r.energy_ev for r in runs} else energy


def dft_check(slab: Atoms, calculator, record: dict, settings: KickSettings, check: DFTCheckSettings,
              log: RunLog, probe=None) -> dict:  # fmt: skip
    """Kicks with `calculator` (GPAW) around the MLIP small-cell sputtering threshold of the record's lowest
    site (next_check_kick), at most check.max_runs: the lowest kick that sputtered and the highest below it
    that did not (`probe`: the unbound test's calculator, see run_kick)."""
    started = time.perf_counter()
    mlip = record["small_cell"]
    # room for the unbound test's far configuration (the atom escape_distance_a out) and its localised
    # functions (the Se dzp basis reaches 3.8 A): GPAW refuses an atom whose functions cross the box
    sheet = kick_supercell(slab, 0.0, settings.escape_distance_a + FAR_MARGIN_A)
    like = lowest_site(record)["site"]
    site = same_site(sheet, settings, like)
    sheet.pbc = (True, True, False)  # GPAW: zero boundary conditions along the normal
    md = replace(settings, duration_fs=check.duration_fs)
    runs = []
    while len(runs) < check.max_runs:
        energy = next_check_kick(runs, mlip["sputtering_ev"], check.half_width_ev, settings.min_kick_ev)
        if energy is None:
            break
        run = log.get(site, energy)
        if run is None:
            run = run_kick(sheet, calculator, site, energy, md, quench_after=False, probe=probe)
            log.put(site, run)
        runs.append(run)
    return {
        "sheet": record["sheet"],
        "site": site.label,
        "atoms": len(sheet),
        "sputtering_bracket_ev": check_bracket(runs),
        "mlip_small_cell": mlip,
        "runs": [asdict(r) for r in runs],
        "md_steps": sum(r.steps for r in runs),
        "seconds": time.perf_counter() - started,
    }
