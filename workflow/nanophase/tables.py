"""Paper tables: one pandas frame written as CSV, Markdown and LaTeX (booktabs), units in the headers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def _latex_escape(text: str) -> str:
    for char, escaped in (
        ("\\", r"\textbackslash{}"),
        ("&", r"\&"),
        ("%", r"\%"),
        ("_", r"\_"),
        ("#", r"\#"),
    ):
        text = text.replace(char, escaped)
    return text


def to_markdown(frame: pd.DataFrame, caption: str, float_format: str = "{:.3f}") -> str:
    """A GitHub-flavoured Markdown table with its caption as the first line."""
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = [
        "| " + " | ".join(float_format.format(v) if isinstance(v, float) else str(v) for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([f"{caption}", "", header, rule, *rows, ""])


def to_latex(frame: pd.DataFrame, caption: str, label: str, float_format: str = "{:.3f}") -> str:
    """A booktabs table (\\toprule, \\midrule, \\bottomrule) in a table environment with caption and label."""
    columns = "l" * len(frame.columns)
    header = " & ".join(_latex_escape(str(c)) for c in frame.columns) + r" \\"
    rows = [
        " & ".join(float_format.format(v) if isinstance(v, float) else _latex_escape(str(v)) for v in row)
        + r" \\"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([
        r"\begin{table}", r"\centering", rf"\caption{{{_latex_escape(caption)}}}", rf"\label{{{label}}}",
        rf"\begin{{tabular}}{{{columns}}}", r"\toprule", header, r"\midrule", *rows, r"\bottomrule",
        r"\end{tabular}", r"\end{table}", "",
    ])  # fmt: skip


def write_table(
    frame: pd.DataFrame, stem: str | Path, caption: str, float_format: str = "{:.3f}"
) -> list[Path]:
    """Write `stem`.csv (full precision), `stem`.md and `stem`.tex; return the paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".csv"), stem.with_suffix(".md"), stem.with_suffix(".tex")]
    frame.to_csv(paths[0], index=False)
    paths[1].write_text(to_markdown(frame, caption, float_format))
    paths[2].write_text(to_latex(frame, caption, f"tab:{stem.name}", float_format))
    return paths


def read_table(path: str | Path) -> pd.DataFrame:
    """A table written by write_table; a study without that part (e.g. no interfaces) reads as empty."""
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
