"""A one-node SLURM cluster on this machine for tests: munged, slurmctld and slurmd started by hand.

No systemd here: the daemons run in the foreground as children of the test, their output goes to
files, and stop() ends exactly the processes it started (by PID). No slurmdbd either, so job states
come from squeue; MinJobAge keeps finished jobs visible to it long enough.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
# Snakemake's SLURM job step removes SLURM_* variables (SLURM_CONF too) before it starts a job's
# command, so an srun inside a job reads the system path: the test cluster's file goes there.
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
MARKER = "# nanophase test cluster: written and removed by tests/workflow/slurm_cluster.py\n"
DAEMONS = {"slurmctld": "/usr/sbin/slurmctld", "slurmd": "/usr/sbin/slurmd", "munged": "/usr/sbin/munged"}


class ClusterUnavailable(RuntimeError):
    """This machine cannot host the test cluster (not root, no apt, no packages); the reason says why."""


def ensure_installed() -> None:
    """Install SLURM and munge from Debian when missing (needs root)."""
    if all(Path(path).exists() for path in DAEMONS.values()) and shutil.which("sbatch"):
        return
    if os.geteuid() != 0:
        raise ClusterUnavailable("SLURM is not installed and installing it needs root")
    if not shutil.which("apt-get"):
        raise ClusterUnavailable("SLURM is not installed and there is no apt-get to install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", *PACKAGES], check=True, env=env, capture_output=True)


def node_resources() -> tuple[int, int]:
    """CPUs and ~90 % of the memory slurmd detects on this node (MB)."""
    text = subprocess.run(["slurmd", "-C"], check=True, capture_output=True, text=True).stdout
    fields = dict(item.split("=", 1) for item in text.split() if "=" in item)
    return int(fields["CPUs"]), int(int(fields["RealMemory"]) * 0.9)


@dataclass
class Cluster:
    folder: Path
    conf: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def jobs(self) -> list[str]:
        """ "id name state cpus" of every job squeue still lists (MinJobAge keeps finished ones)."""
        out = subprocess.run(
            ["squeue", "-h", "-t", "all", "-o", "%i %j %T %C"], capture_output=True, text=True, env=self.env
        ).stdout
        return out.splitlines()

    def stop(self) -> None:
        """Stop the daemons this cluster started, by PID, newest first; remove the system slurm.conf."""
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.processes.clear()
        if SYSTEM_CONF.is_file() and SYSTEM_CONF.read_text().startswith(MARKER):
            SYSTEM_CONF.unlink()


def start_cluster(folder: Path) -> Cluster:
    """Write a one-node slurm.conf for localhost and start munged, slurmctld and slurmd."""
    if os.geteuid() != 0:
        raise ClusterUnavailable("the test cluster runs slurmd as root")
    ensure_installed()
    folder.mkdir(parents=True, exist_ok=True)
    for sub in ("state", "spool", "munge"):
        (folder / sub).mkdir(exist_ok=True)
    host = socket.gethostname().split(".")[0]
    cpus, memory_mb = node_resources()
    if SYSTEM_CONF.exists() and not SYSTEM_CONF.read_text().startswith(MARKER):
        raise ClusterUnavailable(f"{SYSTEM_CONF} exists: this machine has a SLURM set-up of its own")
    SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
    conf = SYSTEM_CONF
    conf.write_text(
        MARKER
        + f"""ClusterName=nanophase-test
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={folder / "munge" / "munge.socket.2"}
CryptoType=crypto/munge
MpiDefault=pmix
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=600
SlurmctldTimeout=30
SlurmdTimeout=30
StateSaveLocation={folder / "state"}
SlurmdSpoolDir={folder / "spool"}
SlurmctldPidFile={folder / "slurmctld.pid"}
SlurmdPidFile={folder / "slurmd.pid"}
SlurmctldLogFile={folder / "slurmctld.log"}
SlurmdLogFile={folder / "slurmd.log"}
NodeName={host} CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
"""
    )
    cluster = Cluster(folder=folder, conf=conf)
    socket_path = folder / "munge" / "munge.socket.2"

    def launch(name: str, *args: str) -> None:
        log = open(folder / f"{name}.out", "w")  # noqa: SIM115 - closed with the process
        cluster.processes[name] = subprocess.Popen(
            [DAEMONS[name], *args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=cluster.env,
        )

    try:
        launch(
            "munged",
            "--foreground",
            "--force",
            "--socket",
            str(socket_path),
            "--pid-file",
            str(folder / "munge" / "munged.pid"),
            "--seed-file",
            str(folder / "munge" / "munged.seed"),
        )
        _wait_for(lambda: socket_path.exists(), "munged socket", 20)
        launch("slurmctld", "-D", "-i", "-f", str(conf))
        launch("slurmd", "-D", "-f", str(conf))
        _wait_for(lambda: _node_idle(cluster), "an idle node in sinfo", 60)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _node_idle(cluster: Cluster) -> bool:
    out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=cluster.env).stdout
    return "idle" in out


def _wait_for(condition, what: str, seconds: float) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise ClusterUnavailable(f"timed out waiting for {what}")
