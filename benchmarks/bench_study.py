"""Benchmark: a study end to end (every calculation, table and figure), from an empty folder.

Prints a table and writes it to benchmarks/results/<name>.md. Run from the repository root:

    .venv/bin/python benchmarks/bench_study.py                       # the default study, GPAW
    .venv/bin/python benchmarks/bench_study.py screening config/paper.yaml config/screening.yaml

Baselines measured in the same run: the structures-only run (`snakemake structures`, the same
start-up and planning without DFT) and the sum of the calculations' own wall times (what one core
after another would need; total / sum shows how well the jobs share the cores).

The pre-relaxation comparison (issue 11), for a DFT study that pre-relaxes with a potential (the default,
`calculator.prerelax: auto`): the study's DFT stage - every calculation and the tables, without the
knock-on dynamics and the convergence series, which do not depend on how a relaxation starts and would
hide the difference - run twice from an empty folder, as set up and with every DFT relaxation started
cold (`prerelax: none`): the ratio of the two wall times (goal <= 0.5), their ionic steps, and how far
the vacancy formation and interface energies of the two runs are apart (goal 0.05 eV, 3 meV/A^2).
Written to benchmarks/results/<name>_prerelax.md. Pass --no-cold to skip it, --cold-only to run it alone,
--compare-only to compare the two folders the last comparison kept again (no run; <name>_prerelax_minima.md).
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

import numpy as np
import pandas as pd
import yaml
from _publish import publish  # benchmarks/_publish.py, beside this script
from ase.io import read

REPO = Path(__file__).resolve().parents[1]
TARGETS_S = {"default_study": 15 * 60}
COLD_RATIO_GOAL = 0.5
# the study's DFT stage: every calculation, table and figure, without the knock-on dynamics and the
# convergence series (neither depends on how a DFT relaxation starts); and its cold start
DFT_STAGE = {"knockon": {"dynamics": {"enabled": False}}, "convergence": {"error_bars": False}}
COLD_START = {"calculator": {"prerelax": "none"}}
# what the pre-relaxed run's tables may differ from the cold run's (issue 11): eV per vacancy, meV/A^2
AGREEMENT = {"vacancy_formation": ("E_f", 0.05), "interface_energies": ("E_int (meV/A^2)", 3.0)}
# two runs' final structures are the same minimum when no atom ends further apart than this: at the
# study's fmax (0.15 eV/A) a soft mode of ~1 eV/A^2 leaves its coordinate uncertain by ~0.15 A
SAME_MINIMUM_A = 0.25


def study_configs(sources: list[str], scratch: Path, *overlays: dict) -> list[Path]:
    """Copies of the configs with absolute bulk paths, so that the study runs in the scratch folder, and
    the `overlays` (config/screening.yaml's kind: `overlay: true`) after them."""
    paths = []
    for index, source in enumerate(sources):
        config = yaml.safe_load((REPO / source).read_text())
        for entry in config.get("bulk", {}).values():
            entry["file"] = str(REPO / entry["file"])
        paths.append(scratch / f"config{index}.yaml")
        paths[-1].write_text(yaml.safe_dump(config))
    for index, overlay in enumerate(overlays):
        paths.append(scratch / f"overlay{index}.yaml")
        paths[-1].write_text(yaml.safe_dump({"overlay": True, **overlay}))
    return paths


def final_displacement_a(warm: Path, cold: Path, name: str) -> float:
    """Largest distance (A) between an atom's final positions in the two runs, in the pre-relaxed run's
    cell with the minimum image (a strained shell's normal may end slightly differently)."""
    a, b = (read(folder / "results" / "calcs" / "gpaw" / name / "final.extxyz") for folder in (warm, cold))
    shift = a.get_scaled_positions(wrap=False) - b.get_scaled_positions(wrap=False)
    shift -= np.round(shift) * a.pbc
    return float(np.linalg.norm(shift @ a.cell.array, axis=1).max())


def table_differences(warm: Path, cold: Path, moved: dict[str, float]) -> dict[str, dict]:
    """Per compared table: its rows' largest |warm - cold| over the energy columns, and whether every
    record the row is computed from ended in the same minimum in both runs (`moved`: each structure's
    final_displacement_a, at most SAME_MINIMUM_A)."""
    results = {}
    for stem, (prefix, _) in AGREEMENT.items():
        a, b = (pd.read_csv(folder / "results" / "tables" / f"{stem}.csv") for folder in (warm, cold))
        columns = [c for c in a.columns if c.startswith(prefix) and c in b.columns]
        keys = [c for c in ("structure", "n_rs", "n_zb") if c in a.columns]
        both = a.merge(b, on=keys, suffixes=("", " cold"))
        differences = both[columns].to_numpy() - both[[f"{c} cold" for c in columns]].to_numpy()
        # the column that differs most, with its sign (which run ended lower)
        signed = differences[np.arange(len(both)), np.nanargmax(np.abs(differences), axis=1)]
        same = [all(moved[n.strip()] <= SAME_MINIMUM_A for n in row.split(";")) for row in both["records"]]
        results[stem] = {"difference": signed, "same_minimum": np.array(same)}
    return results


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


def empty_folder(name: str) -> Path:
    scratch = REPO / "benchmarks" / "scratch" / name
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    return scratch


def calculation_records(scratch: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in scratch.glob("results/calcs/*/*/record.json")]


def main_command_rows(name: str, sources: list[str], cores: str) -> list[tuple[str, str, str]]:
    """The README's main command from an empty folder, against `snakemake structures` in the same run."""
    scratch = empty_folder(name)
    structures_s = snakemake(scratch, study_configs(sources, scratch), "structures", "--cores", cores)
    scratch = empty_folder(name)
    total_s = snakemake(scratch, study_configs(sources, scratch), "--cores", cores)
    records = calculation_records(scratch)
    calc_sum_s = sum(r["wall_time_s"] for r in records)
    slowest = max(records, key=lambda r: r["wall_time_s"])
    steps = sum(r["ionic_steps"] for r in records)
    prerelax = yaml.safe_load((scratch / "results" / "config.yaml").read_text())["calculator"]["prerelax"]
    tables = sorted(p.name for p in scratch.glob("results/**/tables/*.csv"))
    figures = sorted(p.name for p in scratch.glob("results/**/figures/*.png"))
    target = TARGETS_S.get(name)
    return [
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


def prerelax_rows(name: str, sources: list[str], cores: str) -> list[tuple[str, str, str]]:
    """The study's DFT stage as set up against the same stage with every DFT relaxation started cold,
    both from an empty folder in this run; empty where the study does not pre-relax."""
    warm = empty_folder(f"{name}-dft-stage")
    warm_s = snakemake(warm, study_configs(sources, warm, DFT_STAGE), "--cores", cores)
    prerelax = yaml.safe_load((warm / "results" / "config.yaml").read_text())["calculator"]["prerelax"]
    if prerelax == "none":
        print(f"{name}: the study does not pre-relax (calculator.prerelax: none); no comparison")
        return []
    cold = empty_folder(f"{name}-dft-stage-cold")
    cold_s = snakemake(cold, study_configs(sources, cold, DFT_STAGE, COLD_START), "--cores", cores)
    warm_steps, cold_steps = (sum(r["ionic_steps"] for r in calculation_records(f)) for f in (warm, cold))
    rows = [
        (
            f"DFT stage (no kicks, no convergence series), DFT relaxations pre-relaxed with {prerelax}",
            f"{warm_s:.0f} s ({warm_s / 60:.1f} min), {warm_steps} ionic steps",
            "",
        ),
        (
            "baseline, same run: the same stage, every DFT relaxation cold (`prerelax: none`)",
            f"{cold_s:.0f} s ({cold_s / 60:.1f} min), {cold_steps} ionic steps",
            f"ratio {warm_s / cold_s:.2f} (goal <= {COLD_RATIO_GOAL}); steps {warm_steps / cold_steps:.2f}",
        ),
    ]
    return rows + agreement_rows(warm, cold)


def agreement_rows(warm: Path, cold: Path) -> list[tuple[str, str, str]]:
    """How far the two runs' tables are apart (the issue's goals, on the rows whose structures end in the
    same minimum in both), and where the runs end: each structure's energy, pre-relaxed - cold."""
    energies = {r["name"]: r["energy_ev"] for r in calculation_records(cold)}
    moved = {name: final_displacement_a(warm, cold, name) for name in energies}
    rows = []
    for stem, table in table_differences(warm, cold, moved).items():
        column, goal = AGREEMENT[stem]
        unit = "meV/A^2" if "meV" in column else "eV"
        difference, same = table["difference"], table["same_minimum"]
        largest = f"{np.abs(difference[same]).max():.3f} {unit}" if same.any() else "-"
        rows.append(
            (
                f"{stem}: largest |pre-relaxed - cold| of the {column} columns, rows whose structures end "
                f"in the same minimum in both runs (no atom over {SAME_MINIMUM_A:g} A apart)",
                f"{largest} ({same.sum()} of {len(same)} rows)",
                f"goal <= {goal:g} {unit}",
            )
        )
        if not same.all():
            apart = difference[~same]
            lower, higher = (apart < -goal).sum(), (apart > goal).sum()
            rows.append(
                (
                    f"{stem}: rows resting on a structure that ends in a different minimum",
                    f"{len(apart)} rows: lower pre-relaxed in {lower}, lower cold in {higher}, "
                    f"within the goal in {len(apart) - lower - higher}",
                    "pre-relaxed - cold: " + ", ".join(f"{d:+.2f}" for d in sorted(apart)) + f" {unit}",
                )
            )
    apart = [
        (record["energy_ev"] - energies[record["name"]], record["name"], moved[record["name"]])
        for record in calculation_records(warm)
        if moved[record["name"]] > SAME_MINIMUM_A
    ]
    if apart:
        listed = "; ".join(f"{name} {d:+.3f} eV ({moved:.2f} A)" for d, name, moved in sorted(apart))
        rows.append(
            (
                "structures that end in different minima, pre-relaxed - cold energy (largest atom distance): "
                "a local relaxation keeps the minimum its start leads to, the lower is the better estimate",
                f"{len(apart)}: lower pre-relaxed in {sum(d < 0 for d, _, _ in apart)}, "
                f"lower cold in {sum(d > 0 for d, _, _ in apart)}",
                listed,
            )
        )
    return rows


def publish_rows(rows: list[tuple[str, str, str]], title: str, stem: str, cores: str) -> None:
    machine = f"{platform.machine()}, {cores} cores, Python {platform.python_version()}"
    stamp = f"{datetime.date.today()}, {machine}"
    lines = [
        f"# {title} ({stamp})",
        "",
        "| measurement | value | target / ratio |",
        "|---|---|---|",
        *(f"| {a} | {b} | {c} |" for a, b, c in rows),
        "",
    ]
    publish(lines, stem)


def main() -> None:
    flags = {a for a in sys.argv[1:] if a.startswith("--")}
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    name = arguments[0] if arguments else "default_study"
    sources = arguments[1:] or ["config/config.yaml"]
    cores = str(os.cpu_count() or 1)
    if "--compare-only" in flags:  # the kept folders of the last comparison, no run
        folders = (REPO / "benchmarks" / "scratch" / f"{name}-dft-stage{suffix}" for suffix in ("", "-cold"))
        title = f"{name}: where the last DFT-stage comparison's runs end (kept folders)"
        publish_rows(agreement_rows(*folders), title, f"{name}_prerelax_minima", cores)
        return
    if "--cold-only" not in flags:
        rows = main_command_rows(name, sources, cores)
        publish_rows(rows, f"{name}: {' + '.join(sources)} end to end", name, cores)
    if "--no-cold" not in flags:
        rows = prerelax_rows(name, sources, cores)
        if rows:
            title = f"{name}: {' + '.join(sources)}, DFT stage pre-relaxed against cold"
            publish_rows(rows, title, f"{name}_prerelax", cores)


if __name__ == "__main__":
    main()
