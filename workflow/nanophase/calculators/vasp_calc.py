"""VASP backend: inputs through pymatgen, runs under custodian's error handlers, vasprun.xml parsed.

POTCARs are licensed: they are read from the user's PMG_VASP_PSP_DIR into the scratch work directory
only, never into results/ or logs. Without them the inputs are written with a POTCAR.spec and the run
stops with a message saying so (the "inputs only" mode).
"""

from __future__ import annotations

import os
import shlex
import time
from pathlib import Path

import numpy as np
from ase import Atoms
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.io.vasp import Incar, Kpoints, Poscar, Vasprun

from nanophase.calculators.records import CalcRecord, new_record, structure_hash
from nanophase.calculators.settings import (
    HUND_MOMENTS_MU_B,
    CalcSettings,
    kpoint_mesh,
    kpoint_style,
    needs_dipole_correction,
    spin_polarised,
    structure_kind,
)
from nanophase.layers import fixed_indices

# PAW datasets of the PBE.54 set recommended for these elements (semicore d for Pb, as VASP advises)
# (other elements: the dataset named after the element)
RECOMMENDED_POTCARS = {"Cd": "Cd", "Se": "Se", "Pb": "Pb_d", "S": "S"}
POTCAR_FOLDERS = {"PBE": ("POT_GGA_PAW_PBE_54", "POT_GGA_PAW_PBE_52", "POT_GGA_PAW_PBE")}
TASK_TAGS = {
    "single-point": {"IBRION": -1, "NSW": 0},
    "relax": {"IBRION": 2, "ISIF": 2},
    "relax-cell": {"IBRION": 2, "ISIF": 3},
    # VASP >= 6.4: only the third lattice vector may change (in-plane lattice held at the substrate's)
    "relax-c": {"IBRION": 2, "ISIF": 3, "LATTICE_CONSTRAINTS": [False, False, True]},
}


class PotcarsMissing(RuntimeError):
    """No POTCAR directory is configured: inputs were written with POTCAR.spec for inspection."""


def species_order(atoms: Atoms) -> np.ndarray:
    """Atom order for VASP: grouped by species (first appearance), stable within a species.

    POSCAR and POTCAR go species block by species block; slabs list atoms plane by plane.
    """
    symbols = atoms.get_chemical_symbols()
    species = list(dict.fromkeys(symbols))
    return np.argsort([species.index(s) for s in symbols], kind="stable")


def potcar_symbols(atoms: Atoms) -> list[str]:
    """PAW dataset names in POSCAR species order."""
    species = list(dict.fromkeys(atoms.get_chemical_symbols()))
    return [RECOMMENDED_POTCARS.get(s, s) for s in species]


def incar(atoms: Atoms, settings: CalcSettings, task: str) -> Incar:
    """INCAR with the study's tags: PAW-PBE cutoff, smearing, EDIFF, EDIFFG, spin, dipole correction."""
    if settings.mode != "pw":
        raise ValueError(f"mode: VASP is plane-wave only, got {settings.mode!r}")
    tags: dict = {
        "SYSTEM": atoms.info.get("name", atoms.get_chemical_formula()),
        "PREC": "Accurate",
        "ENCUT": settings.encut_ev,
        "EDIFF": settings.scf_energy_tol_ev,
        "NELM": settings.scf_max_iterations,
        "ALGO": "Normal",
        "ISMEAR": 0 if settings.smearing == "gaussian" else -1,
        "SIGMA": settings.smearing_ev,
        # one projection scheme for every energy of a study (reciprocal space: "Auto" above some size
        # would give slabs and bulk/atoms different projections, not recorded in the fingerprint)
        "LREAL": False,
        # aspherical gradient corrections inside the PAW spheres: needed for the free atom (0.1-0.3 eV
        # for open shells), so on for every energy subtracted from it
        "LASPH": True,
        "LWAVE": False,
        "LCHARG": False,
        "ISPIN": 1,
        **TASK_TAGS[task],
    }
    if task != "single-point":
        tags["NSW"] = settings.max_steps
        tags["EDIFFG"] = -settings.fmax_ev_per_a  # negative: stop on forces, eV/A
    if spin_polarised(atoms, settings):
        tags["ISPIN"] = 2
        tags["MAGMOM"] = [HUND_MOMENTS_MU_B.get(s, 1.0) for s in atoms.get_chemical_symbols()]
    if structure_kind(atoms) == "atom":
        tags["ISYM"] = 0  # symmetry would average the open-shell atom to a spherical, fractional density
    if needs_dipole_correction(atoms, settings):
        # the slab's faces differ: dipole correction along the normal, centred on the slab
        tags.update(
            LDIPOL=True, IDIPOL=3, DIPOL=np.round(atoms.get_scaled_positions().mean(axis=0), 6).tolist()
        )
    return Incar(tags)


def kpoints(atoms: Atoms, settings: CalcSettings, mesh: tuple[int, int, int] | None = None) -> Kpoints:
    mesh = mesh or kpoint_mesh(atoms, settings.kpoint_length_a)
    style, reason = kpoint_style(atoms, mesh)
    if style == "Gamma":
        return Kpoints(comment=reason, style=Kpoints.supported_modes.Gamma, kpts=[mesh])
    return Kpoints(comment=reason, style=Kpoints.supported_modes.Monkhorst, kpts=[mesh])


def poscar(atoms: Atoms) -> Poscar:
    """POSCAR, with selective dynamics from FixAtoms when any atom is fixed."""
    structure = AseAtomsAdaptor.get_structure(atoms)
    fixed = set(fixed_indices(atoms))
    dynamics = [[i not in fixed] * 3 for i in range(len(atoms))] if fixed else None
    return Poscar(
        structure, comment=atoms.info.get("name", ""), selective_dynamics=dynamics, sort_structure=False
    )


def find_potcar(symbol: str, functional: str, psp_dir: Path) -> Path:
    for folder in POTCAR_FOLDERS[functional]:
        for candidate in (psp_dir / folder / symbol / "POTCAR", psp_dir / folder / f"POTCAR.{symbol}"):
            if candidate.is_file():
                return candidate
    raise PotcarsMissing(f"no POTCAR for {symbol} ({functional}) under {psp_dir}")


def write_inputs(
    atoms: Atoms,
    settings: CalcSettings,
    task: str,
    folder: str | Path,
    psp_dir: str | None = None,
    mesh: tuple[int, int, int] | None = None,
) -> list[str]:
    """Write INCAR, KPOINTS, POSCAR and the POTCAR (or POTCAR.spec without psp_dir); return the symbols."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atoms = atoms[species_order(atoms)]
    incar(atoms, settings, task).write_file(folder / "INCAR")
    kpoints(atoms, settings, mesh).write_file(folder / "KPOINTS")
    poscar(atoms).write_file(folder / "POSCAR")
    symbols = potcar_symbols(atoms)
    (folder / "POTCAR.spec").write_text("\n".join(symbols) + "\n")
    if psp_dir:
        with open(folder / "POTCAR", "wb") as potcar:
            for symbol in symbols:
                potcar.write(find_potcar(symbol, settings.functional, Path(psp_dir)).read_bytes())
    return symbols


def parse_vasprun(path: str | Path) -> dict:
    """Energy (sigma -> 0), forces, steps and convergence of a VASP run, from vasprun.xml."""
    run = Vasprun(str(path), parse_dos=False, parse_eigen=False, parse_potcar_file=False)
    last = run.ionic_steps[-1]
    forces = np.array(last["forces"])
    structure = run.final_structure
    selective = structure.site_properties.get("selective_dynamics")
    free = np.ones_like(forces, dtype=bool) if selective is None else np.array(selective, dtype=bool)
    return {
        # energy(sigma -> 0) = (TOTEN + energy without entropy) / 2, as VASP prints it in OUTCAR; the
        # e_0_energy field of vasprun.xml is unreliable in VASP 5 (zero in the fixtures' runs)
        "energy_ev": 0.5 * float(last["e_fr_energy"] + last["e_wo_entrp"]),
        "free_energy_ev": float(last["e_fr_energy"]),
        "forces": forces,
        "max_force_ev_per_a": float(np.linalg.norm(np.where(free, forces, 0.0), axis=1).max()),
        "ionic_steps": len(run.ionic_steps),
        "electronic_converged": bool(run.converged_electronic),
        "ionic_converged": bool(run.converged_ionic),
        "atoms": AseAtomsAdaptor.get_atoms(structure),
        "vasp_version": run.vasp_version,
        "kpoints": [int(n) for n in run.kpoints.kpts[0]] if run.kpoints.kpts else [],
    }


def run_vasp(
    atoms: Atoms,
    settings: CalcSettings,
    workdir: str | Path,
    task: str,
    name: str,
    environ: dict | None = None,
    mesh: tuple[int, int, int] | None = None,
) -> tuple[CalcRecord, Atoms]:
    """Run VASP under custodian in `workdir` (a scratch folder outside results/) and record the result.

    A rerun after an interruption continues from the CONTCAR left behind.

    Raises:
        PotcarsMissing: PMG_VASP_PSP_DIR is not set; inputs and POTCAR.spec are in `workdir`.
    """
    from custodian import Custodian
    from custodian.vasp.handlers import (
        NonConvergingErrorHandler,
        PotimErrorHandler,
        UnconvergedErrorHandler,
        VaspErrorHandler,
    )
    from custodian.vasp.jobs import VaspJob

    environ = os.environ if environ is None else environ
    workdir = Path(workdir)
    input_hash = structure_hash(atoms)
    start_atoms = atoms
    contcar = workdir / "CONTCAR"
    resumed = contcar.is_file() and contcar.stat().st_size > 0 and task != "single-point"
    order = species_order(atoms)
    if resumed:  # continue an interrupted relaxation from its last geometry, constraints kept
        continued = AseAtomsAdaptor.get_atoms(Poscar.from_file(contcar).structure)
        start_atoms = atoms.copy()
        start_atoms.set_cell(continued.cell)
        start_atoms.positions[order] = continued.positions
    psp_dir = environ.get("PMG_VASP_PSP_DIR")
    write_inputs(start_atoms, settings, task, workdir, psp_dir, mesh)
    if not psp_dir:
        raise PotcarsMissing(
            f"{name}: PMG_VASP_PSP_DIR is not set, so no POTCAR was written. The VASP inputs are in "
            f"{workdir} with POTCAR.spec listing the PAW datasets ({', '.join(potcar_symbols(atoms))}); "
            "set PMG_VASP_PSP_DIR to your POTCAR library to run VASP."
        )
    command = environ.get("VASP_COMMAND")
    if not command:
        raise RuntimeError(f"{name}: VASP_COMMAND is not set (e.g. VASP_COMMAND='srun vasp_std')")

    # (no MeshSymmetryErrorHandler: its remedy is a Gamma-centred mesh, which these inputs always use)
    handlers = [
        VaspErrorHandler(),
        UnconvergedErrorHandler(),
        NonConvergingErrorHandler(),
        PotimErrorHandler(),
    ]
    # auto_gamma off: the binary is the one in VASP_COMMAND (a Gamma-only build is the user's choice)
    job = VaspJob(shlex.split(command), final=True, auto_npar=False, auto_gamma=False, copy_magmom=False)
    start = time.perf_counter()
    Custodian(handlers, [job], max_errors=5, polling_time_step=1, directory=str(workdir)).run()
    parsed = parse_vasprun(workdir / "vasprun.xml")
    final = atoms.copy()
    final.set_cell(parsed["atoms"].cell)
    final.positions[order] = parsed["atoms"].positions  # back from VASP's species order
    forces = np.zeros_like(parsed["forces"])
    forces[order] = parsed["forces"]
    converged = parsed["electronic_converged"] and (task == "single-point" or parsed["ionic_converged"])
    record = new_record(
        name,
        task,
        "vasp",
        str(parsed["vasp_version"]),
        settings,
        final,
        energy_ev=parsed["energy_ev"],
        forces=forces,
        max_force_ev_per_a=parsed["max_force_ev_per_a"],
        converged=converged,
        ionic_steps=parsed["ionic_steps"] if task != "single-point" else 0,
        wall_time_s=time.perf_counter() - start,
        mesh=mesh,
        input_hash=input_hash,
        resumed_from_step=1 if resumed else 0,
        attempts=[{"label": "custodian", "outcome": "ok"}],
        message="" if converged else "VASP did not converge (see vasprun.xml in the work directory)",
        extra={"free_energy_ev": parsed["free_energy_ev"], "potcars": potcar_symbols(atoms)},
    )
    return record, final
