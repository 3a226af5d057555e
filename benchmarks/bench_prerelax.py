"""Benchmark: DFT relaxations of the default study's slabs, cold start vs. pre-relaxed with a potential.

For each slab of config/config.yaml (cut from the curated bulk lattice), GPAW relaxes it with the
study's settings three times, side by side in one run: from the cut geometry (the baseline), from the
geometry CHGNet (or SevenNet-0) relaxed it to, and from that geometry with BFGS starting from the
potential's Hessian (calculator.prerelax_hessian, the default). All reach the same fmax. Prints a table
and writes it
to benchmarks/results/prerelax_<model>.md. Run from the repository root:

    .venv/bin/python benchmarks/bench_prerelax.py [chgnet|sevenn]

Target: pre-relaxed DFT ionic steps <= 0.4 x the cold start's.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from _publish import publish  # benchmarks/_publish.py, beside this script

from nanophase.bulk import read_bulk
from nanophase.calculators.job import Calculation
from nanophase.calculators.settings import CalcSettings
from nanophase.config import load_config
from nanophase.structio import write_structure
from nanophase.study import Study

REPO = Path(__file__).resolve().parents[1]
SCRATCH = REPO / "benchmarks" / "scratch" / "prerelax"
TARGET = 0.4


def relax(name: str, structure: Path, settings: CalcSettings, label: str, ranks: int) -> dict:
    """One GPAW relaxation through the product's own entry point (`nanophase calc`), on `ranks` ranks."""
    folder = SCRATCH / label / name
    folder.mkdir(parents=True, exist_ok=True)
    calculation = folder / "calculation.json"
    Calculation.of(name, "relax", "gpaw", settings).write(calculation)
    command = [
        "mpiexec",
        "--bind-to",
        "none",
        "-n",
        str(ranks),
        sys.executable,
        "-m",
        "gpaw",
        "python",
        "-m",
        "nanophase",
        "calc",
        "--calculation",
        str(calculation),
        "--structure",
        str(structure),
        "--workdir",
        str(folder / "work"),
        "--record",
        str(folder / "record.json"),
        "--final",
        str(folder / "final.extxyz"),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if os.geteuid() == 0:  # Open MPI refuses to start as root without these
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    subprocess.run(command, check=True, capture_output=True, env=env)
    return json.loads((folder / "record.json").read_text())


def main() -> None:
    model = sys.argv[1] if len(sys.argv) > 1 else "chgnet"
    config = load_config(REPO / "config" / "config.yaml")
    study = Study.from_config(config, root=REPO)
    # the baseline starts cold whatever the config asks (`auto` is resolved by the workflow, not here)
    settings = CalcSettings.from_config({**config["calculator"], "prerelax": "none"})
    shutil.rmtree(SCRATCH, ignore_errors=True)
    rows = []
    ranks = min(2, os.cpu_count() or 1)
    for slab_model in study.slabs:
        slab = slab_model.build(read_bulk(REPO / study.bulk_files[slab_model.bulk], name=slab_model.bulk))[
            slab_model.name
        ]
        path = SCRATCH / "inputs" / f"{slab_model.name}.extxyz"
        write_structure(slab, path)
        cold = relax(slab_model.name, path, settings, "cold", ranks)
        geometry = relax(slab_model.name, path, replace(settings, prerelax=model, prerelax_hessian=False),
                         "prerelaxed-geometry", ranks)  # fmt: skip
        seeded = relax(slab_model.name, path, replace(settings, prerelax=model), "prerelaxed-hessian", ranks)
        rows.append((slab_model.name, len(slab), cold, geometry, seeded))
    lines = [
        f"# DFT relaxations, cold start vs. {model} pre-relaxed ({datetime.date.today()}, "
        f"{platform.machine()}, "
        f"{os.cpu_count()} cores, GPAW on {ranks} ranks, {settings.encut_ev:g} eV, fmax "
        f"{settings.fmax_ev_per_a:g} eV/A)",
        "",
        "| slab | atoms | cold: DFT steps / s | MLIP relaxation: steps / s | pre-relaxed geometry: DFT "
        "steps / s "
        "(ratio) | + MLIP Hessian: DFT steps / s (ratio) | Hessian: s | wall ratio, Hessian seeded, MLIP "
        "included | "
        "E_seeded - E_cold (meV) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    totals = {"cold": 0, "geometry": 0, "seeded": 0}
    for name, atoms, cold, geometry, seeded in rows:
        pre = seeded["extra"]["prerelax"]
        mlip_s = pre["wall_time_s"] + pre["hessian_wall_time_s"]
        wall = (seeded["wall_time_s"] + mlip_s) / cold["wall_time_s"]
        totals["cold"] += cold["ionic_steps"]
        totals["geometry"] += geometry["ionic_steps"]
        totals["seeded"] += seeded["ionic_steps"]
        lines.append(
            f"| {name} | {atoms} | {cold['ionic_steps']} / {cold['wall_time_s']:.0f} | {pre['steps']} / "
            f"{pre['wall_time_s']:.0f} | {geometry['ionic_steps']} / {geometry['wall_time_s']:.0f} "
            f"({geometry['ionic_steps'] / max(cold['ionic_steps'], 1):.2f}) | {seeded['ionic_steps']} / "
            f"{seeded['wall_time_s']:.0f} ({seeded['ionic_steps'] / max(cold['ionic_steps'], 1):.2f}) | "
            f"{pre['hessian_wall_time_s']:.1f} | {wall:.2f} | "
            f"{1000 * (seeded['energy_ev'] - cold['energy_ev']):+.0f} |"
        )
    lines += [
        "",
        f"All slabs, DFT steps against the cold start ({totals['cold']}): pre-relaxed geometry "
        f"{totals['geometry']} = {totals['geometry'] / max(totals['cold'], 1):.2f}, with the MLIP Hessian "
        f"{totals['seeded']} = {totals['seeded'] / max(totals['cold'], 1):.2f} (target <= {TARGET}).",
        "",
    ]
    publish(lines, f"prerelax_{model}")


if __name__ == "__main__":
    main()
