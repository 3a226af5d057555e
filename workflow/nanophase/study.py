"""A study: every structure it needs, planned from a validated config before any job runs."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from ase import Atoms
from ase.data import chemical_symbols

from nanophase.bulk import atom_name, cation_anion, read_bulk, reduced_formula
from nanophase.config import ConfigError
from nanophase.interfaces import StackSettings, build_stack, stack_settings_from_config, strained_bulk
from nanophase.measured import read_measured
from nanophase.particles import ParticleSpec, diameter_a, particle_specs
from nanophase.slabs import SlabSettings, build_slab
from nanophase.vacancies import VacancySettings, VacancySpec, make_vacancy_structure, plan_vacancies

_ELEMENTS = set(chemical_symbols[1:])


@dataclass(frozen=True)
class SlabModel:
    """One configured slab, its bulk, and the vacancy structures derived from it."""

    key: str
    bulk: str
    settings: SlabSettings
    vacancy_settings: VacancySettings
    name: str
    vacancies: tuple[VacancySpec, ...]
    n_atoms: int

    def build(self, bulk: Atoms) -> dict[str, Atoms]:
        """The pristine slab and every vacancy structure, by name, cut from `bulk`."""
        slab = build_slab(bulk, self.settings)
        if slab.info["name"] != self.name:
            raise ValueError(f"{self.key}: built {slab.info['name']}, planned {self.name}")
        return {self.name: slab, **self.build_vacancies(slab)}

    def build_vacancies(self, slab: Atoms, ranking: dict | None = None) -> dict[str, Atoms]:
        """Every vacancy structure, by name, made from `slab`: the cut slab or the relaxed one.

        Removing atoms from the relaxed slab (atom order is kept by every backend) means the surfaces
        are reconstructed before the vacancies are made, as in the study, and the defect relaxation
        starts close to its minimum. With a `ranking` (nanophase.ranking), each ranked slot holds the
        placement the potential put there, and its structure says so (mlip_rank, ...).
        """
        if slab.info.get("name") != self.name or len(slab) != self.n_atoms:
            raise ValueError(f"{self.key}: vacancies need {self.name} ({self.n_atoms} atoms), got "
                             f"{slab.info.get('name')} ({len(slab)} atoms)")  # fmt: skip
        slots = (ranking or {}).get("slots", {})
        structures = {}
        for spec in self.vacancies:
            slot = slots.get(spec.name)
            if slot is None:
                structures[spec.name] = make_vacancy_structure(slab, spec)
                continue
            ranked = replace(spec, removed=tuple(slot["removed"]), multiplicity=slot["multiplicity"])
            atoms = make_vacancy_structure(slab, ranked)
            atoms.info.update(
                {"ranked_by": ranking["model"], **{k: v for k, v in slot.items() if k != "removed"}}
            )
            structures[spec.name] = atoms
        return structures


@dataclass(frozen=True)
class ChemicalReferences:
    """The structures a slab model's energies are referenced to (structure names of the study).

    Attributes:
        compound: bulk of the slab's compound (e.g. CdSe-wz); formula its reduced formula (CdSe).
        solids: element -> bulk of the elemental solid (Cd-hcp, Se-trigonal): the chemical-potential limits.
        atoms: element -> isolated-atom structure (Se-atom) of each species that vacancies remove.
    """

    compound: str
    formula: str
    solids: dict[str, str]
    atoms: dict[str, str]

    def names(self) -> list[str]:
        return [self.compound, *self.solids.values(), *self.atoms.values()]


@dataclass(frozen=True)
class InterfaceModel:
    """The substrate/shell stacks of the study and the bulk references they refer to.

    `strained` maps each shell bulk (rock salt, zinc blende) to the name of that bulk held at the
    substrate's in-plane lattice with its normal relaxed: the reference of the shell's strain energy.
    """

    substrate: str
    rocksalt_shell: str
    zincblende_shell: str
    shell_cation: str
    stacks: tuple[StackSettings, ...]
    names: tuple[str, ...]
    strained: dict[str, str] = field(default_factory=dict)

    @property
    def bare_name(self) -> str:
        """The bare substrate slab (no shell), the reference of every interface energy."""
        return self.names[[s.decorated_faces for s in self.stacks].index(0)]

    def build_strained(self, shell_bulk: dict[str, Atoms], substrate_bulk: Atoms) -> dict[str, Atoms]:
        """Each shell bulk at the substrate's in-plane lattice, by strained-structure name."""
        return {
            name: strained_bulk(shell_bulk[shell], substrate_bulk, name)
            for shell, name in self.strained.items()
        }

    def build(self, substrate_bulk: Atoms) -> dict[str, Atoms]:
        """Every stack, by name, on the lattice of `substrate_bulk`."""
        structures = {}
        for settings, name in zip(self.stacks, self.names, strict=True):
            atoms = build_stack(substrate_bulk, self.shell_cation, settings)
            if atoms.info["name"] != name:
                raise ValueError(f"interfaces: built {atoms.info['name']}, planned {name}")
            structures[name] = atoms
        return structures


# What each family's calculation does: bulk cells relax with their cell, free atoms are evaluated.
TASKS = {
    "bulk": "relax-cell",
    "atom": "single-point",
    "slab": "relax",
    "vacancy": "relax",
    "interface": "relax",
    "strained": "relax-c",  # in-plane lattice held at the substrate's, the normal relaxes
}


def _plan_particles(particles: dict, bulk: dict[str, Atoms], root: Path) -> tuple[ParticleSpec, ...]:
    """The particles of the study; a bad entry or a missing coordinate file is a config error."""
    try:
        specs = particle_specs(particles, {key: atoms.info["prototype"] for key, atoms in bulk.items()})
    except ValueError as exc:
        raise ConfigError(f"invalid config: {exc}") from exc
    planned = []
    for spec in specs:
        if spec.file is not None:
            if not (root / spec.file).is_file():
                raise ConfigError(f"invalid config: particles.{spec.key}.file: {spec.file} does not exist")
            # read and checked now: a bad file stops the study before any job, naming the atom
            try:
                atoms = read_measured(replace(spec, file=str(root / spec.file)), bulk[spec.bulk])
            except ValueError as exc:
                raise ConfigError(f"invalid config: {exc}") from exc
            spec = replace(spec, diameter_nm=diameter_a(atoms) / 10)
        planned.append(spec)
    return tuple(planned)


@dataclass(frozen=True)
class Study:
    """Everything a config asks for, with names fixed before any job runs."""

    name: str
    bulk_files: dict[str, Path]
    slabs: tuple[SlabModel, ...]
    interfaces: InterfaceModel | None
    isolated_atoms: tuple[str, ...] = ()
    atom_box_a: float = 12.0
    families: dict[str, str] = field(default_factory=dict)  # structure name -> family
    n_atoms: dict[str, int] = field(default_factory=dict)  # structure name -> atoms
    references: dict[str, ChemicalReferences] = field(
        default_factory=dict
    )  # model key (with vacancies) -> refs
    # nanocrystal models: no DFT calculation, their own rules (workflow/rules/particles.smk)
    particles: tuple[ParticleSpec, ...] = ()

    @classmethod
    def from_config(cls, config: dict, root: str | Path = ".") -> Study:
        """Plan a study from a schema-validated config (see nanophase.config.validate_config).

        Checks what the schema cannot: files exist and hold the declared structure type, keys refer
        to defined bulk references, species belong to the compound, vacancy counts fit the sites.

        Raises:
            ConfigError: naming the key path and what is allowed.
        """
        root = Path(root)
        bulk_files: dict[str, Path] = {}
        bulk: dict[str, Atoms] = {}
        for key, entry in config["bulk"].items():
            path = root / entry["file"]
            if not path.is_file():
                raise ConfigError(f"invalid config: bulk.{key}.file: {entry['file']} does not exist")
            try:
                atoms = read_bulk(path)
            except Exception as exc:  # a file pymatgen cannot read, or an unknown structure type
                raise ConfigError(
                    f"invalid config: bulk.{key}.file: cannot use {entry['file']}: {exc}"
                ) from exc
            expected = entry.get("prototype")
            if expected and atoms.info["prototype"] != expected:
                raise ConfigError(
                    f"invalid config: bulk.{key}.prototype: {entry['file']} is {atoms.info['prototype']} "
                    f"(space group {atoms.info['spacegroup']}), not {expected}"
                )
            atoms.info["name"] = key
            bulk_files[key] = Path(entry["file"])
            bulk[key] = atoms

        planned = [_plan_slab(key, cfg, bulk) for key, cfg in config.get("slabs", {}).items()]
        slabs = tuple(model for model, _ in planned)
        interfaces, stack_atoms = (
            _plan_interfaces(config["interfaces"], bulk) if "interfaces" in config else (None, {})
        )
        atoms_cfg = config.get("isolated_atoms", {})
        species = tuple(atoms_cfg.get("species", ()))
        unknown = [s for s in species if s not in _ELEMENTS]
        if unknown:
            raise ConfigError(f"invalid config: isolated_atoms.species: {unknown} are not element symbols")
        families = {key: "bulk" for key in bulk}
        n_atoms = {key: len(atoms) for key, atoms in bulk.items()}
        for symbol in species:
            families[atom_name(symbol)], n_atoms[atom_name(symbol)] = "atom", 1
        for model, n_slab in planned:
            families[model.name], n_atoms[model.name] = "slab", n_slab
            for spec in model.vacancies:
                families[spec.name], n_atoms[spec.name] = "vacancy", n_slab - len(spec.removed)
        for name, count in stack_atoms.items():
            families[name], n_atoms[name] = "interface", count
        if interfaces is not None:
            for shell, name in interfaces.strained.items():
                families[name], n_atoms[name] = "strained", len(bulk[shell])
        # formation energies need the elemental solids and the free atom; a model without vacancies does not
        references = {
            model.key: _references(f"slabs.{model.key}", config["slabs"][model.key], bulk, species)
            for model in slabs
            if model.vacancies
        }
        study = cls(
            config.get("study", "study"),
            bulk_files,
            slabs,
            interfaces,
            species,
            float(atoms_cfg.get("box_a", 12.0)),
            families,
            n_atoms,
            references,
            _plan_particles(config.get("particles", {}), bulk, Path(root)),
        )
        if config.get("phase_competition", {}).get("enabled") is True:
            pairs, reason = study.phase_pairs()
            if not pairs:
                raise ConfigError(
                    f"invalid config: phase_competition.enabled: true, but {reason} "
                    "(allowed: auto or false, or add the other phase at the same monolayers)"
                )
        names = study.structure_names()
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"invalid config: slabs: two models give the same structures {duplicates}")
        return study

    def phase_pairs(self) -> tuple[dict[int, dict[str, list[str]]], str]:
        """Sheet thicknesses (monolayers) computed in two phases of one compound, with their model keys.

        Returns the pairs and, when there are none, why: the phase competition compares only sheets of
        equal thickness and one compound (the same references), never a number from mismatched ones.
        """
        models = [model for model in self.slabs if model.key in self.references]
        formulas = {self.references[model.key].formula for model in models}
        if len(formulas) > 1:
            return {}, f"the sheets are of different compounds {sorted(formulas)}: no common reservoir"
        by_thickness: dict[int, dict[str, list[str]]] = {}
        for model in models:
            phases = by_thickness.setdefault(model.settings.monolayers, {})
            phases.setdefault(model.settings.phase, []).append(model.key)
        pairs = {ml: phases for ml, phases in sorted(by_thickness.items()) if len(phases) == 2}
        if pairs:
            return pairs, ""
        found = (
            ", ".join(f"{ml} ML: {'/'.join(sorted(p))}" for ml, p in sorted(by_thickness.items())) or "none"
        )
        return {}, f"no sheet thickness is computed in both phases with vacancies (sheets: {found})"

    def structure_names(self) -> list[str]:
        names = list(self.bulk_files) + [atom_name(symbol) for symbol in self.isolated_atoms]
        for model in self.slabs:
            names += [model.name] + [spec.name for spec in model.vacancies]
        if self.interfaces:
            names += list(self.interfaces.names) + list(self.interfaces.strained.values())
        return names


def _references(
    where: str, cfg: dict, bulk: dict[str, Atoms], atom_species: tuple[str, ...]
) -> ChemicalReferences:
    """The elemental solids and free atoms a slab model's formation energies need; all must be configured."""
    compound = bulk[cfg["bulk"]]
    elements = sorted(set(compound.get_chemical_symbols()))
    solids = {}
    for element in elements:
        keys = [key for key, atoms in bulk.items() if set(atoms.get_chemical_symbols()) == {element}]
        if len(keys) != 1:
            found = f"found {keys}" if keys else "none is configured"
            raise ConfigError(
                f"invalid config: bulk: {where} needs exactly one elemental {element} solid as the "
                f"{element}-rich chemical-potential limit; {found}"
            )
        solids[element] = keys[0]
    species = cfg["vacancies"]["species"]
    if species not in atom_species:
        raise ConfigError(
            f"invalid config: isolated_atoms.species: {where}.vacancies.species {species} needs its free "
            "atom "
            f"as the reference of the study (allowed: add {species!r} to {list(atom_species)})"
        )
    return ChemicalReferences(cfg["bulk"], reduced_formula(compound), solids, {species: atom_name(species)})


def _bulk_key(where: str, key: str, bulk: dict[str, Atoms]) -> Atoms:
    if key not in bulk:
        raise ConfigError(f"invalid config: {where}: {key!r} is not a bulk key (allowed: {', '.join(bulk)})")
    return bulk[key]


def _plan_slab(key: str, cfg: dict, bulk: dict[str, Atoms]) -> tuple[SlabModel, int]:
    where = f"slabs.{key}"
    parent_bulk = _bulk_key(f"{where}.bulk", cfg["bulk"], bulk)
    if parent_bulk.info["prototype"] != cfg["phase"]:
        raise ConfigError(
            f"invalid config: {where}.phase: {cfg['phase']} does not match bulk {cfg['bulk']}, "
            f"which is {parent_bulk.info['prototype']}"
        )
    species = cfg["vacancies"]["species"]
    elements = sorted(set(parent_bulk.get_chemical_symbols()))
    if species not in elements:
        raise ConfigError(
            f"invalid config: {where}.vacancies.species: {species!r} is not in "
            f"{reduced_formula(parent_bulk)} (allowed: {', '.join(elements)})"
        )
    second = cfg["vacancies"].get("after_layer", {}).get("species")
    if second is not None and second not in elements:
        raise ConfigError(
            f"invalid config: {where}.vacancies.after_layer.species: {second!r} is not in "
            f"{reduced_formula(parent_bulk)} (allowed: {', '.join(e for e in elements if e != species)})"
        )
    try:
        settings = SlabSettings.from_config(cfg)
    except ValueError as exc:
        raise ConfigError(f"invalid config: {where}.{exc}") from exc
    try:
        vacancy_settings = VacancySettings.from_config(cfg["vacancies"])
        slab = build_slab(parent_bulk, settings)
        vacancies = plan_vacancies(slab, vacancy_settings)
    except ValueError as exc:
        raise ConfigError(f"invalid config: {where}.vacancies.{exc}") from exc
    model = SlabModel(
        key, cfg["bulk"], settings, vacancy_settings, slab.info["name"], tuple(vacancies), len(slab)
    )
    return model, len(slab)


def _plan_interfaces(cfg: dict, bulk: dict[str, Atoms]) -> tuple[InterfaceModel, dict[str, int]]:
    roles = {"substrate": "rocksalt", "rocksalt_shell": "rocksalt", "zincblende_shell": "zincblende"}
    for role, prototype in roles.items():
        atoms = _bulk_key(f"interfaces.{role}", cfg[role], bulk)
        if atoms.info["prototype"] != prototype:
            raise ConfigError(
                f"invalid config: interfaces.{role}: {cfg[role]} is {atoms.info['prototype']}, "
                f"a {prototype} bulk is needed"
            )
    _, substrate_anion = cation_anion(bulk[cfg["substrate"]].get_chemical_symbols())
    shells = {
        role: cation_anion(bulk[cfg[role]].get_chemical_symbols()) for role in roles if role != "substrate"
    }
    for role, (_, anion) in shells.items():
        if anion != substrate_anion:
            raise ConfigError(
                f"invalid config: interfaces.{role}: {cfg[role]} must share the substrate's anion "
                f"{substrate_anion} (cation exchange keeps the anion sublattice)"
            )
    cations = {cation for cation, _ in shells.values()}
    if len(cations) != 1:
        raise ConfigError(
            "invalid config: interfaces: rocksalt_shell and zincblende_shell must be one compound"
        )
    try:
        stacks = stack_settings_from_config(cfg)
        substrate = reduced_formula(bulk[cfg["substrate"]])
        shell = reduced_formula(bulk[cfg["zincblende_shell"]])
    except ValueError as exc:
        raise ConfigError(f"invalid config: interfaces.{exc}") from exc
    names = tuple(s.name(substrate, shell) for s in stacks)
    strained = {
        cfg[role]: f"{cfg[role]}-on-{cfg['substrate']}" for role in ("rocksalt_shell", "zincblende_shell")
    }
    model = InterfaceModel(
        cfg["substrate"],
        cfg["rocksalt_shell"],
        cfg["zincblende_shell"],
        cations.pop(),
        tuple(stacks),
        names,
        strained,
    )
    # building the stacks costs milliseconds and gives their sizes for resource requests
    return model, {name: len(atoms) for name, atoms in model.build(bulk[cfg["substrate"]]).items()}
