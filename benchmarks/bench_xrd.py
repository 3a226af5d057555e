"""Benchmark: the Debye-scattering powder pattern of a 7 nm (about 7000-atom) PbS@CdS particle.

Prints a table and writes it to benchmarks/results/xrd.md. Run from the repository root:

    .venv/bin/python benchmarks/bench_xrd.py

Measured in the same run: nanophase.xrd (pair histogram + one sine per (Q, occupied distance), by
recurrence on the uniform Q grid), the baseline the issue sets (a plain numpy Debye sum over a
histogram of pair distances: np.histogram per species pair, np.sinc over every bin), and the
maintained DebyeCalculator on CPU when installed. The binning error is measured against the exact
double sum (bin width 0) at Q points around the (111), (200) and (220) peaks.
"""

from __future__ import annotations

import datetime
import os
import platform
import warnings

import numpy as np
from _publish import publish
from bench_structures import timed as best_of  # best wall time of `repeat` calls, and the result
from scipy.spatial.distance import cdist, pdist

from nanophase.bulk import read_bulk
from nanophase.particles import build_particle, particle_specs
from nanophase.powder import XrdSettings
from nanophase.xrd import debye_intensity, form_factor, pair_histogram

REPO = __import__("pathlib").Path(__file__).resolve().parents[1]


def plain_histogram_debye(atoms, q, bin_width_a=1e-3):
    """The baseline: per species pair np.histogram of the distances, then np.sinc over all bins."""
    symbols = np.array(atoms.get_chemical_symbols())
    species = sorted(set(symbols))
    r_max = pdist(atoms.positions[[0, 1]]).max() + 2 * np.linalg.norm(atoms.positions, axis=1).max() + 1
    edges = np.arange(0.0, r_max + bin_width_a, bin_width_a)
    centres = (edges[:-1] + edges[1:]) / 2
    intensity = sum((symbols == s).sum() * form_factor(s, q) ** 2 for s in species)
    for i, a in enumerate(species):
        for b in species[i:]:
            pa, pb = atoms.positions[symbols == a], atoms.positions[symbols == b]
            d = pdist(pa) if a == b else cdist(pa, pb).ravel()
            counts, _ = np.histogram(d, bins=edges)
            keep = counts > 0  # without this the sum runs over ~70 000 bins per pair
            weight = 2 * form_factor(a, q) * form_factor(b, q)
            intensity = intensity + weight * (np.sinc(np.outer(q, centres[keep]) / np.pi) @ counts[keep])
    return intensity


def exact_double_sum(atoms, q, block=512):
    """sum_i f_i^2 + 2 sum_{i<j} f_i f_j sinc(Q r_ij) pair by pair (streamed in blocks): the reference."""
    symbols = np.array(atoms.get_chemical_symbols())
    factors = {s: form_factor(s, q) for s in set(symbols)}
    f = np.array([factors[s] for s in symbols])  # (N, nQ)
    intensity = (f**2).sum(axis=0)
    positions = atoms.positions
    for i0 in range(0, len(atoms), block):
        rows = slice(i0, min(i0 + block, len(atoms)))
        d = cdist(positions[rows], positions[i0:])
        d[np.tril_indices(d.shape[0], k=0, m=d.shape[1])] = np.nan  # each pair once, no self pairs
        for k, qk in enumerate(q):
            s = np.sin(qk * d) / (qk * d)
            intensity[k] += 2 * np.nansum((f[rows, k][:, None] * f[i0:, k][None, :]) * s)
    return intensity


def main() -> None:
    bulks = {
        k: read_bulk(REPO / "structures" / "bulk" / f"{k}.cif", name=k)
        for k in ("PbS-rs", "CdS-zb", "CdS-rs")
    }
    prototypes = {k: b.info["prototype"] for k, b in bulks.items()}
    spec = particle_specs(
        {
            "bench": {
                "kind": "core_shell",
                "core": "PbS-rs",
                "shell": "CdS-zb",
                "diameter_nm": 7.1,
                "conversions": [0.5],
            }
        },
        prototypes,
    )[0]
    atoms = build_particle(spec, bulks)
    settings = XrdSettings()
    q = settings.q_grid()

    t_hist, histogram = best_of(lambda: pair_histogram(atoms, settings.bin_width_a))
    t_sum, ours = best_of(lambda: debye_intensity(histogram, q))
    t_ours = t_hist + t_sum
    t_plain, plain = best_of(lambda: plain_histogram_debye(atoms, q), repeat=1)

    # binning error: the exact double sum at 30 Q points across the first three peaks
    probe = np.linspace(1.7, 3.2, 30)
    exact = exact_double_sum(atoms, probe)
    binned = debye_intensity(histogram, probe)
    error = np.max(np.abs(binned / exact - 1))
    error_of_peak = np.max(np.abs(binned - exact)) / np.max(exact)

    rows = [
        ("particle", f"PbS@CdS zinc blende shell, 7.1 nm, 50 % conversion: {len(atoms)} atoms", ""),
        (
            "pattern grid",
            f"{len(q)} Q points, 2theta {settings.two_theta_deg[0]:g}-{settings.two_theta_deg[1]:g} deg "
            "(Cu Ka)",
            "",
        ),
        (
            "nanophase: pair histogram",
            f"{t_hist:.2f} s",
            f"{len(histogram.distances_a)} occupied {settings.bin_width_a} A bins",
        ),
        (
            "nanophase: Debye sum",
            f"{t_sum:.2f} s",
            "one sine per (Q, distance), shared by the 6 species pairs",
        ),
        ("nanophase: pattern, total", f"{t_ours:.2f} s", "goal <= 5 s"),
        (
            "baseline: plain numpy histogram Debye sum",
            f"{t_plain:.2f} s",
            f"{t_plain / t_ours:.1f}x nanophase; agrees to {np.max(np.abs(plain / ours - 1)):.1e}",
        ),
        (
            "binning error vs exact double sum",
            f"{error:.1e} ({error_of_peak:.1e} of the strongest peak)",
            "max relative, 30 Q points 1.7-3.2 1/A; the error falls linearly with xrd.bin_width_a",
        ),
    ]
    try:
        from debyecalculator import DebyeCalculator

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            calc = DebyeCalculator(
                qmin=float(q[0]),
                qmax=float(q[-1]) + 1e-6,
                qstep=settings.q_step_inv_a,
                biso=0.0,
                device="cpu",
            )
            t_dc, _ = best_of(lambda: calc.iq(atoms), repeat=1)
        rows.append(
            ("DebyeCalculator 1.1 (CPU, float32)", f"{t_dc:.2f} s", f"{t_dc / t_ours:.1f}x nanophase")
        )
    except ImportError:
        rows.append(("DebyeCalculator", "not installed", "pip install -e .[dev]"))

    machine = f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cores)"
    lines = [
        f"# XRD benchmark, {datetime.date.today()}, {machine}",
        "",
        "| step | time | note |",
        "|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    publish(lines, "xrd")


if __name__ == "__main__":
    main()
