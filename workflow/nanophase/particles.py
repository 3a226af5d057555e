"""Nanocrystal models: spheres, Wulff shapes and PbS@CdS core-shell particles cut from bulk lattices."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from scipy.spatial import cKDTree

from nanophase.bulk import cation_anion

# Region labels stored per atom (array "region" of the extxyz file)
REGIONS = ("core", "interlayer", "shell")
# Coordination of a cation or anion in the bulk of each prototype (hetero-atomic nearest neighbours)
BULK_COORDINATION = {"rocksalt": 6, "zincblende": 4, "wurtzite": 4, "fcc": 12, "hcp": 12}
# Phases of a core-shell particle's shell, and the prototype of each
SHELL_PHASES = {"rocksalt": "rocksalt", "zincblende": "zincblende"}


def _anion_origin(bulk: Atoms) -> np.ndarray:
    """Cartesian position of the first anion of a binary bulk cell: the particle's centre sits on it."""
    _, anion = cation_anion(bulk.get_chemical_symbols())
    index = bulk.get_chemical_symbols().index(anion)
    return bulk.positions[index].copy()


def lattice_sites(bulk: Atoms, radius_a: float) -> Atoms:
    """All sites of a bulk crystal within radius_a of an anion placed at the origin.

    The conventional cell is tiled far enough in every direction to cover the sphere (the tiling is
    measured with the cell's plane spacings, so it holds for non-orthogonal cells as well).

    Args:
        bulk: the conventional cell of a crystal.
        radius_a: cut-off radius in angstrom.
    """
    cell = np.asarray(bulk.cell)
    spacings = 1.0 / np.linalg.norm(np.linalg.inv(cell).T, axis=1)
    reps = np.ceil(radius_a / spacings).astype(int) + 1
    grid = np.stack(np.meshgrid(*(np.arange(-n, n + 1) for n in reps), indexing="ij"), axis=-1).reshape(-1, 3)
    translations = grid @ cell
    basis = bulk.positions - _anion_origin(bulk)
    positions = (translations[:, None, :] + basis[None, :, :]).reshape(-1, 3)
    symbols = np.tile(np.array(bulk.get_chemical_symbols()), len(translations))
    keep = np.linalg.norm(positions, axis=1) <= radius_a + 1e-9
    return Atoms(symbols=list(symbols[keep]), positions=positions[keep])


def scaled_to(bulk: Atoms, lattice_a: float) -> Atoms:
    """A cubic bulk cell scaled isotropically to the lattice parameter lattice_a (angstrom)."""
    scaled = bulk.copy()
    scaled.set_cell(np.asarray(bulk.cell) * lattice_a / bulk.cell.lengths()[0], scale_atoms=True)
    return scaled


@dataclass(frozen=True)
class ShellGeometry:
    """Radii (angstrom) of a core-shell particle: core, rock-salt interlayer and outer surface."""

    core_radius_a: float
    interlayer_radius_a: float
    radius_a: float

    def region(self, radii: np.ndarray) -> np.ndarray:
        """Region index (REGIONS) of sites at the given distances from the centre."""
        # a zero radius is an empty region (not the one site at the centre)
        in_core = (radii <= self.core_radius_a + 1e-9) & (self.core_radius_a > 0)
        in_interlayer = (radii <= self.interlayer_radius_a + 1e-9) & (
            self.interlayer_radius_a > self.core_radius_a
        )
        return np.where(in_core, 0, np.where(in_interlayer, 1, 2))


def core_shell(
    core: Atoms,
    shell: Atoms,
    geometry: ShellGeometry,
    interlayer: Atoms | None = None,
) -> Atoms:
    """A core-shell particle: the core crystal inside core_radius_a, the shell crystal outside it.

    The published construction (cation-exchange study, Debye-scattering models): both phases share
    the orientation and origin of the anion (S) sublattice, each at its own bulk lattice parameter,
    cut as concentric spheres and not relaxed. A rock-salt interlayer (same anion lattice as the shell)
    fills core_radius_a < r <= interlayer_radius_a under a zinc blende shell.

    Args:
        core, shell, interlayer: conventional cells of the phases (anion sublattices of the same type).
        geometry: the radii.

    Returns:
        Atoms with per-atom arrays "region" (0 core, 1 interlayer, 2 shell) and "radius_a".
    """
    parts = []
    for index, crystal in enumerate((core, interlayer if interlayer is not None else shell, shell)):
        sites = lattice_sites(crystal, geometry.radius_a)
        radii = np.linalg.norm(sites.positions, axis=1)
        sites = sites[geometry.region(radii) == index]
        sites.new_array("region", np.full(len(sites), index, dtype=int))
        parts.append(sites)
    particle = parts[0] + parts[1] + parts[2]
    particle.new_array("radius_a", np.linalg.norm(particle.positions, axis=1))
    return particle


def conversion_fraction(atoms: Atoms) -> float:
    """Fraction of the cations in the shell phases (the cations exchanged): N_shell / N_cations."""
    if len(set(atoms.get_chemical_symbols())) == 1:
        return 0.0
    cation, anion = _cation_anion_of_particle(atoms)
    is_cation = np.array([s != anion for s in atoms.get_chemical_symbols()])
    regions = atoms.arrays["region"] if "region" in atoms.arrays else np.zeros(len(atoms), int)
    n_cations = int(is_cation.sum())
    return float((is_cation & (regions > 0)).sum() / n_cations) if n_cations else 0.0


def _cation_anion_of_particle(atoms: Atoms) -> tuple[str, str]:
    """The common anion of a particle of one or two binary compounds sharing the anion (PbS/CdS)."""
    symbols = set(atoms.get_chemical_symbols())
    anions = [s for s in symbols if s in ("S", "Se", "Te", "O")]
    if len(anions) != 1:
        raise ValueError(f"a particle needs exactly one anion species, found {sorted(symbols)}")
    cations = sorted(symbols - set(anions))
    return ",".join(cations), anions[0]


def core_radius_for_conversion(
    core: Atoms,
    shell: Atoms,
    radius_a: float,
    target: float,
    interlayer_a: float = 0.0,
    interlayer: Atoms | None = None,
) -> ShellGeometry:
    """The core radius whose particle has the conversion fraction closest to target.

    The cation counts are step functions of the core radius, so the candidates are the distinct
    cation radii of both phases (and 0): every distinct particle is tried once.
    """
    if not 0.0 <= target <= 1.0:
        raise ValueError(f"conversion fraction must be within [0, 1], got {target}")

    def cation_radii(crystal: Atoms) -> np.ndarray:
        sites = lattice_sites(crystal, radius_a)
        _, anion = cation_anion(crystal.get_chemical_symbols())
        return np.sort(
            np.linalg.norm(sites.positions[np.array(sites.get_chemical_symbols()) != anion], axis=1)
        )

    core_radii = cation_radii(core)
    shell_radii = cation_radii(shell)
    interlayer_radii = cation_radii(interlayer) if interlayer is not None else shell_radii
    # the fraction changes where the core boundary passes a shell of equidistant cations of either
    # phase: one candidate per such shell, its largest radius (radii of one shell differ by rounding)
    radii = np.unique(np.concatenate([core_radii, shell_radii, interlayer_radii]))
    last_of_shell = np.append(np.diff(radii) > 1e-6, True)
    candidates = np.concatenate([[0.0], radii[last_of_shell], [radius_a]])

    def count(radii: np.ndarray, outer: np.ndarray) -> np.ndarray:
        return np.searchsorted(radii, outer + 1e-9, side="right")

    outer_interlayer = np.minimum(candidates + interlayer_a, radius_a)
    n_core = count(core_radii, candidates)
    # every cation outside the core is exchanged, in the rock-salt interlayer or the shell
    n_exchanged = (count(interlayer_radii, outer_interlayer) - count(interlayer_radii, candidates)) + (
        len(shell_radii) - count(shell_radii, outer_interlayer)
    )
    fractions = n_exchanged / np.maximum(n_core + n_exchanged, 1)
    # ties: several core radii can give the same cation counts (the boundary passing S atoms only);
    # below half conversion the largest core is taken, above it the smallest, so that 0 and 1 are the
    # pure PbS and pure CdS particles, without a stray layer of the other phase's S lattice
    error = np.abs(fractions - target)
    best = np.nonzero(error <= error.min() + 1e-12)[0]
    core_radius = float(candidates[best[-1] if target < 0.5 else best[0]])
    return ShellGeometry(core_radius, min(core_radius + interlayer_a, radius_a), radius_a)


def coordination_numbers(atoms: Atoms, cutoff_a: float) -> np.ndarray:
    """Number of hetero-atomic neighbours (cation-anion bonds) of every atom within cutoff_a."""
    i, j = bonded_pairs(atoms.positions, cutoff_a)
    symbols = np.array(atoms.get_chemical_symbols())
    if len(set(symbols)) == 1:  # an element: every neighbour counts
        return np.bincount(np.concatenate([i, j]), minlength=len(atoms))
    _, anion = _cation_anion_of_particle(atoms)
    hetero = (symbols[i] == anion) != (symbols[j] == anion)
    return np.bincount(np.concatenate([i[hetero], j[hetero]]), minlength=len(atoms))


def bonded_pairs(positions: np.ndarray, cutoff_a: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of a finite cluster closer than cutoff_a (k-d tree; no periodic images)."""
    pairs = cKDTree(positions).query_pairs(cutoff_a, output_type="ndarray")
    return pairs[:, 0], pairs[:, 1]


def bond_cutoff(nearest_neighbour_a: float) -> float:
    """Bond cut-off between the first and second hetero-atomic shells of rock salt and zinc blende.

    1.25 x the nearest-neighbour distance: the next cation-anion shell is at sqrt(3) (rock salt) or
    sqrt(11/3) (zinc blende) times the bond, and like atoms are not counted.
    """
    return 1.25 * nearest_neighbour_a


@dataclass(frozen=True)
class ParticleSummary:
    """What a particle is: counts, size, conversion and surface sites by coordination."""

    name: str
    n_atoms: int
    composition: dict[str, int]
    diameter_nm: float
    gyration_diameter_nm: float
    conversion_fraction: float
    bulk_coordination: dict[str, int]
    surface_sites: dict[str, int] = field(default_factory=dict)
    interface_sites: dict[str, int] = field(default_factory=dict)
    shortest_distance_a: float = 0.0

    def row(self) -> dict:
        row = {
            "particle": self.name,
            "atoms": self.n_atoms,
            "composition": " ".join(f"{el}{n}" for el, n in sorted(self.composition.items())),
            "diameter (nm)": round(self.diameter_nm, 3),
            "gyration diameter (nm)": round(self.gyration_diameter_nm, 3),
            "conversion fraction": round(self.conversion_fraction, 4),
            "shortest distance (A)": round(self.shortest_distance_a, 3),
        }
        row["surface sites"] = "; ".join(f"{k}: {v}" for k, v in self.surface_sites.items())
        row["surface atoms"] = sum(self.surface_sites.values())
        row["under-coordinated interface sites"] = (
            "; ".join(f"{k}: {v}" for k, v in self.interface_sites.items()) or "none"
        )
        return row


def _site_counts(symbols: np.ndarray, coordination: np.ndarray, mask: np.ndarray) -> dict[str, int]:
    """Counts of the masked atoms by species and coordination, e.g. {"S CN3": 48}."""
    keys = sorted({(str(s), int(c)) for s, c in zip(symbols[mask], coordination[mask], strict=True)})
    return {f"{s} CN{c}": int(((symbols == s) & (coordination == c) & mask).sum()) for s, c in keys}


def diameter_a(atoms: Atoms) -> float:
    """Twice the largest distance of an atom from the particle's centre (mean position), angstrom."""
    return 2 * float(np.linalg.norm(atoms.positions - atoms.positions.mean(axis=0), axis=1).max())


def summarise(
    atoms: Atoms, name: str, nearest_neighbour_a: float, bulk_coordination: dict[int, int]
) -> ParticleSummary:
    """Counts, size and surface sites of a particle.

    Surface sites are atoms with fewer hetero-atomic neighbours than in their bulk phase, counted by
    species and coordination ("S CN3": sulfur with three cation neighbours). The diameter is twice
    the largest distance of an atom from the centre of mass; the gyration diameter is 2 sqrt(5/3) R_g,
    the diameter of the uniform sphere with the same radius of gyration.

    Args:
        nearest_neighbour_a: the longest cation-anion bond among the particle's phases (for the cut-off).
        bulk_coordination: region index -> coordination of an atom in that region's bulk.
    """
    symbols = np.array(atoms.get_chemical_symbols())
    centred = atoms.positions - atoms.positions.mean(axis=0)
    radii = np.linalg.norm(centred, axis=1)
    coordination = coordination_numbers(atoms, bond_cutoff(nearest_neighbour_a))
    regions = atoms.arrays["region"] if "region" in atoms.arrays else np.zeros(len(atoms), int)
    expected = np.array([bulk_coordination[int(r)] for r in regions])
    under = coordination < expected
    # outer surface: within 1.5 bonds of the largest radius; under-coordinated atoms deeper in are at
    # the (unrelaxed, mismatched) core-shell interface
    outer = radii > radii.max() - 1.5 * nearest_neighbour_a
    surface = _site_counts(symbols, coordination, under & outer)
    interface = _site_counts(symbols, coordination, under & ~outer)
    distances, _ = cKDTree(atoms.positions).query(atoms.positions, k=2)
    return ParticleSummary(
        name=name,
        n_atoms=len(atoms),
        composition={s: int((symbols == s).sum()) for s in sorted(set(symbols))},
        diameter_nm=diameter_a(atoms) / 10,
        gyration_diameter_nm=2 * np.sqrt(5 / 3) * np.sqrt((radii**2).mean()) / 10,
        conversion_fraction=conversion_fraction(atoms),
        bulk_coordination={REGIONS[int(r)]: bulk_coordination[int(r)] for r in sorted(set(regions))},
        surface_sites=surface,
        interface_sites=interface,
        shortest_distance_a=float(distances[:, 1].min()) if len(atoms) > 1 else float("nan"),
    )


def bond_length_a(bulk: Atoms) -> float:
    """Nearest cation-anion distance of a rock-salt or zinc blende/wurtzite crystal (A)."""
    from ase.neighborlist import neighbor_list

    i, j, d = neighbor_list("ijd", bulk, 4.0)
    symbols = np.array(bulk.get_chemical_symbols())
    hetero = symbols[i] != symbols[j] if len(set(symbols)) > 1 else np.ones(len(d), bool)
    return float(d[hetero].min())


@dataclass(frozen=True)
class ParticleSpec:
    """One particle of the study, from the `particles` block (a conversion series gives one per fraction)."""

    key: str
    kind: str
    name: str
    diameter_nm: float | None = None
    bulk: str | None = None
    lattice_a: float | None = None
    surface_energies: tuple[tuple[str, float], ...] = ()
    core: str | None = None
    shell: str | None = None
    shell_lattice_a: float | None = None
    interlayer: str | None = None
    interlayer_nm: float = 0.0
    conversion: float | None = None
    shell_nm: float | None = None  # a shell (interlayer included) of this thickness instead of a conversion
    file: str | None = None
    species: str | None = None
    precision_pm: float = 19.0
    copies: int = 8

    @property
    def series(self) -> str:
        """The conversion series a particle belongs to (its config key)."""
        return self.key


REQUIRED_KEYS = {
    "sphere": ("bulk", "diameter_nm"),
    "wulff": ("bulk", "diameter_nm", "surface_energies"),
    "core_shell": ("core", "shell", "diameter_nm"),
    "measured": ("file", "bulk"),
}


def particle_specs(particles: dict, bulk_prototypes: dict[str, str]) -> list[ParticleSpec]:
    """Every particle of the `particles` config block, checked against the study's bulk references.

    Raises:
        ValueError: naming the key (particles.<name>.<key>) and what is allowed.
    """
    specs = []
    for key, entry in particles.items():
        kind = entry["kind"]
        where = f"particles.{key}"
        for needed in REQUIRED_KEYS[kind]:
            if entry.get(needed) in (None, [], {}):
                raise ValueError(f"{where}.{needed}: required for kind {kind}")
        for role in ("bulk", "core", "shell", "interlayer"):
            ref = entry.get(role)
            if ref is not None and ref not in bulk_prototypes:
                raise ValueError(
                    f"{where}.{role}: {ref!r} is not a bulk reference; allowed: {sorted(bulk_prototypes)}"
                )
        # built particles are centred on an anion of a binary crystal; measured ones may be elements
        allowed = sorted(BULK_COORDINATION) if kind == "measured" else ["rocksalt", "wurtzite", "zincblende"]
        if kind in ("sphere", "wulff", "measured") and bulk_prototypes[entry["bulk"]] not in allowed:
            raise ValueError(
                f"{where}.bulk: {entry['bulk']} is {bulk_prototypes[entry['bulk']]}; allowed prototypes: "
                f"{allowed}"
            )
        if kind == "wulff" and bulk_prototypes[entry["bulk"]] not in ("rocksalt", "zincblende"):
            raise ValueError(
                f"{where}.bulk: Wulff shapes are built for cubic rocksalt/zincblende bulks, not "
                f"{bulk_prototypes[entry['bulk']]}"
            )
        common = dict(key=key, kind=kind, diameter_nm=entry.get("diameter_nm"))
        if kind == "core_shell":
            if bulk_prototypes[entry["core"]] != "rocksalt":
                raise ValueError(
                    f"{where}.core: must be a rocksalt bulk (PbS), got {bulk_prototypes[entry['core']]}"
                )
            shell_phase = bulk_prototypes[entry["shell"]]
            if shell_phase not in SHELL_PHASES:
                raise ValueError(f"{where}.shell: must be rocksalt or zincblende, got {shell_phase}")
            interlayer = entry.get("interlayer")
            if interlayer is not None and (
                shell_phase != "zincblende" or bulk_prototypes[interlayer] != "rocksalt"
            ):
                raise ValueError(
                    f"{where}.interlayer: a rocksalt interlayer goes under a zincblende shell only"
                )
            if entry.get("interlayer_nm", 0) > 0 and interlayer is None:
                raise ValueError(f"{where}.interlayer_nm: set `interlayer` (the rocksalt bulk) as well")
            conversions, shells = entry.get("conversions") or [], entry.get("shells_nm") or []
            if bool(conversions) == bool(shells):
                raise ValueError(
                    f"{where}: give either conversions (fractions) or shells_nm (thicknesses), one of them"
                )
            radius_nm = entry["diameter_nm"] / 2
            for thickness in shells:
                if not 0 <= thickness <= radius_nm:
                    raise ValueError(
                        f"{where}.shells_nm: {thickness} is outside [0, {radius_nm}] (the radius)"
                    )
            series = [(f"{key}_c{f:.2f}", float(f), None) for f in conversions]
            series += [(f"{key}_s{t:.2f}nm", None, float(t)) for t in shells]
            for name, fraction, thickness in series:
                specs.append(
                    ParticleSpec(
                        **common,
                        name=name,
                        core=entry["core"],
                        shell=entry["shell"],
                        shell_lattice_a=entry.get("shell_lattice_a"),
                        interlayer=interlayer,
                        interlayer_nm=float(entry.get("interlayer_nm", 0.0)),
                        conversion=fraction,
                        shell_nm=thickness,
                    )
                )
        elif kind == "measured":
            specs.append(ParticleSpec(
                **common, name=key, bulk=entry["bulk"], file=entry["file"], species=entry.get("species"),
                precision_pm=float(entry.get("precision_pm", 19.0)), copies=int(entry.get("copies", 8)),
            ))  # fmt: skip
        else:
            energies = tuple(sorted((k, float(v)) for k, v in (entry.get("surface_energies") or {}).items()))
            specs.append(
                ParticleSpec(
                    **common,
                    name=key,
                    bulk=entry["bulk"],
                    lattice_a=entry.get("lattice_a"),
                    surface_energies=energies,
                )
            )
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(
            f"particles: two particles share a name: {sorted(n for n in names if names.count(n) > 1)}"
        )
    return specs


def _miller(label: str) -> tuple[int, int, int]:
    return tuple(int(c) for c in label)  # type: ignore[return-value]


def wulff_particle(bulk: Atoms, surface_energies: tuple[tuple[str, float], ...], diameter_nm: float) -> Atoms:
    """A Wulff-shaped particle of a cubic crystal (wulffpack), sized to the equal-volume sphere."""
    from ase.build import bulk as ase_bulk
    from wulffpack import SingleCrystal

    cation, anion = cation_anion(bulk.get_chemical_symbols())
    a = bulk.cell.lengths()[0]
    crystal = "rocksalt" if bulk.info.get("prototype") == "rocksalt" else "zincblende"
    primitive = ase_bulk(f"{cation}{anion}", crystal, a=a)
    volume_per_atom = bulk.get_volume() / len(bulk)
    natoms = int(round(np.pi / 6 * (diameter_nm * 10) ** 3 / volume_per_atom))
    particle = SingleCrystal({_miller(k): v for k, v in surface_energies}, primitive_structure=primitive,
                             natoms=natoms).atoms  # fmt: skip
    particle.set_cell(np.zeros((3, 3)))
    particle.pbc = False
    particle.positions -= particle.positions.mean(axis=0)
    return particle


def build_particle(spec: ParticleSpec, bulks: dict[str, Atoms]) -> Atoms:
    """The atoms of one particle (not the measured kind), centred at the origin, with its metadata.

    Per-atom array "region" (0 core, 1 interlayer, 2 shell); info: the bond length and bulk
    coordination of each region (for the surface-site count) and the lattice parameters used.
    """
    if spec.kind == "measured":
        raise ValueError("measured particles are read, not built: use read_measured")
    radius = spec.diameter_nm * 10 / 2
    if spec.kind in ("sphere", "wulff"):
        crystal = bulks[spec.bulk] if spec.lattice_a is None else scaled_to(bulks[spec.bulk], spec.lattice_a)
        crystal.info = dict(bulks[spec.bulk].info)
        atoms = (
            lattice_sites(crystal, radius)
            if spec.kind == "sphere"
            else wulff_particle(crystal, spec.surface_energies, spec.diameter_nm)
        )
        atoms.new_array("region", np.zeros(len(atoms), dtype=int))
        phases = [crystal, crystal, crystal]
    else:
        core = bulks[spec.core]
        shell_a = spec.shell_lattice_a or bulks[spec.shell].cell.lengths()[0]
        shell = scaled_to(bulks[spec.shell], shell_a)
        # the interlayer shares the shell's anion lattice: same lattice parameter
        interlayer = scaled_to(bulks[spec.interlayer], shell_a) if spec.interlayer else None
        if spec.shell_nm is not None:
            core_radius = radius - spec.shell_nm * 10
            geometry = ShellGeometry(core_radius, min(core_radius + spec.interlayer_nm * 10, radius), radius)
        else:
            geometry = core_radius_for_conversion(
                core, shell, radius, spec.conversion, spec.interlayer_nm * 10, interlayer
            )
        atoms = core_shell(core, shell, geometry, interlayer)
        atoms.info.update(
            core_radius_a=geometry.core_radius_a, interlayer_radius_a=geometry.interlayer_radius_a
        )
        for crystal, key in ((shell, spec.shell), (interlayer, spec.interlayer)):
            if crystal is not None:
                crystal.info = dict(bulks[key].info)
        phases = [core, interlayer if interlayer is not None else shell, shell]
    atoms.info.update(
        name=spec.name, family="particle", kind=spec.kind, series=spec.series,
        target_conversion=-1.0 if spec.conversion is None else spec.conversion,
        lattices_a=",".join(f"{p.cell.lengths()[0]:.4f}" for p in phases),
        bonds_a=",".join(f"{bond_length_a(p):.4f}" for p in phases),
        coordination=",".join(str(BULK_COORDINATION[p.info["prototype"]]) for p in phases),
    )  # fmt: skip
    return atoms


def summary_of(atoms: Atoms) -> ParticleSummary:
    """summarise() with the bonds and coordinations a built or read particle carries in its info."""
    bonds = info_values(atoms, "bonds_a")
    coordination = [int(c) for c in info_values(atoms, "coordination")]
    return summarise(atoms, atoms.info["name"], max(bonds), dict(enumerate(coordination)))


def info_values(atoms: Atoms, key: str) -> list[float]:
    """Per-region numbers stored in atoms.info as "a,b,c" (extxyz reads them back as an array)."""
    value = atoms.info[key]
    if isinstance(value, str):
        return [float(v) for v in value.split(",")]
    return [float(v) for v in np.atleast_1d(value)]
