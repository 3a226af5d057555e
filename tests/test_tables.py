"""Paper tables: the three formats carry the same numbers, units stay in the headers."""

from __future__ import annotations

import pandas as pd

from nanophase.knockon import max_transfer_ev
from nanophase.tables import write_table


def test_knock_on_table_in_three_formats(tmp_path):
    frame = pd.DataFrame({"element": ["Se", "S"], "voltage_kV": [200, 200],
                          "E_max_eV": [max_transfer_ev(200, "Se"), max_transfer_ev(200, "S")]})  # fmt: skip
    csv, md, tex = write_table(frame, tmp_path / "knock_on", "Maximum transferred energy (exact kinematics)")
    again = pd.read_csv(csv)
    assert again["E_max_eV"].tolist() == frame["E_max_eV"].tolist()  # CSV keeps full precision
    markdown = md.read_text().splitlines()
    assert markdown[0] == "Maximum transferred energy (exact kinematics)"
    assert markdown[2] == "| element | voltage_kV | E_max_eV |"
    assert markdown[4] == "| Se | 200 | 6.645 |"
    latex = tex.read_text()
    assert r"\toprule" in latex and r"\midrule" in latex and r"\bottomrule" in latex
    assert r"E\_max\_eV" in latex and r"Se & 200 & 6.645 \\" in latex
    assert r"\label{tab:knock_on}" in latex
