"""One calculation interface: relax or evaluate a structure with GPAW or VASP and return a record."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from ase import Atoms

from nanophase.calculators.normal_fit import normal_length, relax_normal_by_energy
from nanophase.calculators.records import CalcRecord, read_record, structure_hash, write_record
from nanophase.calculators.settings import PRESETS, CalcSettings, kpoint_mesh, kpoint_style
from nanophase.symmetry import primitive_cell

BACKENDS = ("gpaw", "vasp", "mlip")
RELAX_TASKS = ("relax", "relax-cell", "relax-c")
# tasks that relax a periodic crystal's cell: they run in its primitive cell (same orientation), so that
# one k-point length gives bulk references a proper mesh (2x2x2 for PbS where the 8-atom cell had Gamma)
CELL_TASKS = ("relax-cell", "relax-c")

__all__ = [
    "BACKENDS",
    "PRESETS",
    "CalcRecord",
    "CalcSettings",
    "read_record",
    "backend_choice",
    "prerelax_choice",
    "resolve_backend",
    "run_calculation",
    "write_record",
]


def vasp_available(environ: dict | None = None) -> bool:
    """VASP can run: a run command (VASP_COMMAND) and POTCARs (PMG_VASP_PSP_DIR) are configured."""
    environ = os.environ if environ is None else environ
    psp_dir = environ.get("PMG_VASP_PSP_DIR", "")
    return bool(environ.get("VASP_COMMAND")) and bool(psp_dir) and Path(psp_dir).is_dir()


def backend_choice(requested: str, environ: dict | None = None) -> tuple[str, str]:
    """The backend to use and why: "auto" -> vasp when its command and POTCARs are configured, else gpaw;
    "mlip" only when asked for (a screening, not DFT)."""
    if requested not in ("auto", *BACKENDS):
        raise ValueError(f"backend: {requested!r} is not one of {['auto', *BACKENDS]}")
    if requested != "auto":
        return requested, "set in the config"
    if vasp_available(environ):
        return "vasp", "auto: VASP_COMMAND and PMG_VASP_PSP_DIR are set"
    return "gpaw", "auto: VASP_COMMAND or PMG_VASP_PSP_DIR not set"


# the potential "auto" pre-relaxes with, best first: on the default study's DFT stage (GPAW, 2026-12-05)
# SevenNet-0's geometries and Hessians left 45 DFT ionic steps where CHGNet's left 146 (cold start: 247;
# README, Benchmarks); neither start is the lower one for every reconstructing sheet
PRERELAX_PREFERENCE = ("sevenn", "chgnet")


def prerelax_choice(requested: str, backend: str) -> tuple[str, str]:
    """The potential that pre-relaxes DFT relaxations, and why.

    "auto" takes the first installed potential of PRERELAX_PREFERENCE (the setup script installs both)
    and a cold start otherwise; the mlip backend has nothing to pre-relax. The potential only moves the
    starting geometry (and seeds BFGS's Hessian): energies are DFT ones, so pre-relaxed and cold-started
    records of one study may be subtracted.
    """
    from nanophase.calculators.mlip_calc import mlip_available

    if backend == "mlip":
        return "none", "the mlip backend relaxes with the potential itself"
    if requested != "auto":
        return requested, "set in the config"
    for model in PRERELAX_PREFERENCE:
        if mlip_available(model):
            return model, f"auto: {model} is installed"
    return (
        "none",
        "auto: no potential installed, DFT relaxations start cold "
        "(bash scripts/setup.sh installs SevenNet-0 and CHGNet)",
    )


def resolve_backend(requested: str, environ: dict | None = None) -> str:
    """The backend name of backend_choice()."""
    return backend_choice(requested, environ)[0]


def run_calculation(
    atoms: Atoms, settings: CalcSettings, backend: str, task: str, workdir: str | Path, name: str
) -> tuple[CalcRecord, Atoms]:
    """Relax ("relax", "relax-cell", "relax-c") or evaluate ("single-point") `atoms` with one backend.

    Cell relaxations run in the primitive cell of `atoms` (the final structure is that cell; the record's
    input hash is that of `atoms` as given).
    With settings.prerelax set, a DFT relaxation starts from the geometry the potential relaxed to
    (in workdir/prerelax, resumable too); the record keeps both step counts and wall times.
    """
    workdir = Path(workdir)
    if backend not in BACKENDS:
        raise ValueError(f"backend: {backend!r} is not one of {list(BACKENDS)}")
    input_hash = structure_hash(atoms)  # the structure the rule handed over
    # the curated lattice is kept (see CalcSettings.relax_cell), but a strained shell still needs its
    # normal: from an E(c) fit at constant cutoff instead of the (Pulay-affected) stress
    normal_by_energy = task == "relax-c" and not settings.relax_cell and backend != "mlip"
    c_start_a = normal_length(atoms) if normal_by_energy else 0.0
    if task in CELL_TASKS:
        atoms = primitive_cell(atoms)
        if not settings.relax_cell and not normal_by_energy:
            task = "relax"
    prerelaxed = None
    if backend != "mlip" and settings.prerelax != "none" and task in RELAX_TASKS:
        prerelaxed = prerelax(atoms, settings, task, workdir / "prerelax")
        if normal_by_energy:  # the scan starts at the potential's normal (a zz strain scales the volume)
            c_start_a *= abs(np.linalg.det(prerelaxed["cell"]) / np.linalg.det(atoms.cell.array))
        atoms = atoms.copy()
        atoms.set_cell(prerelaxed["cell"], scale_atoms=False)
        atoms.positions = prerelaxed["positions"]
        # ASE's BFGS drives only GPAW relaxations (VASP relaxes itself); positions only: a cell
        # filter changes the degrees of freedom
        seeded_bfgs = settings.prerelax_hessian and settings.optimizer == "BFGS"
        if backend == "gpaw" and task == "relax" and seeded_bfgs:
            prerelaxed.update(seed_hessian(atoms, settings.prerelax, workdir))
    if normal_by_energy:
        from ase.parallel import world

        # the start's mesh and centring for every cell of the scan and the fitted one: a mesh that
        # changed with c (a subdivision gained as a vector shortens) would put a step into E(c)
        start_mesh = kpoint_mesh(atoms, settings.kpoint_length_a)
        start_gamma = kpoint_style(atoms, start_mesh)[0] == "Gamma"

        def relax_positions(cell: Atoms, folder: Path, scan_point: bool) -> tuple[CalcRecord, Atoms]:
            return _run_backend(cell, settings, backend, "relax", folder, name, start_mesh, start_gamma)

        record, final = relax_normal_by_energy(atoms, relax_positions, workdir / "normal", c_start_a,
                                               is_writer=world.rank == 0)  # fmt: skip
    else:
        record, final = _run_backend(atoms, settings, backend, task, workdir, name)
    record.input_hash = input_hash
    if prerelaxed is not None:
        record.extra["prerelax"] = {k: v for k, v in prerelaxed.items() if k not in ("cell", "positions")}
    return record, final


def _run_backend(
    atoms: Atoms,
    settings: CalcSettings,
    backend: str,
    task: str,
    workdir: Path,
    name: str,
    mesh=None,
    gamma=None,
) -> tuple[CalcRecord, Atoms]:
    """One calculation with one backend; `mesh` holds a k-point mesh instead of the settings' rule."""
    if backend == "mlip":
        from nanophase.calculators.mlip_calc import run_mlip

        return run_mlip(atoms, settings, workdir, task, name)
    if backend == "gpaw":
        from nanophase.calculators.gpaw_calc import run_gpaw

        return run_gpaw(atoms, settings, workdir, task, name, mesh=mesh, gamma=gamma)
    from nanophase.calculators.vasp_calc import run_vasp

    return run_vasp(atoms, settings, workdir, task, name, mesh=mesh)


def prerelax(atoms: Atoms, settings: CalcSettings, task: str, workdir: Path) -> dict:
    """Relax a copy of `atoms` with the settings' potential; all MPI ranks take rank 0's geometry.

    Every rank runs the potential (the resumable relaxation synchronises the ranks as it writes its
    trajectory); broadcasting rank 0's result makes the DFT start identical on all of them.
    """
    import time

    from ase.parallel import broadcast, world

    from nanophase.calculators.mlip_calc import mlip_relax, model_version

    trial = atoms.copy()
    start = time.perf_counter()
    outcome = mlip_relax(trial, settings.prerelax, workdir, task, settings.fmax_ev_per_a, settings.max_steps,
                         settings.optimizer)  # fmt: skip
    result = {
        "model": settings.prerelax,
        "model_version": model_version(settings.prerelax),
        "steps": outcome.steps,
        "converged": outcome.converged,
        "wall_time_s": time.perf_counter() - start,
        "energy_ev": float(trial.get_potential_energy()),
        "cell": trial.cell.array.copy(),
        "positions": trial.positions.copy(),
    }
    return broadcast(result if world.rank == 0 else None, root=0, comm=world)


def seed_hessian(atoms: Atoms, model: str, workdir: Path) -> dict:
    """Rank 0 writes the potential's Hessian at `atoms` as the BFGS start state of the DFT relaxation.

    A relaxation that has already begun keeps its own state (nothing is computed or written then).
    """
    import time

    from ase.parallel import broadcast, world

    from nanophase.calculators.mlip_calc import mlip_hessian
    from nanophase.calculators.optimize import relaxation_started, seed_bfgs_hessian

    result = {"hessian_seeded": False, "hessian_wall_time_s": 0.0}
    if world.rank == 0 and not relaxation_started(workdir):
        start = time.perf_counter()
        result["hessian_seeded"] = seed_bfgs_hessian(workdir, atoms, mlip_hessian(atoms, model))
        result["hessian_wall_time_s"] = time.perf_counter() - start
    world.barrier()
    return broadcast(result if world.rank == 0 else None, root=0, comm=world)


def lattice_source(
    bulk_path: str | Path, name: str, record_path: str | Path | None = None, allow_unconverged: bool = False
) -> Atoms:
    """The bulk cell structures are cut from: as given, or relaxed, then only if the relaxation converged.

    Raises:
        UnconvergedError: the bulk relaxation did not converge and allow_unconverged is False.
    """
    from nanophase.bulk import read_bulk

    if record_path is not None:
        read_record(record_path, require_converged=not allow_unconverged)
    return read_bulk(bulk_path, name=name)
