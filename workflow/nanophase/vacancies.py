"""Vacancy series in slabs: surface concentration, depth and whole-layer removal, symmetry-distinct only."""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import combinations, product

import numpy as np
from ase import Atoms
from ase.constraints import FixAtoms

from nanophase.layers import FACES, fixed_indices
from nanophase.symmetry import symmetry_permutations


@dataclass(frozen=True)
class AfterLayerSettings:
    """A second removal from a sheet that has already lost its outermost plane of the first species.

    The study's third result (Cd loss becomes favourable at high Se loss): remove `counts` atoms of
    `species` per face from the outermost `species` plane of a sheet without its outermost Se plane(s).

    Attributes:
        species: element removed second (the cation, Cd).
        faces: "top" (after the top Se plane is gone) and/or "both" (after both surface Se planes).
        counts: atoms removed per face.
    """

    species: str = "Cd"
    faces: tuple[str, ...] = ("top",)
    counts: tuple[int, ...] = (1,)

    def __post_init__(self) -> None:
        bad = [f for f in self.faces if f not in FACES]
        if bad:
            raise ValueError(f"after_layer.faces: {bad} not allowed (allowed: {list(FACES)})")
        if any(n < 1 for n in self.counts):
            raise ValueError(f"after_layer.counts: counts must be >= 1, got {list(self.counts)}")


@dataclass(frozen=True)
class VacancySettings:
    """Which vacancy structures to derive from a slab.

    Attributes:
        species: element removed.
        surface_counts: vacancies per face placed in the outermost plane holding `species`.
        surface_faces: "top" (one face) and/or "both" (the same count on each face).
        depth: one vacancy in each plane holding `species`, from the top surface to the middle.
        whole_layer: remove the outermost plane of `species` from "top" and/or "both" faces.
        max_configurations: symmetry-distinct placements kept per count.
        after_layer: a second species removed after the whole outermost plane (None: no such series).
        rank_with: machine-learned potential that ranks all placements of a count ("none": unranked);
            rank_steps relaxation steps each, at most rank_limit placements per count.
    """

    species: str = "Se"
    surface_counts: tuple[int, ...] = (1, 2)
    surface_faces: tuple[str, ...] = FACES
    depth: bool = True
    whole_layer: tuple[str, ...] = FACES
    max_configurations: int = 3
    after_layer: AfterLayerSettings | None = None
    rank_with: str = "none"
    rank_steps: int = 25
    rank_limit: int = 300

    def __post_init__(self) -> None:
        if self.after_layer is not None:
            if self.after_layer.species == self.species:
                raise ValueError(f"after_layer.species: must differ from species {self.species!r}")
            missing = [f for f in self.after_layer.faces if f not in self.whole_layer]
            if missing:
                raise ValueError(
                    f"after_layer.faces: {missing} need the whole-layer structure they start from "
                    f"(allowed: faces listed in whole_layer {list(self.whole_layer)})"
                )
        for key in ("surface_faces", "whole_layer"):
            bad = [f for f in getattr(self, key) if f not in FACES]
            if bad:
                raise ValueError(f"{key}: {bad} not allowed (allowed: {list(FACES)})")
        if any(n < 1 for n in self.surface_counts):
            raise ValueError(f"surface_counts: counts must be >= 1, got {list(self.surface_counts)}")
        if not 1 <= self.max_configurations <= 26:
            raise ValueError(f"max_configurations: must be 1..26, got {self.max_configurations}")

    @classmethod
    def from_config(cls, cfg: dict) -> VacancySettings:
        """Settings from a slab's `vacancies` config block (schema-validated)."""
        return cls(
            species=cfg.get("species", "Se"),
            surface_counts=tuple(cfg.get("surface_counts", (1, 2))),
            surface_faces=tuple(cfg.get("surface_faces", FACES)),
            depth=bool(cfg.get("depth", True)),
            whole_layer=tuple(cfg.get("whole_layer", FACES)),
            max_configurations=int(cfg.get("max_configurations", 3)),
            after_layer=(
                AfterLayerSettings(
                    species=after["species"], faces=tuple(after["faces"]), counts=tuple(after["counts"])
                )
                if (after := cfg.get("after_layer"))
                else None
            ),
            rank_with=cfg.get("rank_with", "none"),
            rank_steps=int(cfg.get("rank_steps", 25)),
            rank_limit=int(cfg.get("rank_limit", 300)),
        )


@dataclass(frozen=True)
class VacancySpec:
    """One vacancy structure: which atoms of the parent slab are removed, and where it belongs.

    `removed` are atom indices of the parent slab; `series` lists every series the structure
    belongs to (e.g. "surface-top;depth" for a single top-surface vacancy). `multiplicity` is the size
    of the placement's symmetry orbit (equivalent placements, the weight of a Boltzmann average).
    A second removal (series "after-layer") starts from the structure `reference`, whose removed atoms
    are `prior`; its own removals (len(removed) - len(prior)) are of `species`.
    """

    name: str
    parent: str
    species: str
    removed: tuple[int, ...]
    series: str
    faces: str
    depth: int
    configuration: str
    n_distinct: int
    n_kept: int
    concentration: float
    multiplicity: int = 1
    reference: str = ""
    prior: tuple[int, ...] = ()

    @property
    def host(self) -> str:
        """The structure this one's formation energy is measured from: the slab or the prior removal."""
        return self.reference or self.parent

    @property
    def n_vacancies(self) -> int:
        """Atoms of `species` removed with respect to `host`."""
        return len(self.removed) - len(self.prior)


def species_planes(slab: Atoms, species: str) -> list[tuple[int, ...]]:
    """Atom indices of each layer holding `species` (only those atoms), bottom to top."""
    layer = slab.get_array("layer")
    symbols = np.array(slab.get_chemical_symbols())
    planes = []
    for index in range(layer.max() + 1):
        members = np.flatnonzero((layer == index) & (symbols == species))
        if len(members):
            planes.append(tuple(int(i) for i in members))
    return planes


def _stabiliser(perms: np.ndarray, sites: set[int]) -> np.ndarray:
    """Operations that map the set of candidate sites onto itself."""
    idx = np.array(sorted(sites))
    keep = [p for p in perms if set(p[idx].tolist()) == sites]
    return np.array(keep)


def count_distinct(groups: list[tuple[int, ...]], counts: list[int], perms: np.ndarray) -> int:
    """Number of symmetry-distinct ways to pick counts[i] sites from groups[i] (Burnside's lemma).

    Each operation contributes the number of placements it leaves unchanged: per cycle of the
    operation on the candidate sites, either all or none of the cycle's sites are picked.
    """
    group_of = {site: g for g, members in enumerate(groups) for site in members}
    target = tuple(counts)
    ops = _stabiliser(perms, set(group_of))
    total = 0
    for perm in ops:
        polynomial: Counter[tuple[int, ...]] = Counter({(0,) * len(groups): 1})
        seen: set[int] = set()
        for start in group_of:
            if start in seen:
                continue
            weight = [0] * len(groups)
            site = start
            while site not in seen:
                seen.add(site)
                weight[group_of[site]] += 1
                site = int(perm[site])
            step: Counter[tuple[int, ...]] = Counter()
            for exponent, coefficient in polynomial.items():
                step[exponent] += coefficient
                grown = tuple(e + w for e, w in zip(exponent, weight, strict=True))
                if all(g <= t for g, t in zip(grown, target, strict=True)):
                    step[grown] += coefficient
            polynomial = step
        total += polynomial[target]
    return int(Fraction(total, len(ops)))


def distinct_placements(
    groups: list[tuple[int, ...]], counts: list[int], perms: np.ndarray, limit: int
) -> tuple[int, list[tuple[int, ...]]]:
    """Symmetry-distinct placements: their number and the first `limit` representatives.

    Placements are visited in lexicographic order; the first member of each symmetry orbit met is
    the orbit's smallest, so the kept representatives do not depend on enumeration details.
    """
    n_distinct = count_distinct(groups, counts, perms)
    group_of = {site: g for g, members in enumerate(groups) for site in members}
    ops = _stabiliser(perms, set(group_of))

    def key(sites: Iterator[int] | tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
        split: list[list[int]] = [[] for _ in groups]
        for site in sites:
            split[group_of[site]].append(site)
        return tuple(tuple(sorted(members)) for members in split)

    kept: list[tuple[int, ...]] = []
    choices = [combinations(sorted(members), n) for members, n in zip(groups, counts, strict=True)]
    for placement in product(*choices):
        flat = np.array([site for part in placement for site in part])
        own = key(flat.tolist())
        if all(key(perm[flat].tolist()) >= own for perm in ops):
            kept.append(tuple(sorted(flat.tolist())))
            if len(kept) == min(limit, n_distinct):
                break
    return n_distinct, kept


def placement_images(removed: tuple[int, ...], perms: np.ndarray) -> set[tuple[int, ...]]:
    """Every placement equivalent to `removed` under the operations `perms` (its orbit; min = canonical)."""
    return {tuple(sorted(perm[list(removed)].tolist())) for perm in perms}


def configuration_label(index: int) -> str:
    return string.ascii_lowercase[index]


@dataclass(frozen=True)
class PlacementGroup:
    """One count of one series: which sites may lose an atom, how many per site group, under which operations.

    `stem` is the structure name without its placement label; placements are symmetry-distinct under
    `ops` (the slab's operations that keep `prior`, the atoms removed before, in place).
    """

    stem: str
    series: str
    faces: str
    depth: int
    species: str
    sites: tuple[tuple[int, ...], ...]
    counts: tuple[int, ...]
    ops: np.ndarray
    prior: tuple[int, ...] = ()
    reference: str = ""
    n_sites_of_species: int = 0

    @property
    def rankable(self) -> bool:
        """Surface and after-layer groups: placements of one count, worth ranking by energy."""
        return self.series != "depth"


def _whole_layers(slab: Atoms, settings: VacancySettings) -> dict[str, tuple[int, ...]]:
    planes = species_planes(slab, settings.species)
    if not planes:
        raise ValueError(f"species: {settings.species} is not in {slab.info['name']}")
    sites = {"top": planes[-1], "both": planes[-1] + planes[0]}
    return {faces: tuple(sorted(sites[faces])) for faces in settings.whole_layer}


def placement_groups(slab: Atoms, settings: VacancySettings, perms: np.ndarray) -> list[PlacementGroup]:
    """Every surface, depth and after-layer group of `settings` on `slab` (whole layers: one placement)."""
    parent = slab.info["name"]
    species = settings.species
    planes = species_planes(slab, species)
    if not planes:
        raise ValueError(f"species: {species} is not in {parent}")
    n_species = sum(len(p) for p in planes)
    top, bottom = planes[-1], planes[0]
    face_sites = {"top": (top,), "both": (top, bottom)}
    groups = []
    for faces in settings.surface_faces:
        if faces == "both" and top == bottom:
            raise ValueError(f"surface_faces: {parent} has a single {species} plane; 'both' is undefined")
        for n in settings.surface_counts:
            if n > len(top):
                raise ValueError(
                    f"surface_counts: {n} exceeds the {len(top)} {species} sites of the outermost "
                    f"{species} plane of {parent} (allowed: 1..{len(top)})"
                )
            count_label = f"{n}x2" if faces == "both" else f"{n}"
            groups.append(
                PlacementGroup(
                    f"{parent}_v{species}-{faces}-{count_label}",
                    f"surface-{faces}",
                    faces,
                    0,
                    species,
                    face_sites[faces],
                    (n,) * len(face_sites[faces]),
                    perms,
                    n_sites_of_species=n_species,
                )
            )
    if settings.depth:
        for depth in range((len(planes) + 1) // 2):  # from the top plane down to the middle one
            groups.append(
                PlacementGroup(
                    f"{parent}_v{species}-depth{depth}",
                    "depth",
                    "top",
                    depth,
                    species,
                    (planes[-1 - depth],),
                    (1,),
                    perms,
                    n_sites_of_species=n_species,
                )
            )
    after = settings.after_layer
    if after is not None:
        second = species_planes(slab, after.species)
        if not second:
            raise ValueError(f"after_layer.species: {after.species} is not in {parent}")
        layers = _whole_layers(slab, settings)
        for faces in after.faces:
            prior = layers[faces]
            sites = (second[-1],) if faces == "top" else (second[-1], second[0])
            for n in after.counts:
                if n > len(second[-1]):
                    raise ValueError(
                        f"after_layer.counts: {n} exceeds the {len(second[-1])} {after.species} sites of the "
                        f"outermost {after.species} plane of {parent} (allowed: 1..{len(second[-1])})"
                    )
                count_label = f"{n}x2" if faces == "both" else f"{n}"
                # placements are distinct under the operations that keep the removed layer(s) in place
                groups.append(
                    PlacementGroup(
                        f"{parent}_v{species}-layer-{faces}_v{after.species}-{faces}-{count_label}",
                        "after-layer",
                        faces,
                        0,
                        after.species,
                        sites,
                        (n,) * len(sites),
                        _stabiliser(perms, set(prior)),
                        prior,
                        f"{parent}_v{species}-layer-{faces}",
                        sum(len(p) for p in second),
                    )
                )
    return groups


def plan_vacancies(slab: Atoms, settings: VacancySettings) -> list[VacancySpec]:
    """All vacancy structures of one slab: whole layers, surface series, depth series, after-layer series.

    A structure met in more than one series (one top vacancy is both surface n=1 and depth 0; the
    full surface count is the whole-layer structure) is listed once, with all its series. Of each
    group the first `max_configurations` symmetry-distinct placements are kept (lexicographic order);
    `nanophase.ranking` may later fill those slots with the lowest-energy placements instead.
    """
    parent = slab.info["name"]
    species = settings.species
    perms = symmetry_permutations(slab)
    groups = placement_groups(slab, settings, perms)  # checks the settings against the slab first
    n_species = sum(len(p) for p in species_planes(slab, species))
    specs: dict[tuple[int, ...], VacancySpec] = {}

    def add(spec: VacancySpec) -> None:
        images = placement_images(spec.removed, perms)
        canonical = min(images)
        if canonical in specs:
            old = specs[canonical]
            specs[canonical] = replace(old, series=f"{old.series};{spec.series}")
        else:
            specs[canonical] = replace(spec, multiplicity=len(images))

    for faces, removed in _whole_layers(slab, settings).items():
        add(
            VacancySpec(
                f"{parent}_v{species}-layer-{faces}",
                parent,
                species,
                removed,
                "layer",
                faces,
                0,
                "",
                1,
                1,
                len(removed) / n_species,
            )
        )
    for group in groups:
        n_distinct, kept = distinct_placements(list(group.sites), list(group.counts), group.ops,
                                               settings.max_configurations)  # fmt: skip
        for i, extra in enumerate(kept):
            label = configuration_label(i)
            add(
                VacancySpec(
                    f"{group.stem}-{label}",
                    parent,
                    group.species,
                    tuple(sorted(group.prior + extra)),
                    group.series,
                    group.faces,
                    group.depth,
                    label,
                    n_distinct,
                    len(kept),
                    len(extra) / group.n_sites_of_species,
                    reference=group.reference,
                    prior=group.prior,
                )
            )
    return list(specs.values())


def make_vacancy_structure(slab: Atoms, spec: VacancySpec) -> Atoms:
    """The slab with the atoms of `spec` removed; layer indices and fixed atoms carried over."""
    symbols = slab.get_chemical_symbols()
    wrong = [i for i in spec.removed if i not in spec.prior and symbols[i] != spec.species]
    if wrong:
        raise ValueError(f"{spec.name}: atoms {wrong} of {spec.parent} are not {spec.species}")
    keep = np.setdiff1d(np.arange(len(slab)), spec.removed)
    fixed = set(fixed_indices(slab))
    structure = slab.copy()
    structure.set_constraint()
    structure = structure[keep]
    new_fixed = [new for new, old in enumerate(keep) if old in fixed]
    if new_fixed:
        structure.set_constraint(FixAtoms(indices=new_fixed))
    structure.info.update(
        {
            "name": spec.name,
            "family": "vacancy",
            "parent": spec.parent,
            "removed_species": "+".join(dict.fromkeys(symbols[i] for i in (*spec.prior, *spec.removed))),
            "removed_indices": ",".join(str(i) for i in spec.removed),
            "n_removed": len(spec.removed),
            "reference": spec.host,
            "multiplicity": spec.multiplicity,
            "concentration": spec.concentration,
            "series": spec.series,
            "faces": spec.faces,
            "depth": spec.depth,
            "configuration": spec.configuration,
            "n_distinct": spec.n_distinct,
            "n_kept": spec.n_kept,
        }
    )
    return structure


def placement_summary(specs: list[VacancySpec] | tuple[VacancySpec, ...]) -> list[str]:
    """One line per series and count: how many symmetry-distinct placements exist and were kept."""
    counts: dict[tuple[str, int], tuple[int, int]] = {}
    for spec in specs:
        for series in spec.series.split(";"):
            label = f"depth {spec.depth}" if series == "depth" else series
            counts[(label, len(spec.removed))] = (spec.n_distinct, spec.n_kept)
    return [
        f"{label}, {n_removed} removed: {n_distinct} symmetry-distinct, {n_kept} kept"
        for (label, n_removed), (n_distinct, n_kept) in sorted(counts.items())
    ]
