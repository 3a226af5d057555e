"""nanophase command line: run one calculation (the rules' entry point), and look-ups users do by hand."""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path

from ase.parallel import world


def _calc(args: argparse.Namespace) -> int:
    from nanophase.calculators import run_calculation, write_record
    from nanophase.calculators.job import Calculation
    from nanophase.calculators.records import structure_hash
    from nanophase.structio import read_structure, write_structure

    atoms = read_structure(args.structure)
    calculation = Calculation.read(args.calculation)
    settings = calculation.calc_settings()
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
        record, final = run_calculation(
            atoms, settings, calculation.backend, calculation.task, workdir, calculation.name
        )
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


def _kick_check(args: argparse.Namespace) -> int:
    """The DFT check of a sheet's knock-on threshold (rule displacement_check; runs under MPI)."""
    from gpaw import GPAW

    from nanophase.calculators import CalcSettings
    from nanophase.calculators.gpaw_calc import gpaw_parameters
    from nanophase.displacement import DFTCheckSettings, KickSettings, RunLog, dft_check
    from nanophase.structio import read_structure

    record = json.loads(Path(args.record).read_text())
    slab = read_structure(args.structure)
    slab.set_constraint()
    written = json.loads(Path(args.settings).read_text())  # rule displacement_check_settings
    kicks = KickSettings.from_config(written["dynamics"])
    check = DFTCheckSettings.from_config(written["check"])
    settings = check.calc_settings(CalcSettings(**written["settings"]))
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    cell = slab.copy()
    cell.pbc = (True, True, False)
    mesh = check.mesh(cell, settings)
    # no force criterion in the SCF: an MD step needs forces consistent with the energy, which the density
    # criterion gives; the relaxations' force criterion added an SCF iteration and a force evaluation to
    # every step and did not lower the drift (same kick: 1.05 meV/atom without, 1.20 with)
    parameters = gpaw_parameters(
        cell, settings, {}, str(workdir / "gpaw.txt"), mesh=mesh, gamma=True, converge_forces=False
    )
    parameters["symmetry"] = "off"  # the kick breaks every symmetry
    calculator = GPAW(**parameters)
    # the unbound test's far configuration on its own calculator: the trajectory keeps its density
    probe = GPAW(**{**parameters, "txt": str(workdir / "gpaw-probe.txt")})
    # runs of other settings (a plane-wave check, another duration) sit in another log, never reused
    # (how many runs and which sheets do not change a run: raising max_runs keeps the kicks already done)
    run_settings = {k: v for k, v in asdict(check).items() if k not in ("max_runs", "sheets", "enabled")}
    described = {"check": run_settings, "calc": asdict(settings), "mesh": mesh, "kicks": kicks.fingerprint()}
    key = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:10]
    runs = RunLog(workdir / f"runs-{key}.json", write=world.rank == 0)
    result = dft_check(slab, calculator, record, kicks, check, runs, probe)
    result["settings"] = {
        "code": "gpaw",
        "described": check.describe(settings, mesh),
        "calc_settings": asdict(settings),
        "mesh": list(mesh),
    }
    if world.rank == 0:
        from nanophase.safe_write import atomic_write_text

        atomic_write_text(args.output, json.dumps(result, indent=1))
    return 0


def _knockon(args: argparse.Namespace) -> int:
    from nanophase.knockon import knock_on, recommended_cross_section

    energies = {f"E_d = {args.ed:g} eV": args.ed} if args.ed is not None else {}
    if args.td is not None:
        import pandas as pd

        table = pd.read_csv(args.td)
        for _, row in table[(table["species"] == args.element) & table["T_d (eV)"].notna()].iterrows():
            energies[f"{row['sheet']} {row['site']}: T_d = {row['T_d (eV)']:.2f} eV"] = float(row["T_d (eV)"])
        if not energies:
            raise SystemExit(f"--td {args.td}: no computed T_d of {args.element}")
    for voltage in args.voltage:
        result = knock_on(args.element, voltage)
        print(f"{args.element} at {voltage:g} kV: E_max = {result.max_transfer_ev:.3f} eV"
              f" (Egerton's form {result.max_transfer_egerton_ev:.3f} eV)")  # fmt: skip
        for label, energy in energies.items():
            site = knock_on(args.element, voltage, energy)
            print(f"  {label} -> threshold {site.threshold_voltage_kv:.1f} kV;"
                  f" sigma_Mott = {site.mott_barn:.2f} b,"
                  f" sigma_McKinley-Feshbach = {site.mckinley_feshbach_barn:.2f} b"
                  f" (use {recommended_cross_section(args.element)} for Z of {args.element})")  # fmt: skip
    return 0


def _table(args: argparse.Namespace) -> int:
    import pandas as pd

    frame = pd.read_csv(args.csv)
    print(frame.to_string(index=False, float_format=lambda x: f"{x:.{args.digits}g}"))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nanophase", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    calc = commands.add_parser("calc", help="relax or evaluate one structure and write its record")
    calc.add_argument("--structure", required=True, help="input structure (extxyz)")
    calc.add_argument(
        "--calculation", required=True, help="calculation.json: name, task, backend, settings (a rule's)"
    )
    calc.add_argument("--workdir", required=True)
    calc.add_argument("--record", required=True, help="record.json to write")
    calc.add_argument("--final", required=True, help="final structure (extxyz) to write")
    calc.set_defaults(handler=_calc)
    knockon = commands.add_parser("knockon", help="maximum energy an electron beam hands to a nucleus")
    knockon.add_argument("element", help="chemical symbol, e.g. Se")
    knockon.add_argument("--voltage", type=float, nargs="+", default=[60, 80, 200, 300], help="kV")
    knockon.add_argument(
        "--ed", type=float, help="displacement energy, eV: adds threshold and cross-sections"
    )
    knockon.add_argument(
        "--td", help="a run's displacement_thresholds.csv: every computed T_d of the element"
    )
    knockon.set_defaults(handler=_knockon)
    check = commands.add_parser("kick-check", help="DFT check of a sheet's knock-on threshold (a rule's)")
    for option in ("--structure", "--record", "--workdir", "--output"):
        check.add_argument(option, required=True)
    check.add_argument("--settings", required=True, help="JSON file: DFT settings, kicks and check")
    check.set_defaults(handler=_kick_check)
    table = commands.add_parser("table", help="pretty-print a CSV table of results")
    table.add_argument("csv")
    table.add_argument("--digits", type=int, default=6, help="significant digits of floats")
    table.set_defaults(handler=_table)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    return args.handler(args)
