"""One calculation as a file: what a calc job runs, read by the job and tracked by the workflow.

The workflow writes results/calcs/<backend>/<name>/calculation.json for every calculation (its name, task,
backend and the settings it depends on) and the job reads it. The file is the job's input, so a settings
change reruns exactly the calculations it affects: a single point does not read the relaxation's fields
(fmax, step limit, optimiser, pre-relaxation), so changing fmax reruns the relaxations only, while the
cutoff reruns every DFT calculation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from nanophase.calculators.settings import CalcSettings
from nanophase.safe_write import atomic_write_text

# what only a relaxation reads; a single point's file and record leave them out
RELAXATION_FIELDS = ("fmax_ev_per_a", "max_steps", "optimizer", "prerelax", "prerelax_hessian")


def job_settings(settings: CalcSettings, task: str) -> dict:
    """The settings a calculation of `task` depends on (all of them for a relaxation)."""
    data = settings.to_dict()
    if task == "single-point":
        for key in RELAXATION_FIELDS:
            data.pop(key)
    return data


@dataclass(frozen=True)
class Calculation:
    """One calc job: which structure name, what task, on which backend, with which settings."""

    name: str
    task: str
    backend: str
    settings: dict

    @classmethod
    def of(cls, name: str, task: str, backend: str, settings: CalcSettings) -> Calculation:
        return cls(name, task, backend, job_settings(settings, task))

    def calc_settings(self) -> CalcSettings:
        """The settings to run with (a single point's unused relaxation fields at their defaults)."""
        return CalcSettings(**self.settings)

    def write(self, path: str | Path) -> None:
        atomic_write_text(path, json.dumps(self.__dict__, indent=1, sort_keys=True))

    @classmethod
    def read(cls, path: str | Path) -> Calculation:
        return cls(**json.loads(Path(path).read_text()))
