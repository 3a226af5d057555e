"""Benchmark: a study end to end (every calculation, table and figure), from an empty folder.

Prints a table and writes it to benchmarks/results/<name>.md. Run from the repository root:

    .venv/bin/python benchmarks/bench_study.py                       # the default study, GPAW
    .venv/bin/python benchmarks/bench_study.py screening config/paper.yaml config/screening.yaml

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
from _publish import publish  # benchmarks/_publish.py, beside this script

REPO = Path(__file__).resolve().parents[1]
TARGETS_S = {"default_study": 15 * 60}


def study_configs(sources: list[str], scratch: Path) -> list[Path]:
    """Copies of the configs with absolute bulk paths, so that the study runs in the scratch folder."""
    paths = []
    for index, source in enumerate(sources):
        config = yaml.safe_load((REPO / source).read_text())
        for entry in config.get("bulk", {}).values():
            entry["file"] = str(REPO / entry["file"])
        paths.append(scratch / f"config{index}.yaml")
        paths[-1].write_text(yaml.safe_dump(config))
    return paths


def snakemake(scratch: Path, configs: list[Path], *args: str) -> float:
    start = time.perf_counter()
    # targets before --configfile, which takes several values
    command = [sys.executable, "-m", "snakemake", *args, "--snakefile", str(REPO / "Snakefile"),
               "--directory", str(scratch), "--configfile", *map(str, configs)]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"snakemake {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return time.perf_counter() - start


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "default_study"
    sources = sys.argv[2:] or ["config/config.yaml"]
    scratch = REPO / "benchmarks" / "scratch" / name
    cores = os.cpu_count() or 1
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    structures_s = snakemake(scratch, study_configs(sources, scratch), "structures", "--cores", str(cores))
    shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    # the README's main command: every calculation, table and figure
    total_s = snakemake(scratch, study_configs(sources, scratch), "--cores", str(cores))
    records = [json.loads(p.read_text()) for p in scratch.glob("results/calcs/*/*/record.json")]
    calc_sum_s = sum(r["wall_time_s"] for r in records)
    slowest = max(records, key=lambda r: r["wall_time_s"])
    steps = sum(r["ionic_steps"] for r in records)
    tables = sorted(p.name for p in scratch.glob("results/**/tables/*.csv"))
    figures = sorted(p.name for p in scratch.glob("results/**/figures/*.png"))
    target = TARGETS_S.get(name)
    rows = [
        (f"`snakemake --cores all`, {' + '.join(sources)}, empty folder", f"{total_s:.0f} s ({total_s / 60:.1f} min)",
         f"< {target // 60} min" if target else ""),
        (f"calculations ({records[0]['code']})", f"{len(records)} jobs, {steps} ionic steps", ""),
        ("sum of the calculations' own wall times", f"{calc_sum_s:.0f} s", f"{calc_sum_s / total_s:.2f}x the total"),
        ("slowest calculation", f"{slowest['name']} ({slowest['n_atoms']} atoms, {slowest['ionic_steps']} steps): "
         f"{slowest['wall_time_s']:.0f} s", ""),
        ("baseline, same run: `snakemake --cores all structures`", f"{structures_s:.1f} s", ""),
        ("tables / figures written", f"{len(tables)} / {len(figures)}", ""),
    ]  # fmt: skip
    stamp = (
        f"{datetime.date.today()}, {platform.machine()}, {cores} cores, Python {platform.python_version()}"
    )
    lines = [f"# {name}: {' + '.join(sources)} end to end ({stamp})", "", "| measurement | value | target / ratio |",
             "|---|---|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows), ""]  # fmt: skip
    publish(lines, name)


if __name__ == "__main__":
    main()
