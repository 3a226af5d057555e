"""Powder patterns of the study's particles: settings, the pattern of one particle, and the XRD tables."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from ase import Atoms

from nanophase.measured import perturbed_copies, strain_profile
from nanophase.particles import diameter_a, info_values, summary_of
from nanophase.xrd import (
    FCC_REFLECTIONS,
    PairHistogram,
    bragg_powder_intensities,
    debye_intensity,
    fit_reflections,
    pair_histogram,
    polarisation_factor,
    q_from_two_theta,
    reduced_pdf,
    two_theta_deg,
)


@dataclass(frozen=True)
class XrdSettings:
    """How a pattern is computed (config block `xrd`)."""

    wavelength_a: float = 1.5406
    two_theta_deg: tuple[float, float] = (20.0, 80.0)
    q_step_inv_a: float = 0.002
    bin_width_a: float = 0.001
    polarisation: bool = True
    debye_waller_b_a2: dict[str, float] = field(default_factory=dict)
    pdf_q_max_inv_a: float = 20.0
    pdf_r_max_a: float = 30.0

    def __post_init__(self) -> None:
        lo, hi = self.two_theta_deg
        if not 0 < lo < hi < 180:
            raise ValueError(f"xrd.two_theta_deg: need 0 < low < high < 180, got {list(self.two_theta_deg)}")

    @classmethod
    def from_config(cls, cfg: dict) -> XrdSettings:
        return cls(
            wavelength_a=float(cfg.get("wavelength_a", 1.5406)),
            two_theta_deg=tuple(float(v) for v in cfg.get("two_theta_deg", (20.0, 80.0))),
            q_step_inv_a=float(cfg.get("q_step_inv_a", 0.002)),
            bin_width_a=float(cfg.get("bin_width_a", 0.001)),
            polarisation=bool(cfg.get("polarisation", True)),
            debye_waller_b_a2=dict(cfg.get("debye_waller_b_a2", {})),
            pdf_q_max_inv_a=float(cfg.get("pdf_q_max_inv_a", 20.0)),
            pdf_r_max_a=float(cfg.get("pdf_r_max_a", 30.0)),
        )

    def q_grid(self) -> np.ndarray:
        """Uniform Q grid (1/A) covering the 2theta range."""
        lo, hi = q_from_two_theta(np.array(self.two_theta_deg), self.wavelength_a)
        return np.arange(lo, hi + self.q_step_inv_a / 2, self.q_step_inv_a)

    def describe(self) -> str:
        """What a pattern includes, for captions: the conventions move I111/I200 by tens of percent."""
        dw = (
            "Debye-Waller B " + ", ".join(f"{k} {v} A^2" for k, v in sorted(self.debye_waller_b_a2.items()))
            if self.debye_waller_b_a2
            else "no Debye-Waller factor (static atoms)"
        )
        pol = "polarisation (1 + cos^2 2theta)/2" if self.polarisation else "no polarisation factor"
        binning = (
            f"pair distances binned to {self.bin_width_a} A"
            if self.bin_width_a > 0
            else "exact pair distances"
        )
        return (
            f"Debye scattering equation, Waasmaier-Kirfel form factors of neutral atoms (no anomalous "
            f"dispersion), {dw}, {pol}, wavelength {self.wavelength_a} A, {binning}; the Lorentz factor "
            "of a powder is inherent in the Debye sum (orientational average, 2theta sampling)"
        )


def particle_pattern(
    atoms: Atoms, settings: XrdSettings, histogram: PairHistogram | None = None
) -> pd.DataFrame:
    """The powder pattern of one particle: Q, 2theta, Debye I(Q) and the diffractometer intensity.

    histogram: the particle's pair histogram at settings.bin_width_a, if already computed.
    """
    q = settings.q_grid()
    histogram = histogram or pair_histogram(atoms, settings.bin_width_a)
    intensity = debye_intensity(histogram, q, settings.debye_waller_b_a2)
    two_theta = two_theta_deg(q, settings.wavelength_a)
    factor = polarisation_factor(two_theta) if settings.polarisation else np.ones_like(q)
    return pd.DataFrame({
        "q (1/A)": q,
        "2theta (deg)": two_theta,
        "I(Q) (e^2)": intensity,
        "diffractometer intensity (e^2)": intensity * factor,
    })  # fmt: skip


def particle_pdf(
    atoms: Atoms, settings: XrdSettings, histogram: PairHistogram | None = None, r_step_a: float = 0.01
) -> pd.DataFrame:
    """The reduced pair distribution G(r) of one particle, from its Debye I(Q) up to pdf_q_max_inv_a."""
    r = np.arange(r_step_a, settings.pdf_r_max_a + r_step_a / 2, r_step_a)
    histogram = histogram or pair_histogram(atoms, settings.bin_width_a)
    return pd.DataFrame({"r (A)": r, "G(r) (1/A^2)": reduced_pdf(histogram, r, settings.pdf_q_max_inv_a)})


FIT_FAILED = "fit did not converge: local maxima, FWHM 0.047 1/A assumed"


def _split_text(peak) -> str:
    return "split: " + ", ".join(f"{c:.4f}" for c in peak.centres_inv_a) if peak.split else "single"


def peak_rows(
    name: str,
    pattern: pd.DataFrame,
    lattices_a: list[float],
    settings: XrdSettings,
    diameter_a: float | None = None,
) -> list[dict]:
    """One row per reflection (111), (200), (220) of one pattern: fitted positions, widths, intensities."""
    q = pattern["q (1/A)"].to_numpy()
    intensity = pattern["diffractometer intensity (e^2)"].to_numpy()
    peaks = fit_reflections(q, intensity, lattices_a, settings.wavelength_a, diameter_a=diameter_a)
    rows = []
    for label, peak in peaks.items():
        rows.append({
            "particle": name,
            "reflection": label,
            "Q (1/A)": peak.centre_inv_a,
            "2theta (deg)": float(two_theta_deg(peak.centre_inv_a, settings.wavelength_a)),
            "components": len(peak.centres_inv_a),
            "fit": "Gaussians" if peak.fitted else FIT_FAILED,
            "split": _split_text(peak),
            "FWHM (1/A)": float(np.average(peak.fwhm_inv_a, weights=peak.areas_two_theta)),
            "height": peak.height,
            "height without polarisation": peak.raw_height,
            "integrated intensity (2theta)": peak.area_two_theta,
        })  # fmt: skip
    return rows


def ratio_columns(peaks: pd.DataFrame) -> dict[str, float]:
    """I111/I200 of one particle in the three conventions a reader may compare with."""
    by = peaks.set_index("reflection")
    return {
        "I111/I200 heights": by.loc["(111)", "height"] / by.loc["(200)", "height"],
        "I111/I200 integrated": by.loc["(111)", "integrated intensity (2theta)"]
        / by.loc["(200)", "integrated intensity (2theta)"],
        "I111/I200 heights, I(Q) without polarisation": by.loc["(111)", "height without polarisation"]
        / by.loc["(200)", "height without polarisation"],
    }


def series_table(particles: pd.DataFrame, peaks: pd.DataFrame) -> pd.DataFrame:
    """Peak positions and I111/I200 against conversion fraction, one row per particle of every series."""
    rows = []
    for _, particle in particles.iterrows():
        own = peaks[peaks["particle"] == particle["particle"]]
        if own.empty:
            continue
        row = {
            "series": particle["series"],
            "particle": particle["particle"],
            "conversion fraction": particle["conversion fraction"],
            "atoms": particle["atoms"],
        }
        for _, peak in own.iterrows():
            row[f"Q{peak['reflection']} (1/A)"] = peak["Q (1/A)"]
            row[f"{peak['reflection']} split"] = peak["split"]
        row.update(ratio_columns(own))
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["series", "conversion fraction"]) if rows else pd.DataFrame()


def powder_file_rows(bulks: dict[str, Atoms], wavelength_a: float) -> list[dict]:
    """I111/I200 of each cubic bulk from m |F|^2 LP: the convention of powder-diffraction files."""
    rows = []
    for key, bulk in bulks.items():
        if bulk.info.get("prototype") not in ("rocksalt", "zincblende"):
            continue
        intensities = bragg_powder_intensities(bulk, wavelength_a, FCC_REFLECTIONS[:2])
        rows.append({"bulk": key, "lattice a (A)": bulk.cell.lengths()[0],
                     "I111/I200 (m F^2 LP)": intensities["(111)"] / intensities["(200)"]})  # fmt: skip
    return rows


# Powder-diffraction-file values the cation-exchange study quotes (I111/I200 of the first two peaks)
PUBLISHED_POWDER_RATIOS = {"PbS-rs": 0.96, "CdS-zb": 4.6, "CdS-rs": 0.6}


def particle_tables(
    particles: dict[str, Atoms],
    patterns: dict[str, pd.DataFrame],
    settings: XrdSettings,
    bulks: dict[str, Atoms],
    relax_records: dict[str, dict] | None = None,
    vacancies: list[dict] | None = None,
) -> dict[str, tuple[pd.DataFrame, str]]:
    """The particle tables: stem -> (frame, caption).

    particles: what each particle is; xrd_peaks: fitted reflections; xrd_series: positions and I111/I200
    against conversion; xrd_bulk_reference: I111/I200 of the bulks in the powder-file convention.
    """
    summaries = []
    for name, atoms in particles.items():
        row = summary_of(atoms).row()
        lattices = "/".join(f"{a:.4f}" for a in info_values(atoms, "lattices_a"))
        row.update(kind=atoms.info["kind"], series=atoms.info.get("series", name),
                   **{"lattices a (A) core/interlayer/shell": lattices})  # fmt: skip
        record = (relax_records or {}).get(name)
        row["relaxation"] = (
            f"{record['model']} {record['model_version']}: {record['steps']} FIRE steps, "
            + ("converged" if record["converged"] else "NOT converged")
            + f" (max force {record['max_force_ev_per_a']:.3f} eV/A), "
            f"{1000 * record['relaxation_ev_per_atom']:.1f} meV/atom, "
            f"rms displacement {record['rms_displacement_a']:.3f} A"
            if record
            else "as built (unrelaxed)"
        )
        summaries.append(row)
    summary = pd.DataFrame(summaries)
    peak_frames = [
        pd.DataFrame(
            peak_rows(name, patterns[name], _lattices(particles[name]), settings, diameter_a(particles[name]))
        )
        for name in patterns
    ]
    peaks = pd.concat(peak_frames, ignore_index=True) if peak_frames else pd.DataFrame()
    series = series_table(summary, peaks) if not peaks.empty else pd.DataFrame()
    reference = pd.DataFrame(powder_file_rows(bulks, settings.wavelength_a))
    if not reference.empty:
        reference["published powder file"] = reference["bulk"].map(PUBLISHED_POWDER_RATIOS)
    profiles = []
    for name, atoms in particles.items():
        measured = atoms.info["kind"] == "measured"
        copies = (
            perturbed_copies(atoms, float(atoms.info["precision_pm"]), int(atoms.info["copies"]))
            if measured
            else []
        )
        profiles.append(strain_profile(atoms, copies=copies).assign(series=atoms.info.get("series", name)))
        if not series.empty and copies:
            # the spread of the XRD results over copies moved within the measurement's precision
            spread = _spread_over_copies(name, atoms, copies, settings)
            at = series["particle"] == name
            series.loc[at, "I111/I200 heights spread over copies"] = spread["I111/I200 heights"]
            for reflection in ("(111)", "(200)", "(220)"):
                series.loc[at, f"Q{reflection} spread over copies (1/A)"] = spread[f"Q{reflection}"]
    strain = pd.concat(profiles, ignore_index=True) if profiles else pd.DataFrame()
    what = settings.describe()
    return {
        "particles": (
            summary,
            (
                "Particles: atoms, composition, diameter (twice the largest distance from the centre; "
                "gyration "
                "diameter 2 sqrt(5/3) R_g), conversion fraction (cations in the CdS phases / all "
                "cations), the "
                "shortest interatomic distance, and under-coordinated atoms by species and hetero-atomic "
                "coordination (CN), on the outer surface and inside (the core-shell interface). Core-shell "
                "particles follow the study's construction: concentric spheres cut from each phase at its "
                "bulk "
                "lattice, sharing the origin and orientation of the S sublattice, not relaxed."
            ),
        ),
        "xrd_peaks": (
            peaks,
            (
                f"Reflections of each particle's pattern ({what}), fitted with Gaussians on a linear "
                "background; "
                "a window with two maxima is a split reflection (components listed). Heights are of the "
                "diffractometer pattern, also without polarisation; integrated intensities are over 2theta."
            ),
        ),
        "xrd_series": (
            series,
            (
                f"Peak positions and I111/I200 against conversion fraction ({what}). I111/I200 in three "
                "conventions: peak heights and fitted integrated intensities of the diffractometer pattern, "
                "and heights of I(Q) without polarisation; they differ, so compare like with like. Study "
                "(simulated): zinc blende shell - I111/I200 rises, (200) moves to lower angle, (220) to "
                "higher, "
                "(111) barely moves at low conversion; rock-salt shell - all peaks to higher angle, "
                "I111/I200 falls. "
                "Measured particles: the standard deviation of I111/I200 and of each position over copies "
                "perturbed within the stated precision."
            ),
        ),
        "xrd_bulk_reference": (
            reference,
            (
                "I111/I200 of the bulk references from m |F_hkl|^2 (1 + cos^2 2theta)/(sin^2 theta cos "
                "theta) "
                f"(Waasmaier-Kirfel form factors, no Debye-Waller factor, {settings.wavelength_a} A), "
                "next to the "
                "powder-file values the cation-exchange study quotes."
            ),
        ),
        "particle_strain": (
            strain,
            (
                "Strain against distance from the centre, in 2.5 A shells, against the ideal lattice of "
                "the core (built particles) or of the bulk named in the config (measured ones): mean bond "
                "length and bond strain (mean hetero-atomic bond / ideal bond - 1); the per-atom strain "
                "tensor from the least-squares deformation gradient of each atom's first two neighbour "
                "shells (orientation fitted), as its trace (volumetric) and radial component. Measured "
                "particles: spread over copies perturbed within the stated precision (Gaussian, 3D rms = "
                "precision)."
            ),
        ),
        "particle_vacancies": (
            pd.DataFrame(vacancies or []),
            (
                "One vacancy per outer-surface site class (species, hetero-atomic coordination CN) of each "
                "MLIP-relaxed particle, the particle relaxed around it with the same potential (atoms beyond "
                "frozen_beyond_a held). Removal energy = E(particle with vacancy) - E(particle), the atom "
                "taken "
                "to the potential's zero: only the differences between classes of one particle are physical "
                "(relative to the lowest class); an absolute formation energy needs the species' chemical "
                "potential, which the study does not compute for particles."
            ),
        ),
    }


def _spread_over_copies(name: str, atoms: Atoms, copies: list[Atoms], settings: XrdSettings) -> pd.Series:
    """Standard deviation of I111/I200 and of each peak position over the perturbed copies."""
    rows = []
    for copy in copies:
        peaks = pd.DataFrame(
            peak_rows(name, particle_pattern(copy, settings), _lattices(atoms), settings, diameter_a(atoms))
        )
        rows.append(
            ratio_columns(peaks)
            | {f"Q{r}": q for r, q in zip(peaks["reflection"], peaks["Q (1/A)"], strict=True)}
        )
    return pd.DataFrame(rows).std()


def _lattices(atoms: Atoms) -> list[float]:
    """The distinct lattice parameters of a particle's phases (the reflection windows span them)."""
    return sorted(set(info_values(atoms, "lattices_a")))
