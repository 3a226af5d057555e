"""Benchmark: DFT relaxations of the default study's slabs, cold start vs. pre-relaxed with a potential.

For each slab of config/config.yaml (cut from the curated bulk lattice), GPAW relaxes it with the
study's settings twice, side by side in one run: from the cut geometry (the baseline) and from the
geometry CHGNet (or SevenNet-0) relaxed it to. Both reach the same fmax. Prints a table and writes it
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
    command = ["mpiexec", "--bind-to", "none", "-n", str(ranks), sys.executable, "-m", "gpaw", "python", "-m",
               "nanophase", "calc", "--backend", "gpaw", "--name", name, "--task", "relax", "--structure",
               str(structure), "--settings", json.dumps(settings.to_dict()), "--workdir", str(folder / "work"),
               "--record", str(folder / "record.json"), "--final", str(folder / "final.extxyz")]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if os.geteuid() == 0:  # Open MPI refuses to start as root without these
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    subprocess.run(command, check=True, capture_output=True, env=env)
    return json.loads((folder / "record.json").read_text())


def main() -> None:
    model = sys.argv[1] if len(sys.argv) > 1 else "chgnet"
    config = load_config(REPO / "config" / "config.yaml")
    study = Study.from_config(config, root=REPO)
    settings = CalcSettings.from_config(config["calculator"])
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
        warm = relax(slab_model.name, path, replace(settings, prerelax=model), "prerelaxed", ranks)
        pre = warm["extra"]["prerelax"]
        rows.append((slab_model.name, len(slab), cold, warm, pre))
    lines = [
        f"# DFT relaxations, cold start vs. {model} pre-relaxed ({datetime.date.today()}, {platform.machine()}, "
        f"{os.cpu_count()} cores, GPAW on {ranks} ranks, {settings.encut_ev:g} eV, fmax {settings.fmax_ev_per_a:g} eV/A)",
        "",
        "| slab | atoms | cold: DFT steps / s | pre-relaxed: MLIP steps / s | pre-relaxed: DFT steps / s | "
        "DFT steps ratio | wall ratio (MLIP included) | E_pre - E_cold (meV) |",
        "|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    total_cold = total_warm = 0
    for name, atoms, cold, warm, pre in rows:
        ratio = warm["ionic_steps"] / max(cold["ionic_steps"], 1)
        wall = (warm["wall_time_s"] + pre["wall_time_s"]) / cold["wall_time_s"]
        total_cold += cold["ionic_steps"]
        total_warm += warm["ionic_steps"]
        lines.append(
            f"| {name} | {atoms} | {cold['ionic_steps']} / {cold['wall_time_s']:.0f} | {pre['steps']} / "
            f"{pre['wall_time_s']:.0f} | {warm['ionic_steps']} / {warm['wall_time_s']:.0f} | {ratio:.2f} | "
            f"{wall:.2f} | {1000 * (warm['energy_ev'] - cold['energy_ev']):+.0f} |"
        )
    lines += ["", f"All slabs: DFT steps {total_warm} pre-relaxed vs {total_cold} cold = "
                  f"{total_warm / max(total_cold, 1):.2f} (target <= {TARGET}).", ""]  # fmt: skip
    publish(lines, f"prerelax_{model}")


if __name__ == "__main__":
    main()
