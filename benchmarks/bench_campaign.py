"""Benchmark: how many DFT jobs the DAG runs, and how fast a large campaign is planned.

1. config/paper.yaml: DFT jobs in the DAG (dry run) vs. the symmetry-distinct calculations the study
   needs (every vacancy structure checked pairwise for symmetry equivalence by canonical forms under
   the slab's operations; target 1.00) vs. a naive enumeration (every placement of every series, a
   structure in two series counted twice).
2. Dry-run wall time of config/paper.yaml (target < 3 s) and of a generated campaign of >= 10,000 DFT
   jobs (many slab models; target < 60 s), with `snakemake --version` as the start-up baseline.

Prints a table and writes it to benchmarks/results/campaign.md. Run from the repository root:

    .venv/bin/python benchmarks/bench_campaign.py
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from math import comb
from pathlib import Path

import yaml
from _publish import publish  # benchmarks/_publish.py, beside this script

from nanophase.bulk import read_bulk
from nanophase.config import load_config
from nanophase.slabs import build_slab
from nanophase.study import Study
from nanophase.symmetry import symmetry_permutations
from nanophase.vacancies import species_planes

REPO = Path(__file__).resolve().parents[1]
SCRATCH = REPO / "benchmarks" / "scratch" / "campaign"
CAMPAIGN_JOBS = 10_000


def absolute(config: dict) -> dict:
    for entry in config["bulk"].values():
        entry["file"] = str(REPO / entry["file"])
    return config


def dry_run(config_path: Path, folder: Path) -> tuple[float, int]:
    """Wall time of `snakemake -n` for the whole study, and the number of calc jobs it plans."""
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--snakefile", str(REPO / "Snakefile"),
                             "--directory", str(folder), "--configfile", str(config_path)],
                            capture_output=True, text=True)  # fmt: skip
    elapsed = time.perf_counter() - start
    if result.returncode:
        sys.exit(result.stderr[-3000:])
    jobs = re.search(r"^calc\s+(\d+)$", result.stdout + result.stderr, re.MULTILINE)
    return elapsed, int(jobs.group(1))


def canonical_forms(study: Study) -> tuple[int, int]:
    """Distinct vacancy structures by canonical form (min over symmetry images of the removed set),
    and the naive count: every placement of every configured series, per series."""
    distinct, naive = 0, 0
    for model in study.slabs:
        slab = build_slab(read_bulk(REPO / study.bulk_files[model.bulk]), model.settings)
        permutations = symmetry_permutations(slab)
        forms = {tuple(sorted(min(tuple(sorted(perm[list(spec.removed)])) for perm in permutations)))
                 for spec in model.vacancies}  # fmt: skip
        if len(forms) != len(model.vacancies):
            sys.exit(f"{model.name}: two planned vacancy structures are symmetry-equivalent")
        distinct += len(forms) + 1  # the pristine slab
        settings = model.vacancy_settings
        planes = species_planes(slab, settings.species)
        top, bottom = len(planes[-1]), len(planes[0])
        naive += 1
        for faces in settings.surface_faces:
            for count in settings.surface_counts:
                naive += comb(top, count) * (comb(bottom, count) if faces == "both" else 1)
        if settings.depth:
            naive += sum(len(p) for p in planes[len(planes) // 2 :])
        naive += len(settings.whole_layer)
    return distinct, naive


def campaign_config(path: Path) -> int:
    """paper.yaml with slab models of 3 to N monolayers for both phases and up to 26 placements per count,
    until the study holds at least CAMPAIGN_JOBS calculations; returns the number of calculations."""
    base = absolute(yaml.safe_load((REPO / "config" / "paper.yaml").read_text()))
    template = base["slabs"]
    slabs = {}
    for monolayers in range(3, 60):
        for key, cfg in template.items():
            entry = yaml.safe_load(yaml.safe_dump(cfg))
            entry["monolayers"] = monolayers
            entry["vacancies"]["max_configurations"] = 26
            slabs[f"{key}{monolayers}"] = entry
        base["slabs"] = slabs
        path.write_text(yaml.safe_dump(base))
        count = len(Study.from_config(load_config(path), root=REPO).structure_names())
        if count >= CAMPAIGN_JOBS:
            return count
    return count


def main() -> None:
    shutil.rmtree(SCRATCH, ignore_errors=True)
    SCRATCH.mkdir(parents=True)
    paper = SCRATCH / "paper.yaml"
    paper.write_text(yaml.safe_dump(absolute(yaml.safe_load((REPO / "config" / "paper.yaml").read_text()))))
    study = Study.from_config(load_config(paper), root=REPO)
    distinct_slabs, naive_slabs = canonical_forms(study)
    others = len(study.structure_names()) - sum(1 + len(m.vacancies) for m in study.slabs)
    needed, naive = distinct_slabs + others, naive_slabs + others

    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snakemake", "--version"], check=True, capture_output=True)
    startup = time.perf_counter() - start
    paper_s, paper_jobs = min(dry_run(paper, SCRATCH / f"paper{i}") for i in range(3))
    campaign = SCRATCH / "campaign.yaml"
    planned = campaign_config(campaign)
    campaign_s, campaign_jobs = dry_run(campaign, SCRATCH / "campaign")

    rows = [
        ("paper.yaml: DFT jobs in the DAG", f"{paper_jobs}", ""),
        (
            "paper.yaml: symmetry-distinct calculations needed",
            f"{needed}",
            f"DAG / needed = {paper_jobs / needed:.2f} (target 1.00)",
        ),
        (
            "paper.yaml: naive enumeration (every placement, per series)",
            f"{naive}",
            f"naive / DAG = {naive / paper_jobs:.0f}x",
        ),
        ("`snakemake -n --configfile config/paper.yaml`", f"{paper_s:.2f} s", "target < 3 s"),
        (
            f"generated campaign ({planned} calculations): `snakemake -n`",
            f"{campaign_s:.1f} s ({campaign_jobs} jobs)",
            "target < 60 s",
        ),
        (
            "baseline, same run: `snakemake --version`",
            f"{startup:.2f} s",
            f"paper dry run = {paper_s / startup:.1f}x start-up",
        ),
    ]
    stamp = (
        f"{datetime.date.today()}, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}"
    )
    lines = [
        f"# DAG size and dry-run time ({stamp})",
        "",
        "| measurement | value | target / ratio |",
        "|---|---|---|",
        *(f"| {a} | {b} | {c} |" for a, b, c in rows),
        "",
    ]
    publish(lines, "campaign")


if __name__ == "__main__":
    main()
