"""What the electron beam does to each sheet: displacement thresholds from dynamics, Mott cross-sections with
thermal vibrations, and the time and dose for a beam to remove surface atoms (tables `displacement_thresholds`
and `beam_damage`, figure `beam_damage`).

A site's cross-section is the Mott displacement cross-section at its T_d (nanophase.knockon), averaged over
the target's thermal velocity along the beam (Debye model). Under a dose rate phi the fraction of such sites
left after time t is exp(-sigma phi t) (../shared/science.md, section 5).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nanophase import knockon

TD_COLUMN = "T_d (eV)"
TS_COLUMN = "T_sputter (eV)"
NEGLIGIBLE_BARN = 1e-6  # below: no removal within any experiment (1e-6 b at 1e6 e/A^2/s: 8 days for half)


@dataclass(frozen=True)
class BeamSettings:
    """knockon.thermal and knockon.dose of the config."""

    temperature_k: float = 300.0
    debye_temperature_k: float = 181.0
    zero_point: bool = True
    dose_rate_e_per_a2_s: float = 1e4
    removed_fraction: float = 0.5

    @classmethod
    def from_config(cls, knockon_config: dict) -> BeamSettings:
        return cls(**knockon_config.get("thermal", {}), **knockon_config.get("dose", {}))

    def mean_square_velocity(self, element: str) -> float:
        return knockon.debye_mean_square_velocity(element, self.temperature_k, self.debye_temperature_k,
                                                  self.zero_point)  # fmt: skip


def highest_kick_ev(species: list[str] | tuple[str, ...], voltages_kv: list[float]) -> dict[str, float]:
    """Top of each species' bisection: 1.25 x E_max at the highest voltage (room for thermal motion)."""
    return {s: 1.25 * knockon.max_transfer_ev(max(voltages_kv), s) for s in species}


def bracket_text(low: float, high: float) -> str:
    """(highest kick kept, lowest kick sputtered] as text; one-sided when a side has no run."""
    if math.isnan(high):
        return f"> {low:.2f}"
    if math.isnan(low):
        return f"<= {high:.2f}"
    return f"({low:.2f}, {high:.2f}]"


def check_verdict(low: float, high: float, mlip_ev: float | None) -> str:
    """Where the MLIP threshold of the same cell falls against the GPAW bracket."""
    if mlip_ev is None:
        return "MLIP: no sputtering"
    if not math.isnan(low) and mlip_ev <= low:
        return f"GPAW higher: kept the atom at {low:.2f} eV, the MLIP sputters from {mlip_ev:.2f} eV"
    if not math.isnan(high) and mlip_ev > high:
        return f"GPAW lower: sputtered at {high:.2f} eV, the MLIP only from {mlip_ev:.2f} eV"
    if math.isnan(low):
        return f"GPAW sputters by {high:.2f} eV like the MLIP ({mlip_ev:.2f} eV); not kicked lower"
    return "agrees within the GPAW bracket"


def read_thresholds(paths: list[str | Path], checks: list[str | Path] = ()) -> pd.DataFrame:
    """One row per kicked site of every sheet record (nanophase.displacement.sheet_thresholds); with DFT
    checks (nanophase.displacement.dft_check), the checked site's small-cell MLIP and GPAW brackets."""
    checked = {}
    for path in checks:
        check = json.loads(Path(path).read_text())
        low, high = check["sputtering_bracket_ev"]
        mlip = check["mlip_small_cell"]
        checked[(check["sheet"], check["site"])] = {
            "check cell atoms": check["atoms"],
            "T_sputter MLIP, check cell (eV)": mlip["sputtering_ev"],
            "T_sputter GPAW, check cell (eV)": bracket_text(low, high),
            "GPAW vs MLIP": check_verdict(low, high, mlip["sputtering_ev"]),
            "GPAW check set-up": check["settings"]["described"],
            "GPAW check MD steps": check["md_steps"],
            "GPAW check seconds": check["seconds"],
        }
    rows = []
    for path in paths:
        record = json.loads(Path(path).read_text())
        for site in record["sites"]:
            where = site["site"]
            low, high = site["bracket_ev"]
            rows.append({
                "sheet": record["sheet"],
                "site": where["label"],
                "species": where["species"],
                "face": where["face"],
                "faces equivalent": where["equivalent_faces"],
                "depth": where["depth"],
                "role": where["role"],
                TD_COLUMN: site["threshold_ev"],
                "returned up to (eV)": low,
                "outcome at T_d": site["outcome"],
                TS_COLUMN: site["sputtering_ev"],
                "note": site["note"],
                "E_f static, same potential (eV)": site["static_formation_ev"],
                "MD runs": site["runs"],
                "failed runs": site["failed_runs"],
                "MD steps": site["md_steps"],
                "seconds": site["seconds"],
                "model": f"{record['model']} {record['model_version']} + ZBL",
                "atoms": record["sheet_info"]["atoms"],
                "supercell": "x".join(str(n) for n in record["sheet_info"]["supercell"]),
                **checked.get((record["sheet"], where["label"]), {}),
            })  # fmt: skip
    frame = pd.DataFrame(rows)
    if not frame.empty:
        for column, energies in (("threshold (kV)", TD_COLUMN), ("sputtering threshold (kV)", TS_COLUMN)):
            frame[column] = [
                knockon.threshold_voltage_kv(t, s) if _known(t) else math.nan
                for t, s in zip(frame[energies], frame["species"], strict=True)
            ]
    return frame


def _known(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def beam_damage(
    thresholds: pd.DataFrame, voltages_kv: tuple[float, ...], settings: BeamSettings
) -> pd.DataFrame:
    """Per site and voltage: E_max; the Mott displacement cross-section at T_d (McKinley-Feshbach beside
    it); the sputtering cross-section at T_sputter, static target and thermal; and the time and dose for
    the beam to remove `removed_fraction` of such sites (sputtering only: a displaced atom stays)."""
    rows = []
    for _, site in thresholds.iterrows():
        td, ts, element = site[TD_COLUMN], site[TS_COLUMN], site["species"]
        for voltage in voltages_kv:
            row = {
                "sheet": site["sheet"],
                "site": site["site"],
                "voltage (kV)": voltage,
                "E_max (eV)": knockon.max_transfer_ev(voltage, element),
                TD_COLUMN: td,
                TS_COLUMN: ts,
            }
            if _known(td):
                row["sigma displacement Mott (barn)"] = knockon.mott_cross_section_barn(voltage, element, td)
                row["sigma displacement McKinley-Feshbach (barn)"] = (
                    knockon.mckinley_feshbach_cross_section_barn(voltage, element, td)
                )
            thermal = 0.0  # never sputtered up to the highest kick: not removed at these voltages
            if _known(ts):
                spread = settings.mean_square_velocity(element)
                thermal = knockon.thermal_cross_section_barn(voltage, element, ts, spread)
                thermal = thermal if thermal >= NEGLIGIBLE_BARN else 0.0
                row["sigma sputtering Mott (barn)"] = knockon.mott_cross_section_barn(voltage, element, ts)
            fraction = settings.removed_fraction
            row["sigma sputtering Mott thermal (barn)"] = thermal
            row["dose to remove (e/A^2)"] = knockon.removal_dose_e_per_a2(thermal, fraction)
            row["time to remove (s)"] = knockon.removal_time_s(
                thermal, fraction, settings.dose_rate_e_per_a2_s
            )
            rows.append(row)
    return pd.DataFrame(rows)


def thresholds_caption(thresholds: pd.DataFrame) -> str:
    model = ", ".join(sorted(set(thresholds["model"]))) if not thresholds.empty else "none"
    check = (
        " The DFT check (GPAW Born-Oppenheimer MD on the sheet's in-plane cell, no quench; its set-up in "
        "its column): kicks around the MLIP T_sputter of the same small cell; its column brackets the GPAW "
        "T_sputter as (highest kick kept, lowest kick sputtered], a coarser bisection than the MLIP's."
        if "T_sputter GPAW, check cell (eV)" in thresholds
        else ""
    )
    return (
        "Displacement thresholds by collision dynamics (Komsa et al., PRL 109, 035503 (2012)): one atom of "
        "the relaxed pristine sheet (lateral supercell, no constraints) kicked with kinetic energy T along "
        "the beam (the sheet normal), NVE velocity Verlet (step bounded by the largest move per step), then "
        "quenched; 'exit' sites are pushed out through their own face (sputtering), 'entrance' sites into "
        "the sheet. T_d = the lowest T after which the atom did not return (bisection; it may only have "
        "moved to a nearby site); 'returned up to' = the highest T that did; T_sputter = the lowest T after "
        "which it left the sheet (exit sites; what removes atoms). A note says when the runs at T_d reached "
        f"the run length before the atom settled. Potential: {model} (the ZBL screened-Coulomb repulsion "
        "added below 0.6 x the covalent-radius sum). E_f static = relaxed vacancy + free atom - sheet with "
        "the same potential: a lower bound of T_sputter. Machine-learned potential, not DFT: screening "
        "numbers; a threshold voltage is where E_max(V) equals the threshold." + check
    )


def damage_caption(settings: BeamSettings) -> str:
    zero_point = "included" if settings.zero_point else "left out"
    return (
        "What the beam does to each computed site: E_max (exact kinematics); the displacement "
        "cross-section from the exact Mott cross-section (Dirac partial waves, point nucleus; "
        "McKinley-Feshbach, its first order in alpha Z, beside it) at T_d; the sputtering cross-section at "
        "T_sputter, also averaged over the target's velocity along the beam (Meyer et al., PRL 108, 196102 "
        f"(2012); Debye model, {settings.debye_temperature_k:g} K, sample at {settings.temperature_k:g} K, "
        f"zero-point motion {zero_point}). Time and dose for the beam to remove "
        f"{100 * settings.removed_fraction:g} % of such sites at {settings.dose_rate_e_per_a2_s:g} e/A^2/s: "
        "1 - exp(-sigma D) (thermal cross-section). Sites never sputtered up to the highest kick have zero "
        "sputtering cross-section at these voltages."
    )
