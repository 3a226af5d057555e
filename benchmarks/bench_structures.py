"""Benchmark: building every structure of config/paper.yaml, and the dry run of that study.

Prints a table and writes it to benchmarks/results/structures.md. Run from the repository root:

    .venv/bin/python benchmarks/bench_structures.py

Baselines measured in the same run: Snakemake's own start-up (`snakemake --version`) for the dry run,
and a brute-force orbit enumeration (every placement, canonical form under every operation) for the
vacancy planning that Burnside counting with lexicographic early stopping replaces.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
from itertools import combinations, product
from pathlib import Path

import yaml

from nanophase.bulk import read_bulk
from nanophase.config import load_config
from nanophase.slabs import build_slab
from nanophase.structio import read_structure, structure_index, write_structure
from nanophase.study import Study
from nanophase.symmetry import symmetry_permutations
from nanophase.vacancies import species_planes

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def timed(function, repeat: int = 3) -> tuple[float, object]:
    """Best wall time of `repeat` calls, seconds, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def snakemake(*args: str, cwd: Path) -> float:
    start = time.perf_counter()
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), *args]
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def build_everything(config_path: Path, folder: Path) -> int:
    """The library path of `snakemake structures`: plan, build, write, index."""
    study = Study.from_config(load_config(config_path), root=REPO)
    paths = []
    bulk = {}
    for key, source in study.bulk_files.items():
        bulk[key] = atoms = read_bulk(REPO / source)
        atoms.info.update(name=key, family="bulk")
        paths.append(folder / "bulk" / f"{key}.extxyz")
        write_structure(atoms, paths[-1])
    for model in study.slabs:
        for name, atoms in model.build(read_structure(folder / "bulk" / f"{model.bulk}.extxyz")).items():
            paths.append(folder / atoms.info["family"] / f"{name}.extxyz")
            write_structure(atoms, paths[-1])
    for name, atoms in study.interfaces.build(bulk[study.interfaces.substrate]).items():
        paths.append(folder / "interface" / f"{name}.extxyz")
        write_structure(atoms, paths[-1])
    structure_index(paths).to_csv(folder / "index.csv", index=False)
    return len(paths)


def brute_force_planning(study: Study, bulk_paths: dict[str, Path]) -> int:
    """Every placement of every surface series, reduced to orbits by explicit canonical forms."""
    orbits = 0
    for model in study.slabs:
        slab = build_slab(read_bulk(bulk_paths[model.bulk]), model.settings)
        perms = symmetry_permutations(slab)
        planes = species_planes(slab, model.vacancy_settings.species)
        for faces in model.vacancy_settings.surface_faces:
            groups = [planes[-1]] if faces == "top" else [planes[-1], planes[0]]
            union = {s for g in groups for s in g}
            ops = [p for p in perms if {int(p[s]) for s in union} == union]
            for n in model.vacancy_settings.surface_counts:
                seen = set()
                for placement in product(*(combinations(g, n) for g in groups)):
                    flat = [s for part in placement for s in part]
                    seen.add(min(tuple(sorted(int(p[s]) for s in flat)) for p in ops))
                orbits += len(seen)
    return orbits


def main() -> None:
    paper = REPO / "config" / "paper.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        config = yaml.safe_load(paper.read_text())
        for entry in config["bulk"].values():
            entry["file"] = str(REPO / entry["file"])
        config_path = tmp / "paper.yaml"
        config_path.write_text(yaml.safe_dump(config))

        t_plan, study = timed(lambda: Study.from_config(load_config(paper), root=REPO))
        n_structures = len(study.structure_names())
        t_build, _ = timed(lambda: build_everything(paper, tmp / "library"), repeat=1)
        bulk_paths = {k: REPO / v for k, v in study.bulk_files.items()}
        t_brute, n_orbits = timed(lambda: brute_force_planning(study, bulk_paths), repeat=1)
        t_version = min(snakemake("--version", cwd=tmp) for _ in range(3))
        t_dry = min(
            snakemake("-n", "--directory", str(tmp), "--configfile", str(config_path), cwd=tmp)
            for _ in range(3)
        )
        t_run = snakemake(
            "structures",
            "--cores",
            "2",
            "--directory",
            str(tmp / "run"),
            "--configfile",
            str(config_path),
            cwd=tmp,
        )

    rows = [
        ("structures in config/paper.yaml", f"{n_structures}", ""),
        ("plan the study (validate, enumerate vacancies)", f"{t_plan:.2f} s", ""),
        ("build + write every structure, library", f"{t_build:.2f} s", "target < 30 s"),
        ("`snakemake --cores 2 structures`, end to end", f"{t_run:.2f} s", "target < 30 s"),
        ("`snakemake -n` dry run", f"{t_dry:.2f} s", f"target < 5 s; {t_dry / t_version:.1f}x start-up"),
        ("baseline: `snakemake --version`", f"{t_version:.2f} s", ""),
        (
            "baseline: brute-force orbits of the surface series",
            f"{t_brute:.2f} s",
            f"{n_orbits} orbits; planning is {t_brute / t_plan:.1f}x faster",
        ),
    ]
    machine = f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cores)"
    header = f"Structures benchmark, {datetime.date.today()}, {machine}, Python {platform.python_version()}"
    table = ["| measurement | value | note |", "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    text = "\n".join([header, "", *table, ""])
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "structures.md").write_text(text)


if __name__ == "__main__":
    main()
