"""Benchmark: a study end to end (every calculation, table and figure), from an empty folder.

Prints a table and writes it to benchmarks/results/<name>.md. Run from the repository root:

    .venv/bin/python benchmarks/bench_study.py                       # the default study, GPAW
    .venv/bin/python benchmarks/bench_study.py screening config/paper.yaml config/screening.yaml

Baselines measured in the same run: the structures-only run (`snakemake structures`, the same
start-up and planning without DFT), the sum of the calculations' own wall times (what one core
after another would need; total / sum shows how well the jobs share the cores), and - for a DFT study
that pre-relaxes with a potential (the default, `calculator.prerelax: auto`) - the same study with every
DFT relaxation started cold (`prerelax: none`): the ratio of the two wall times (goal <= 0.5) and how
far the vacancy formation and interface energies of the two runs are apart (goal 0.05 eV, 3 meV/A^2).
Pass --no-cold to skip the cold run.
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

import pandas as pd
import yaml
from _publish import publish  # benchmarks/_publish.py, beside this script

REPO = Path(__file__).resolve().parents[1]
TARGETS_S = {"default_study": 15 * 60}
COLD_RATIO_GOAL = 0.5
# what the pre-relaxed run's tables may differ from the cold run's (issue 11): eV per vacancy, meV/A^2
AGREEMENT = {"vacancy_formation": ("E_f", 0.05), "interface_energies": ("E_int (meV/A^2)", 3.0)}


def study_configs(sources: list[str], scratch: Path, cold: bool = False) -> list[Path]:
    """Copies of the configs with absolute bulk paths, so that the study runs in the scratch folder;
    `cold` adds an overlay that starts every DFT relaxation from the cut geometry."""
    paths = []
    for index, source in enumerate(sources):
        config = yaml.safe_load((REPO / source).read_text())
        for entry in config.get("bulk", {}).values():
            entry["file"] = str(REPO / entry["file"])
        paths.append(scratch / f"config{index}.yaml")
        paths[-1].write_text(yaml.safe_dump(config))
    if cold:
        paths.append(scratch / "cold.yaml")
        paths[-1].write_text(yaml.safe_dump({"overlay": True, "calculator": {"prerelax": "none"}}))
    return paths


def largest_differences(warm: Path, cold: Path) -> dict[str, float]:
    """Largest |warm - cold| of each compared table's energy columns, over the rows both have."""
    differences = {}
    for stem, (prefix, _) in AGREEMENT.items():
        a, b = (pd.read_csv(folder / "results" / "tables" / f"{stem}.csv") for folder in (warm, cold))
        columns = [c for c in a.columns if c.startswith(prefix) and c in b.columns]
        keys = [c for c in ("structure", "n_rs", "n_zb") if c in a.columns]
        both = a.merge(b, on=keys, suffixes=("", " cold"))
        differences[stem] = float(max((both[c] - both[f"{c} cold"]).abs().max() for c in columns))
    return differences


def rule_seconds(scratch: Path, pattern: str, exclude: str = "") -> tuple[float, int]:
    """Wall seconds summed over the jobs whose Snakemake `benchmark:` files (under logs/benchmarks/) match
    `pattern` and do not end in `exclude`, and how many jobs."""
    files = [
        f
        for f in sorted((scratch / "logs" / "benchmarks").glob(pattern))
        if not (exclude and f.name.endswith(exclude))
    ]
    return sum(float(pd.read_csv(f, sep="\t")["s"].iloc[0]) for f in files), len(files)


def part_rows(scratch: Path, total_s: float) -> list[tuple[str, str, str]]:
    """The parts of the main job issues 13 and 14 budget: the GPAW knock-on check (goal: adds at most a
    quarter; its own wall time against the rest of the run, an upper bound of what it adds since other
    jobs run beside it), the potential's kicks and the convergence series of the error bars."""
    parts = {
        "GPAW knock-on check (`displacement_check`)": (("knockon/*-dft-check.tsv", ""), 0.25),
        "MLIP kicks (`displacement_thresholds`)": (("knockon/*.tsv", "-dft-check.tsv"), None),
        "convergence series of the error bars (`convergence_series`)": (("convergence/*.tsv", ""), None),
    }
    rows = []
    for label, (selection, goal) in parts.items():
        seconds, jobs = rule_seconds(scratch, *selection)
        if jobs:
            share = seconds / max(total_s - seconds, 1e-9)
            rows.append(
                (
                    f"{label}, own wall time",
                    f"{seconds:.0f} s in {jobs} jobs",
                    f"{share:.2f}x the rest of the run" + (f" (goal <= {goal:g})" if goal else ""),
                )
            )
    return rows


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
    arguments = [a for a in sys.argv[1:] if a != "--no-cold"]
    name = arguments[0] if arguments else "default_study"
    sources = arguments[1:] or ["config/config.yaml"]
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
    prerelax = yaml.safe_load((scratch / "results" / "config.yaml").read_text())["calculator"]["prerelax"]
    tables = sorted(p.name for p in scratch.glob("results/**/tables/*.csv"))
    figures = sorted(p.name for p in scratch.glob("results/**/figures/*.png"))
    target = TARGETS_S.get(name)
    rows = [
        (
            f"`snakemake --cores all`, {' + '.join(sources)}, empty folder",
            f"{total_s:.0f} s ({total_s / 60:.1f} min)",
            f"< {target // 60} min" if target else "",
        ),
        (f"calculations ({records[0]['code']})", f"{len(records)} jobs, {steps} ionic steps", ""),
        (
            "sum of the calculations' own wall times",
            f"{calc_sum_s:.0f} s",
            f"{calc_sum_s / total_s:.2f}x the total",
        ),
        (
            "slowest calculation",
            f"{slowest['name']} ({slowest['n_atoms']} atoms, {slowest['ionic_steps']} steps): "
            f"{slowest['wall_time_s']:.0f} s",
            "",
        ),
        ("baseline, same run: `snakemake --cores all structures`", f"{structures_s:.1f} s", ""),
        ("tables / figures written", f"{len(tables)} / {len(figures)}", ""),
        ("DFT relaxations pre-relaxed with", prerelax, ""),
        *part_rows(scratch, total_s),
    ]
    if prerelax != "none" and "--no-cold" not in sys.argv:
        cold = scratch.with_name(f"{name}-cold")
        shutil.rmtree(cold, ignore_errors=True)
        cold.mkdir(parents=True)
        cold_s = snakemake(cold, study_configs(sources, cold, cold=True), "--cores", str(cores))
        cold_steps = sum(
            json.loads(p.read_text())["ionic_steps"] for p in cold.glob("results/calcs/*/*/record.json")
        )
        rows += [
            ("baseline, same run: the same study, every DFT relaxation cold (`prerelax: none`)",
             f"{cold_s:.0f} s ({cold_s / 60:.1f} min), {cold_steps} ionic steps",
             f"ratio {total_s / cold_s:.2f} (goal <= {COLD_RATIO_GOAL})"),
        ]  # fmt: skip
        for stem, difference in largest_differences(scratch, cold).items():
            column, goal = AGREEMENT[stem]
            unit = "meV/A^2" if "meV" in column else "eV"
            rows.append(
                (
                    f"{stem}: largest |pre-relaxed - cold| of the {column} columns",
                    f"{difference:.3f} {unit}",
                    f"goal <= {goal:g} {unit}",
                )
            )
    stamp = (
        f"{datetime.date.today()}, {platform.machine()}, {cores} cores, Python {platform.python_version()}"
    )
    lines = [
        f"# {name}: {' + '.join(sources)} end to end ({stamp})",
        "",
        "| measurement | value | target / ratio |",
        "|---|---|---|",
        *(f"| {a} | {b} | {c} |" for a, b, c in rows),
        "",
    ]
    publish(lines, name)


if __name__ == "__main__":
    main()
