"""Benchmark: the default study (config/config.yaml) end to end with GPAW, from an empty folder.

Prints a table and writes it to benchmarks/results/default_study.md. Run from the repository root
(as root, Open MPI also needs OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1):

    .venv/bin/python benchmarks/bench_default_study.py

Baselines measured in the same run: the structures-only run (`snakemake structures`, the same
start-up and planning without DFT) and the sum of the calculations' own wall times (what one core
after another would need; total / sum shows how well the jobs share the cores).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
SCRATCH = REPO / "benchmarks" / "scratch" / "default_study"
TARGET_S = 15 * 60


def study_config() -> Path:
    """config/config.yaml with absolute bulk paths, so that the study runs in the scratch folder."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for entry in config["bulk"].values():
        entry["file"] = str(REPO / entry["file"])
    path = SCRATCH / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def snakemake(*args: str) -> float:
    config = study_config()
    start = time.perf_counter()
    # targets before --configfile, which takes several values
    command = [sys.executable, "-m", "snakemake", *args, "--snakefile", str(REPO / "Snakefile"),
               "--directory", str(SCRATCH), "--configfile", str(config)]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"snakemake {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return time.perf_counter() - start


def main() -> None:
    cores = os.cpu_count() or 1
    shutil.rmtree(SCRATCH, ignore_errors=True)
    SCRATCH.mkdir(parents=True)
    structures_s = snakemake("structures", "--cores", str(cores))
    shutil.rmtree(SCRATCH)
    SCRATCH.mkdir(parents=True)
    total_s = snakemake("--cores", str(cores))  # the README's main command: every table and figure
    records = [json.loads(p.read_text()) for p in SCRATCH.glob("results/calcs/*/*/record.json")]
    calc_sum_s = sum(r["wall_time_s"] for r in records)
    slowest = max(records, key=lambda r: r["wall_time_s"])
    steps = sum(r["ionic_steps"] for r in records)
    tables = sorted(p.name for p in (SCRATCH / "results" / "tables").glob("*.csv"))
    figures = sorted(p.name for p in (SCRATCH / "results" / "figures").glob("*.png"))
    rows = [
        ("`snakemake --cores all`, default study, empty folder", f"{total_s:.0f} s ({total_s / 60:.1f} min)",
         f"< {TARGET_S // 60} min"),
        ("calculations (GPAW)", f"{len(records)} jobs, {steps} ionic steps", ""),
        ("sum of the calculations' own wall times", f"{calc_sum_s:.0f} s", f"{calc_sum_s / total_s:.2f}x the total"),
        ("slowest calculation", f"{slowest['name']} ({slowest['n_atoms']} atoms, {slowest['ionic_steps']} steps): "
         f"{slowest['wall_time_s']:.0f} s", ""),
        ("baseline, same run: `snakemake --cores all structures`", f"{structures_s:.1f} s", ""),
        ("tables / figures written", f"{len(tables)} / {len(figures)}", ""),
    ]  # fmt: skip
    stamp = (
        f"{datetime.date.today()}, {platform.machine()}, {cores} cores, Python {platform.python_version()}"
    )
    lines = [f"# Default study end to end ({stamp})", "", "| measurement | value | target / ratio |",
             "|---|---|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows), ""]  # fmt: skip
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "default_study.md").write_text(text)


if __name__ == "__main__":
    main()
