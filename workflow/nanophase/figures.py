"""The paper's figures, drawn from the tables (CSV) so that a figure never shows a number the tables lack.

Each figure is written as PNG (300 dpi) and PDF.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on a cluster node
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from nanophase.analysis import KNOCKON_ELEMENTS  # noqa: E402
from nanophase.knockon import max_transfer_ev  # noqa: E402
from nanophase.tables import read_table  # noqa: E402

FIGURE_STEMS = ("knockon", "energy_per_atom", "formation_energy_mu", "interface_energy")
PHASE_STYLE = {"wurtzite": ("tab:blue", "o"), "zincblende": ("tab:red", "s")}


def _save(fig: plt.Figure, stem: Path) -> list[Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    fig.tight_layout()
    fig.savefig(paths[0], dpi=300)
    fig.savefig(paths[1])
    plt.close(fig)
    return paths


def knockon_figure(sites: pd.DataFrame, stem: Path, max_kv: float = 400.0) -> list[Path]:
    """E_max vs. voltage for Se, Cd, S and Pb; each computed site's E_d proxy as a horizontal line."""
    fig, ax = plt.subplots(figsize=(5.0, 3.8))
    voltages = np.linspace(1.0, max_kv, 400)
    for element in KNOCKON_ELEMENTS:
        ax.plot(voltages, [max_transfer_ev(v, element) for v in voltages], label=f"E_max {element}")
    if not sites.empty:
        proxies = sites.drop_duplicates("structure")
        for (_, site), style in zip(
            proxies.iterrows(), ("--", ":", "-.", (0, (5, 1))) * len(proxies), strict=False
        ):
            ax.axhline(site["E_d proxy (eV)"], color="k", lw=0.8, ls=style,
                       label=f"{site['phase']} {site['site']} ({site['E_d proxy (eV)']:.2f} eV)")  # fmt: skip
    ax.set(xlabel="accelerating voltage (kV)", ylabel="energy (eV)", xlim=(0, max_kv), ylim=(0, None))
    ax.legend(fontsize=6, loc="upper left")
    return _save(fig, stem)


def energy_per_atom_figure(stability: pd.DataFrame, stem: Path) -> list[Path]:
    """The study's measure: energy per atom relative to the pristine slab vs. Se-defect concentration."""
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    for phase, curve in stability.groupby("phase"):
        color, marker = PHASE_STYLE.get(phase, ("k", "^"))
        curve = curve.sort_values("concentration")
        ax.plot(curve["concentration"], curve["dE (meV/atom)"], marker=marker, color=color, label=phase)
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set(xlabel="Se-defect concentration", ylabel="E/atom - E/atom(pristine) (meV)")
    ax.legend()
    return _save(fig, stem)


def formation_energy_figure(scan: pd.DataFrame, stem: Path) -> list[Path]:
    """E_f per vacancy vs. the Se chemical potential, one line per vacancy structure."""
    dmu = next(c for c in scan.columns if c.startswith("dmu_"))
    fig, ax = plt.subplots(figsize=(5.0, 3.8))
    for (phase, structure), line in scan.groupby(["phase", "structure"], sort=False):
        color, _ = PHASE_STYLE.get(phase, ("k", "^"))
        label = structure.split("_v", 1)[-1]
        ax.plot(line[dmu], line["E_f (eV/vacancy)"], color=color, label=f"{phase} {label}",
                ls="-" if "top-1" in label or "depth" in label else "--")  # fmt: skip
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set(
        xlabel=f"{dmu.split(' ')[0].replace('_', ' ')} (eV)  [Cd-rich ... Se-rich]", ylabel="E_f (eV/vacancy)"
    )
    ax.legend(fontsize=6)
    return _save(fig, stem)


def interface_energy_figure(interfaces: pd.DataFrame, stem: Path) -> list[Path]:
    """Interface energy vs. shell monolayers: pure rock salt, pure zinc blende, and mixed stacks."""
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    if not interfaces.empty:
        monolayers = interfaces["n_rs"] + interfaces["n_zb"]
        rs = interfaces[interfaces["n_zb"] == 0].sort_values("n_rs")
        zb = interfaces[interfaces["n_rs"] == 0].sort_values("n_zb")
        mixed = interfaces[(interfaces["n_rs"] > 0) & (interfaces["n_zb"] > 0)]
        ax.plot(rs["n_rs"], rs["E_int (meV/A^2)"], "o-", label="rock salt")
        ax.plot(zb["n_zb"], zb["E_int (meV/A^2)"], "s-", label="zinc blende")
        for _, row in mixed.iterrows():
            ax.plot(row["n_rs"] + row["n_zb"], row["E_int (meV/A^2)"], "k^")
            ax.annotate(f"{row['n_rs']}rs+{row['n_zb']}zb", (row["n_rs"] + row["n_zb"], row["E_int (meV/A^2)"]),
                        fontsize=7, xytext=(4, 2), textcoords="offset points")  # fmt: skip
        ax.set_xticks(sorted(monolayers.unique()))
    ax.set(xlabel="CdS monolayers", ylabel="interface energy (meV/A$^2$)")
    ax.legend()
    return _save(fig, stem)


def write_figures(tables: str | Path, outdir: str | Path) -> list[Path]:
    """Every figure from the tables in `tables` (results/tables)."""
    tables, outdir = Path(tables), Path(outdir)

    def read(stem: str) -> pd.DataFrame:
        return read_table(tables / f"{stem}.csv")

    return [
        *knockon_figure(read("knockon_sites"), outdir / "knockon"),
        *energy_per_atom_figure(read("phase_stability"), outdir / "energy_per_atom"),
        *formation_energy_figure(read("formation_energy_scan"), outdir / "formation_energy_mu"),
        *interface_energy_figure(read("interface_energies"), outdir / "interface_energy"),
    ]
