"""A tiny study through SLURM for real: snakemake --profile profiles/slurm against a one-node cluster.

Needs root (it installs Debian's slurmctld, slurmd, slurm-client and munge when missing and starts
them by hand); it is skipped with the reason elsewhere. About two minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.workflow.slurm_cluster import ClusterUnavailable, start_cluster
from tests.workflow.test_snakemake import REPO

# the smallest study: one bulk reference and one slab cut from it, two DFT jobs
TWO_STRUCTURES = """
study: tiny
bulk:
  CdSe-zb: {{file: {cif}, prototype: zincblende}}
slabs:
  zb:
    bulk: CdSe-zb
    phase: zincblende
    surface: "001"
    monolayers: 1
    termination: cation
    vacuum_a: 6.0
    vacancies: {{surface_counts: [], surface_faces: [], depth: false, whole_layer: []}}
isolated_atoms: {{species: []}}
calculator: {{backend: gpaw, preset: quick, encut_ev: 200, kpoint_length_a: 8, fmax_ev_per_a: 0.1}}
"""

pytestmark = [pytest.mark.workflow, pytest.mark.slurm]


@pytest.fixture()
def cluster(tmp_path):
    try:
        cluster = start_cluster(tmp_path / "cluster")
    except ClusterUnavailable as reason:
        pytest.skip(f"no test SLURM cluster here: {reason}")
    yield cluster
    cluster.stop()


def test_gpaw_jobs_go_through_sbatch_with_mpi_ranks(cluster, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(TWO_STRUCTURES.format(cif=REPO / "structures" / "bulk" / "CdSe-zb.cif"))
    env = {**cluster.env, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    command = [
        # timeout -k: a hung status loop must not hang the test suite
        "timeout", "-k", "10", "540", str(Path(os.sys.executable).parent / "snakemake"), "calculations",
        "--snakefile", str(REPO / "Snakefile"), "--profile", str(REPO / "profiles" / "slurm"),
        "--directory", str(tmp_path), "--jobs", "2",
        # no slurmdbd here: squeue answers for job states; poll early in a test
        "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "5",
        "--configfile", str(config),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]

    submitted = [line for line in out.splitlines() if "has been submitted with SLURM jobid" in line]
    assert len(submitted) == 2  # the two calculations; structure building runs locally
    jobs = cluster.jobs()
    assert len(jobs) == 2 and all(job.split()[2] == "COMPLETED" for job in jobs), jobs
    assert all(job.split()[3] == "2" for job in jobs)  # 2 CPUs each: --ntasks=2 --cpus-per-task=1

    calcs = tmp_path / "results" / "calcs" / "gpaw"
    for name in ("CdSe-zb", "CdSe-zb-001-1ml-1x1-Cdterm"):
        record = json.loads((calcs / name / "record.json").read_text())
        assert record["converged"]
        gpaw_text = (calcs / name / "work" / "gpaw-1.txt").read_text()
        assert "cores:  2" in gpaw_text  # GPAW really ran on 2 MPI ranks started by srun
    assert "srun -n 2" in out
