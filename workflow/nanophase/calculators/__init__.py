"""One calculation interface: relax or evaluate a structure with GPAW or VASP and return a record."""

from __future__ import annotations

import os
from pathlib import Path

from ase import Atoms

from nanophase.calculators.records import CalcRecord, read_record, write_record
from nanophase.calculators.settings import PRESETS, CalcSettings

BACKENDS = ("gpaw", "vasp")

__all__ = [
    "BACKENDS",
    "PRESETS",
    "CalcRecord",
    "CalcSettings",
    "read_record",
    "backend_choice",
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
    """The backend to use and why: "auto" -> vasp when its command and POTCARs are configured, else gpaw."""
    if requested not in ("auto", *BACKENDS):
        raise ValueError(f"backend: {requested!r} is not one of {['auto', *BACKENDS]}")
    if requested != "auto":
        return requested, "set in the config"
    if vasp_available(environ):
        return "vasp", "auto: VASP_COMMAND and PMG_VASP_PSP_DIR are set"
    return "gpaw", "auto: VASP_COMMAND or PMG_VASP_PSP_DIR not set"


def resolve_backend(requested: str, environ: dict | None = None) -> str:
    """The backend name of backend_choice()."""
    return backend_choice(requested, environ)[0]


def run_calculation(
    atoms: Atoms, settings: CalcSettings, backend: str, task: str, workdir: str | Path, name: str
) -> tuple[CalcRecord, Atoms]:
    """Relax ("relax", "relax-cell", "relax-c") or evaluate ("single-point") `atoms` with one backend."""
    workdir = Path(workdir)
    if backend == "gpaw":
        from nanophase.calculators.gpaw_calc import run_gpaw

        return run_gpaw(atoms, settings, workdir, task, name)
    if backend == "vasp":
        from nanophase.calculators.vasp_calc import run_vasp

        return run_vasp(atoms, settings, workdir, task, name)
    raise ValueError(f"backend: {backend!r} is not one of {list(BACKENDS)}")


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
