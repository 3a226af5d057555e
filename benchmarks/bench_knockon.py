"""Benchmark: displacement thresholds by collision dynamics (MLIP + ZBL), through the workflow.

Runs `snakemake beam_damage` (the kicks of every sheet of the study, the GPAW check where the study has
one, and the beam tables) from an empty folder and prints the seconds per bisected site (goal <= 60 s for
the default sheets on 2 cores), the MD runs and steps per site, the GPAW check's cost and bracket, and, as
the baseline measured in the same run, `snakemake structures` (start-up, planning and slab building
without any dynamics). Run from the repository root:

    .venv/bin/python benchmarks/bench_knockon.py                      # the default study
    .venv/bin/python benchmarks/bench_knockon.py paper config/paper.yaml
"""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import sys

import pandas as pd
from _publish import publish
from bench_study import REPO, snakemake, study_configs

GOAL_S_PER_SITE = 60.0


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "default"
    sources = sys.argv[2:] or ["config/config.yaml"]
    scratch = REPO / "benchmarks" / "scratch" / f"knockon-{name}"
    cores = os.cpu_count() or 1
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    structures_s = snakemake(scratch, study_configs(sources, scratch), "structures", "--cores", str(cores))
    total_s = snakemake(scratch, study_configs(sources, scratch), "beam_damage", "--cores", str(cores))
    sites = pd.read_csv(scratch / "results" / "tables" / "displacement_thresholds.csv")
    rows = [
        (f"`snakemake --cores {cores} beam_damage`, {' + '.join(sources)}, after structures",
         f"{total_s:.0f} s", ""),
        ("baseline, same run: `snakemake structures`", f"{structures_s:.1f} s", ""),
    ]  # fmt: skip
    for _, site in sites.iterrows():
        rows.append((f"{site['sheet']}: {site['site']} ({site['atoms']} atoms)",
                     f"{site['seconds']:.0f} s, {site['MD runs']} runs, {site['MD steps']} steps, "
                     f"T_d {site['T_d (eV)']:.2f} eV",
                     f"goal <= {GOAL_S_PER_SITE:.0f} s"))  # fmt: skip
    checked = sites[sites["GPAW check seconds"].notna()] if "GPAW check seconds" in sites else sites.iloc[:0]
    for _, site in checked.iterrows():
        rows.append((f"{site['sheet']}: GPAW check of {site['site']} ({site['check cell atoms']} atoms, "
                     f"{site['GPAW check set-up']})",
                     f"{site['GPAW check seconds']:.0f} s, {site['GPAW check MD steps']} MD steps; GPAW "
                     f"T_sputter {site['T_sputter GPAW, check cell (eV)']} eV, MLIP "
                     f"{site['T_sputter MLIP, check cell (eV)']:.2f} eV: {site['GPAW vs MLIP']}",
                     "with the MLIP stage: at most a quarter of the default study"))  # fmt: skip
    stamp = (
        f"{datetime.date.today()}, {platform.machine()}, {cores} cores, Python {platform.python_version()}"
    )
    lines = [f"# knock-on dynamics, {name} ({stamp})", "", "| measurement | value | goal |", "|---|---|---|",
             *(f"| {a} | {b} | {c} |" for a, b, c in rows), ""]  # fmt: skip
    publish(lines, f"knockon_{name}")


if __name__ == "__main__":
    main()
