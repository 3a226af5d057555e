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
from nanophase.outputs import FIGURE_STEMS  # noqa: E402, F401 - the figures write_figures draws
from nanophase.tables import read_table  # noqa: E402

SERIES_MARKERS = {"pristine": "*", "surface-top": "o", "surface-both": "D", "layer": "s", "depth": "v",
                  "after-layer": "X"}  # fmt: skip
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
    """E_max vs. voltage for Se, Cd, S and Pb; the T_d of each surface site (sputtering through its face)
    as a horizontal line. Sites without T_d, and sites below the surface (Frenkel pairs, not sputtering),
    are not drawn: a static E_f is no threshold."""
    fig, ax = plt.subplots(figsize=(5.0, 3.8))
    voltages = np.linspace(1.0, max_kv, 400)
    for element in KNOCKON_ELEMENTS:
        ax.plot(voltages, [max_transfer_ev(v, element) for v in voltages], label=f"E_max {element}")
    drawn = sites.drop_duplicates("structure") if not sites.empty else sites
    if not drawn.empty:
        drawn = drawn[(drawn["depth"] == 0) & drawn["T_d (eV)"].notna()]
    for (_, site), style in zip(drawn.iterrows(), ("--", ":", "-.", (0, (5, 1))) * len(drawn), strict=False):
        ax.axhline(site["T_d (eV)"], color="k", lw=0.8, ls=style,
                   label=f"T_d {site['phase']} {site['site']} ({site['T_d (eV)']:.2f} eV)")  # fmt: skip
    for voltage in (80, 200, 300):
        ax.axvline(voltage, color="0.7", lw=0.6)
    ax.set(xlabel="accelerating voltage (kV)", ylabel="energy (eV)", xlim=(0, max_kv), ylim=(0, None))
    ax.legend(fontsize=6, loc="upper left")
    return _save(fig, stem)


def beam_damage_figure(thresholds: pd.DataFrame, settings, stem: Path, max_kv: float = 400.0) -> list[Path]:
    """Per kicked site: the thermal Mott sputtering cross-section and the time to remove the configured
    fraction, against voltage every 10 kV (nanophase.beam.beam_damage), the studies' 80/200/300 kV marked."""
    from nanophase.beam import beam_damage

    damage = beam_damage(thresholds, tuple(np.arange(50.0, max_kv + 1, 10.0)), settings)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5.0, 5.6), sharex=True)
    for (sheet, site), curve in damage.groupby(["sheet", "site"]):
        curve = curve.sort_values("voltage (kV)")
        label = f"{sheet}: {site}"
        sigma = curve["sigma sputtering Mott thermal (barn)"]
        top.plot(curve["voltage (kV)"], sigma, label=label)
        finite = curve[np.isfinite(curve["time to remove (s)"].astype(float))]
        bottom.semilogy(finite["voltage (kV)"], finite["time to remove (s)"], label=label)
    for ax in (top, bottom):
        for voltage in (80, 200, 300):
            ax.axvline(voltage, color="0.7", lw=0.6)
    top.set(ylabel="sputtering sigma, Mott thermal (barn)")
    bottom.set(xlabel="accelerating voltage (kV)",
               ylabel=f"time to remove {100 * settings.removed_fraction:g} % (s)")  # fmt: skip
    top.legend(fontsize=6)
    return _save(fig, stem)


def energy_per_atom_figure(stability: pd.DataFrame, stem: Path) -> list[Path]:
    """The study's measure, dE/atom vs. Se-defect concentration, one line per phase and series.

    Each curve is relative to its own phase's pristine sheet: it shows the cost of the loss, not which
    phase is lower (see phase_competition).
    """
    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    implied = next(c for c in stability.columns if c.endswith("at mu_bar (eV)"))
    for (phase, series), curve in stability.groupby(["phase", "series"]):
        color, _ = PHASE_STYLE.get(phase, ("k", "^"))
        curve = curve.sort_values("concentration")
        # the measure is a formation energy at mu_bar: say where that mu sits
        label = f"{phase} {series} ({implied.split(' at')[0]} at mu_bar {curve[implied].iloc[0]:+.2f} eV)"
        ax.plot(curve["concentration"], curve["dE (meV/atom)"], marker=SERIES_MARKERS.get(series, "^"),
                color=color, label=label, ls="-" if series == "surface-top" else "--")  # fmt: skip
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set(xlabel="Se-defect concentration", ylabel="E/atom - E/atom(own pristine) (meV)")
    ax.legend(fontsize=6)
    return _save(fig, stem)


def _not_computed(frame: pd.DataFrame, stem: Path) -> list[Path] | None:
    """A figure that says why there is no comparison, when the table says so."""
    if "comparison" not in frame.columns:
        return None
    fig, ax = plt.subplots(figsize=(4.5, 2.0))
    ax.axis("off")
    ax.text(0.5, 0.5, str(frame["comparison"].iloc[0]), ha="center", va="center", wrap=True, fontsize=8)
    return _save(fig, stem)


def phase_competition_figure(table: pd.DataFrame, stem: Path, measured_ratio: float = 0.8) -> list[Path]:
    """Energy per Cd vs. Se/Cd: every sheet as a point, each phase's lower hull, one panel per thickness."""
    empty = _not_computed(table, stem)
    if empty is not None:
        return empty
    x_col = next(c for c in table.columns if "/" in c and not c.startswith(("e ", "n_")) and "(" not in c)
    e_col = next(c for c in table.columns if c.startswith("e per "))
    thicknesses = sorted(table["monolayers"].unique())
    fig, axes = plt.subplots(1, len(thicknesses), figsize=(6.4 * len(thicknesses), 3.8), squeeze=False)
    for ax, monolayers in zip(axes[0], thicknesses, strict=True):
        sheets = table[table["monolayers"] == monolayers]
        for phase, points in sheets.groupby("phase"):
            color, _ = PHASE_STYLE.get(phase, ("k", "^"))
            hull = points[points["on hull"] == "yes"].sort_values(x_col)
            ax.plot(hull[x_col], hull[e_col], color=color, lw=1.2, label=f"{phase} hull")
            for series, group in points.groupby(points["series"].str.split(";").str[0]):
                ax.scatter(group[x_col], group[e_col], color=color, marker=SERIES_MARKERS.get(series, "^"),
                           s=22, label=f"{phase} {series}", zorder=3)  # fmt: skip
        ax.axvline(measured_ratio, color="0.4", ls=":", lw=1.0, label=f"measured (EDS) {measured_ratio:g}")
        ax.set(
            xlabel=x_col, ylabel=f"{e_col.replace('e per', 'energy per')}", title=f"{monolayers} ML sheets"
        )
        ax.legend(fontsize=5.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _save(fig, stem)


def phase_map_figure(mu_map: pd.DataFrame, stem: Path) -> list[Path]:
    """Grand-potential view: each phase's equilibrium Se/Cd vs. dmu_Se, the favoured phase shaded."""
    empty = _not_computed(mu_map, stem)
    if empty is not None:
        return empty
    dmu = next(c for c in mu_map.columns if c.startswith("dmu_"))
    phases = sorted(c.removesuffix(" sheet") for c in mu_map.columns if c.endswith(" sheet"))
    thicknesses = sorted(mu_map["monolayers"].unique())
    fig, axes = plt.subplots(1, len(thicknesses), figsize=(4.8 * len(thicknesses), 3.6), squeeze=False)
    for ax, monolayers in zip(axes[0], thicknesses, strict=True):
        view = mu_map[mu_map["monolayers"] == monolayers].sort_values(dmu)
        for phase in phases:
            color, _ = PHASE_STYLE.get(phase, ("k", "^"))
            ratio = next(
                c for c in view.columns if c.startswith(f"{phase} ") and "/" in c and "omega" not in c
            )
            # a row at a tangent reports the Se-poorer sheet: each value holds up to its own dmu ("pre")
            ax.step(view[dmu], view[ratio], where="pre", color=color, label=f"{phase} equilibrium sheet")
            favoured = view["favoured phase"] == phase
            ax.fill_between(view[dmu], 0, 1, where=favoured, step="pre", color=color, alpha=0.12,
                            transform=ax.get_xaxis_transform(), label=f"{phase} favoured")  # fmt: skip
        ax.set(xlabel=f"{dmu}  [Cd-rich ... Se-rich]", ylabel="Se/Cd of the equilibrium sheet",
               title=f"{monolayers} ML sheets")  # fmt: skip
        ax.legend(fontsize=6)
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
            ax.annotate(
                f"{row['n_rs']}rs+{row['n_zb']}zb",
                (row["n_rs"] + row["n_zb"], row["E_int (meV/A^2)"]),
                fontsize=7,
                xytext=(4, 2),
                textcoords="offset points",
            )
        ax.set_xticks(sorted(monolayers.unique()))
    ax.set(xlabel="CdS monolayers", ylabel="interface energy (meV/A$^2$)")
    ax.legend()
    return _save(fig, stem)


def convergence_figure(table: pd.DataFrame, stem: Path) -> list[Path]:
    """One panel per convergence series (table convergence): the quantity at each value, the tolerance
    as a band around the last value, the study's setting dotted."""
    n = max(len(table), 1)
    columns = min(n, 3)
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.3 * columns, 2.6 * rows), squeeze=False)
    for ax, (_, row) in zip(axes.flat, table.iterrows(), strict=False):
        labels = str(row["values"]).split(" / ")
        results = [float(x) for x in str(row["results"]).split(" / ")]
        x = np.arange(len(labels))
        ax.axhspan(results[-1] - row["tolerance"], results[-1] + row["tolerance"], color="0.9")
        ax.plot(x, results, "o-", color="tab:green" if row["tier"] == "potential" else "tab:purple")
        if row["study setting"] in labels:
            ax.axvline(labels.index(row["study setting"]), color="k", ls=":", lw=1)
        ax.set_xticks(x, labels)
        ax.set_xlabel(f"{row['parameter']} ({row['tier']})")
        ax.set_title(str(row["quantity"]), fontsize=8)
    for ax in list(axes.flat)[len(table) :]:
        ax.axis("off")
    return _save(fig, stem)


def write_figures(tables: str | Path, outdir: str | Path, measured_ratio: float = 0.8) -> list[Path]:
    """Every figure from the tables in `tables` (results/tables); the measured Se/Cd marked."""
    tables, outdir = Path(tables), Path(outdir)

    def read(stem: str) -> pd.DataFrame:
        return read_table(tables / f"{stem}.csv")

    return [
        *knockon_figure(read("knockon_sites"), outdir / "knockon"),
        *energy_per_atom_figure(read("phase_stability"), outdir / "energy_per_atom"),
        *formation_energy_figure(read("formation_energy_scan"), outdir / "formation_energy_mu"),
        *phase_competition_figure(read("phase_competition"), outdir / "phase_competition", measured_ratio),
        *phase_map_figure(read("phase_map"), outdir / "phase_map"),
        *interface_energy_figure(read("interface_energies"), outdir / "interface_energy"),
    ]
