"""Figures of the particles: powder patterns per series, peak trends against conversion, bond strain."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from nanophase.figures import _save  # noqa: E402
from nanophase.outputs import PARTICLE_FIGURE_STEMS  # noqa: E402, F401 - the figures it draws
from nanophase.tables import read_table  # noqa: E402


def _empty(ax: plt.Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def write_particle_figures(
    tables: Path, patterns: dict[str, pd.DataFrame], outdir: Path, what: str
) -> list[Path]:
    """Draw the particle figures from the tables and the pattern CSVs; return the written paths.

    Args:
        what: what the patterns include (XrdSettings.describe), for the figure titles.
    """
    particles = read_table(tables / "particles.csv")
    series = read_table(tables / "xrd_series.csv")
    strain = read_table(tables / "particle_strain.csv")
    paths: list[Path] = []

    # patterns: one panel per series, offset by conversion
    groups = list(particles.groupby("series")) if not particles.empty else []
    fig, axes = plt.subplots(1, max(len(groups), 1), figsize=(5 * max(len(groups), 1), 4.5), squeeze=False)
    if not groups:
        _empty(axes[0, 0], "no particles in this study")
    for ax, (name, members) in zip(axes[0], groups, strict=False):
        members = members.sort_values("conversion fraction")
        for offset, (_, row) in enumerate(members.iterrows()):
            pattern = patterns[row["particle"]]
            y = pattern["diffractometer intensity (e^2)"] / pattern["diffractometer intensity (e^2)"].max()
            ax.plot(pattern["2theta (deg)"], y + offset * 0.6, lw=0.8,
                    label=f"{row['conversion fraction']:.2f} ({row['atoms']} atoms)")  # fmt: skip
        ax.set_title(str(name), fontsize=9)
        ax.set_xlabel("2theta (deg)")
        ax.set_ylabel("intensity / max, offset by conversion")
        ax.legend(fontsize=6, title="conversion", title_fontsize=6)
    fig.suptitle(what, fontsize=5, wrap=True)
    paths += _save(fig, outdir / "xrd_patterns")

    # trends against conversion: I111/I200 and each peak position, every series side by side
    fig, axes = plt.subplots(1, 4, figsize=(16, 4))
    if series.empty:
        for ax in axes:
            _empty(ax, "no conversion series")
    for name, members in series.groupby("series") if not series.empty else []:
        members = members.sort_values("conversion fraction")
        x = members["conversion fraction"]
        (line,) = axes[0].plot(x, members["I111/I200 heights"], "o-", label=f"{name} (heights)")
        axes[0].plot(
            x, members["I111/I200 integrated"], "s--", color=line.get_color(), label=f"{name} (integrated)"
        )
        for ax, reflection in zip(axes[1:], ("(111)", "(200)", "(220)"), strict=True):
            column = f"Q{reflection} (1/A)"
            if column in members:
                ax.plot(x, members[column], "o-", color=line.get_color(), label=str(name))
                split = members[members[f"{reflection} split"].str.startswith("split")]
                ax.plot(split["conversion fraction"], split[column], "x", color="k", ms=9)
            ax.set_title(f"{reflection} position (x: split)", fontsize=9)
            ax.set_ylabel("Q (1/A)")
    axes[0].set_ylabel("I111/I200")
    for ax in axes:
        ax.set_xlabel("conversion fraction")
    if axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(fontsize=6)
    paths += _save(fig, outdir / "xrd_trends")

    # volumetric strain against radius: measured particles, and per series the member nearest half
    # conversion with its relaxed version when there is one
    fig, ax = plt.subplots(figsize=(6, 4.5))
    shown = _strain_particles(particles)
    if strain.empty or not shown:
        _empty(ax, "no particle")
    for name in shown:
        # shells of a handful of atoms (the ragged edge of a relaxed surface) are in the table only
        rows = strain[(strain["particle"] == name) & (strain["atoms"] >= 10)]
        centre = (rows["r from (A)"] + rows["r to (A)"]) / 2 / 10
        spread = rows["volumetric strain spread over copies (%)"].fillna(0.0)
        ax.errorbar(
            centre, rows["volumetric strain (%)"], yerr=spread, fmt="o-", capsize=2, ms=3, label=str(name)
        )
    ax.set_xlabel("distance from centre (nm)")
    ax.set_ylabel("volumetric strain against the core / reference lattice (%)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6)
    paths += _save(fig, outdir / "particle_strain")
    return paths


def _strain_particles(particles: pd.DataFrame) -> list[str]:
    """Measured particles, and per series the member nearest 50 % conversion (relaxed ones included)."""
    if particles.empty:
        return []
    chosen = list(particles.loc[particles["kind"] == "measured", "particle"])
    for _, members in particles[particles["kind"] != "measured"].groupby("series"):
        distance = (members["conversion fraction"] - 0.5).abs()
        chosen.append(members.loc[distance.idxmin(), "particle"])
    return chosen
