"""nanophase command line: run one calculation (the rules' entry point under an MPI launcher)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from ase.parallel import world


def _calc(args: argparse.Namespace) -> int:
    from nanophase.calculators import CalcSettings, run_calculation, write_record
    from nanophase.calculators.records import structure_hash
    from nanophase.structio import read_structure, write_structure

    atoms = read_structure(args.structure)
    settings = CalcSettings(**json.loads(args.settings))
    workdir = Path(args.workdir)
    stamp = workdir / "input.hash"
    if world.rank == 0:
        workdir.mkdir(parents=True, exist_ok=True)
        if stamp.exists() and stamp.read_text() != structure_hash(atoms):
            # a different input than the one an earlier, interrupted run started from: no resuming
            for path in workdir.iterdir():
                if path.is_file():
                    path.unlink()
        stamp.write_text(structure_hash(atoms))
    world.barrier()
    try:
        record, final = run_calculation(atoms, settings, args.backend, args.task, workdir, args.name)
    except Exception as error:  # one clear line for the log; the traceback follows it
        logging.getLogger("nanophase").error("%s: %s", type(error).__name__, error)
        raise
    if world.rank == 0:
        write_structure(final, args.final)
        write_record(record, args.record)  # last: the record's presence means the job is done
    if world.rank != 0:
        return 0
    logging.getLogger("nanophase").info(
        "%s: E = %.6f eV, fmax = %.4f eV/A, %s after %d steps (%s)",
        record.name,
        record.energy_ev,
        record.max_force_ev_per_a,
        "converged" if record.converged else "NOT converged",
        record.ionic_steps,
        record.fingerprint,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nanophase", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    calc = commands.add_parser("calc", help="relax or evaluate one structure and write its record")
    calc.add_argument("--structure", required=True, help="input structure (extxyz)")
    calc.add_argument("--name", required=True)
    calc.add_argument("--backend", required=True, choices=["gpaw", "vasp"])
    calc.add_argument("--task", required=True, choices=["single-point", "relax", "relax-cell"])
    calc.add_argument("--settings", required=True, help="CalcSettings as JSON")
    calc.add_argument("--workdir", required=True)
    calc.add_argument("--record", required=True, help="record.json to write")
    calc.add_argument("--final", required=True, help="final structure (extxyz) to write")
    calc.set_defaults(handler=_calc)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    return args.handler(args)
