"""CdSe nanosheet slabs: wurtzite (11-20) and zinc blende (001), counted in monolayers."""

from __future__ import annotations

from dataclasses import dataclass

from ase import Atoms
from ase.constraints import FixAtoms

from nanophase.bulk import cation_anion, formula_elements, reduced_formula
from nanophase.layers import Plane, assemble_slab, cut_planes, in_plane_area_a2, middle_layers

PHASE_SURFACES = {"wurtzite": ("11-20",), "zincblende": ("001",)}
PHASE_ABBREVIATIONS = {"wurtzite": "wz", "zincblende": "zb", "rocksalt": "rs"}
TERMINATIONS = ("stoichiometric", "cation", "anion")
FIXED_CHOICES = ("auto", "middle", "none")


@dataclass(frozen=True)
class SlabSettings:
    """How to cut one slab model from its bulk.

    Attributes:
        phase: "wurtzite" or "zincblende"; must match the bulk handed to build_slab.
        surface: basal plane, "11-20" (wurtzite) or "001" (zinc blende).
        monolayers: monolayers, each one cation and one anion atomic layer. In wurtzite (11-20) both
            sit in one mixed plane; in zinc blende (001) they are separate planes a/4 apart.
        supercell: in-plane repetitions of the surface cell (wz: [0001] x [1-100]; zb: [100] x [010]).
        vacuum_a: gap between the slab and its periodic image along the normal, angstrom.
        termination: zinc blende only: "cation" adds a cation plane so both faces are cation planes
            (the study's Cd-excess sheet), "anion" likewise with anions, "stoichiometric" keeps
            one face of each (polar). Wurtzite (11-20) planes are stoichiometric already.
        fixed: "auto" (the study's choice: wurtzite middle layer, zinc blende none), "middle",
            "none", or explicit layer indices (0 = bottom).
    """

    phase: str
    surface: str
    monolayers: int = 7
    supercell: tuple[int, int] = (1, 1)
    vacuum_a: float = 15.0
    termination: str = "stoichiometric"
    fixed: str | tuple[int, ...] = "auto"

    def __post_init__(self) -> None:
        if self.phase not in PHASE_SURFACES:
            raise ValueError(f"phase: {self.phase!r} is not one of {sorted(PHASE_SURFACES)}")
        if self.surface not in PHASE_SURFACES[self.phase]:
            raise ValueError(
                f"surface: {self.surface!r} is not supported for {self.phase} "
                f"(allowed: {', '.join(PHASE_SURFACES[self.phase])})"
            )
        if self.monolayers < 1:
            raise ValueError(f"monolayers: must be >= 1, got {self.monolayers}")
        if len(self.supercell) != 2 or any(int(n) != n or n < 1 for n in self.supercell):
            raise ValueError(f"supercell: must be two positive integers, got {list(self.supercell)}")
        if self.vacuum_a <= 0:
            raise ValueError(f"vacuum_a: must be > 0 angstrom, got {self.vacuum_a}")
        if self.termination not in TERMINATIONS:
            raise ValueError(f"termination: {self.termination!r} is not one of {list(TERMINATIONS)}")
        if self.phase == "wurtzite" and self.termination != "stoichiometric":
            raise ValueError("termination: wurtzite (11-20) planes are stoichiometric; only 'stoichiometric'")
        if isinstance(self.fixed, str):
            if self.fixed not in FIXED_CHOICES:
                raise ValueError(f"fixed: {self.fixed!r} is not one of {list(FIXED_CHOICES)} or a list")
        else:
            bad = [i for i in self.fixed if not 0 <= i < self.n_layers]
            if bad:
                raise ValueError(f"fixed: layers {bad} do not exist (layers are 0..{self.n_layers - 1})")

    @classmethod
    def from_config(cls, cfg: dict) -> SlabSettings:
        """Settings from one entry of the config's `slabs` mapping (schema-validated)."""
        fixed = cfg.get("fixed", "auto")
        return cls(
            phase=cfg["phase"],
            surface=cfg["surface"],
            monolayers=int(cfg.get("monolayers", 7)),
            supercell=tuple(cfg.get("supercell", (1, 1))),
            vacuum_a=float(cfg.get("vacuum_a", 15.0)),
            termination=cfg.get("termination", "stoichiometric"),
            fixed=fixed if isinstance(fixed, str) else tuple(fixed),
        )

    @property
    def n_layers(self) -> int:
        """Atomic planes in the slab."""
        if self.phase == "wurtzite":
            return self.monolayers
        return 2 * self.monolayers + (self.termination != "stoichiometric")

    @property
    def fixed_layers(self) -> tuple[int, ...]:
        if isinstance(self.fixed, tuple):
            return self.fixed
        if self.fixed == "middle" or (self.fixed == "auto" and self.phase == "wurtzite"):
            return middle_layers(self.n_layers)
        return ()

    def name(self, formula: str) -> str:
        """Structure name, e.g. CdSe-wz-1120-7ml-2x2 or CdSe-zb-001-7ml-2x2-Cdterm."""
        n1, n2 = self.supercell
        base = (
            f"{formula}-{PHASE_ABBREVIATIONS[self.phase]}-{self.surface.replace('-', '')}"
            f"-{self.monolayers}ml-{n1}x{n2}"
        )
        if self.phase == "wurtzite":
            return base
        if self.termination == "stoichiometric":
            return f"{base}-stoich"
        cation, anion = cation_anion(formula_elements(formula))
        return f"{base}-{cation if self.termination == 'cation' else anion}term"


def _bottom_species(settings: SlabSettings, cation: str, anion: str) -> str:
    # stoichiometric zb(001): cation plane at the bottom, anion plane on top
    return anion if settings.termination == "anion" else cation


def build_slab(bulk: Atoms, settings: SlabSettings) -> Atoms:
    """Cut a slab from a conventional bulk cell.

    The in-plane lattice and plane spacings come from `bulk`, so a relaxed bulk gives a slab without
    strain artefacts. Atoms carry their layer index ("layer", 0 = bottom); fixed layers are FixAtoms.
    """
    prototype = bulk.info.get("prototype")
    if prototype is not None and prototype != settings.phase:
        raise ValueError(f"phase: slab is {settings.phase} but the bulk given is {prototype}")
    cation, anion = cation_anion(bulk.get_chemical_symbols())
    stack = cut_planes(bulk, settings.phase, settings.surface, settings.supercell)
    start = 0
    if settings.phase == "zincblende":
        wanted = _bottom_species(settings, cation, anion)
        start = next(i for i, p in enumerate(stack.planes) if p.species == {wanted})
    planes: list[Plane] = [stack.plane(start + i) for i in range(settings.n_layers)]
    slab = assemble_slab(planes, stack.cell_2d, settings.vacuum_a)

    fixed = [i for i, layer in enumerate(slab.get_array("layer")) if layer in settings.fixed_layers]
    if fixed:
        slab.set_constraint(FixAtoms(indices=fixed))
    formula = reduced_formula(bulk)
    slab.info.update(
        {
            "name": settings.name(formula),
            "family": "slab",
            "phase": settings.phase,
            "surface": settings.surface,
            "n_monolayers": settings.monolayers,
            "n_layers": settings.n_layers,
            "supercell": f"{settings.supercell[0]}x{settings.supercell[1]}",
            "vacuum_a": settings.vacuum_a,
            "termination": settings.termination,
            "fixed_layers": ",".join(str(i) for i in settings.fixed_layers) or "none",
            "area_a2": in_plane_area_a2(slab),
            "bulk": bulk.info.get("name", formula),
            "bulk_a": float(bulk.cell.cellpar()[0]),
            "bulk_c": float(bulk.cell.cellpar()[2]),
        }
    )
    return slab
