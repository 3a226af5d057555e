"""Reading and writing structures (extended XYZ with per-atom layers and constraints) and the index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from ase import Atoms
from ase.io import read, write

from nanophase.layers import in_plane_area_a2
from nanophase.safe_write import atomic_path

# columns computed from the structure, then metadata the builders put into `info` as they are
COMPUTED_COLUMNS = ["name", "family", "path", "formula", "n_atoms", "parent", "n_removed", "removed_species",
                    "concentration", "n_layers", "n_monolayers", "area_a2", "faces"]  # fmt: skip
INFO_COLUMNS = ["series", "depth", "configuration", "n_distinct", "n_kept", "phase", "surface", "supercell",
                "termination", "n_rocksalt", "n_zincblende"]  # fmt: skip
INDEX_COLUMNS = COMPUTED_COLUMNS + INFO_COLUMNS + ["fixed_layers", "n_fixed", "bulk"]


def write_structure(atoms: Atoms, path: str | Path) -> None:
    """Write extended XYZ atomically: a reader never sees a half-written file."""
    with atomic_path(path) as tmp:
        write(tmp, atoms, format="extxyz")


def read_structure(path: str | Path) -> Atoms:
    """Read one structure written by write_structure (layers, constraints and info kept)."""
    return read(path, format="extxyz")


def n_fixed(atoms: Atoms) -> int:
    return sum(len(c.index) for c in atoms.constraints if hasattr(c, "index"))


def index_row(atoms: Atoms, path: str | Path) -> dict:
    """One row of the structure index, from the structure and its metadata."""
    info = atoms.info
    symbols = atoms.get_chemical_symbols()
    family = info.get("family", "bulk")
    row = {
        "name": info.get("name", Path(path).stem),
        "family": family,
        "path": str(path),
        "formula": atoms.get_chemical_formula(mode="metal"),
        "n_atoms": len(atoms),
        "parent": info.get("parent", info.get("bulk", "")) if family != "bulk" else "",
        "n_removed": int(info.get("n_removed", 0)),
        "removed_species": info.get("removed_species", ""),
        "concentration": float(info.get("concentration", 0.0)),
        "n_layers": int(info.get("n_layers", 0)),
        "n_monolayers": int(info.get("n_monolayers", 0)),
        "area_a2": in_plane_area_a2(atoms) if family != "bulk" else np.nan,
        "faces": info.get("faces", ""),
        "fixed_layers": str(info.get("fixed_layers", "")),
        "n_fixed": n_fixed(atoms),
    }
    for key in [*INFO_COLUMNS, "bulk"]:
        row.setdefault(key, info.get(key, ""))
    if family == "bulk":
        row["phase"] = info.get("prototype", "")
    for element in sorted(set(symbols)):
        row[f"n_{element}"] = symbols.count(element)
    return row


def structure_index(paths: list[str | Path]) -> pd.DataFrame:
    """The index of every structure of a study, one row per file, read back from the files."""
    rows = [index_row(read_structure(p), p) for p in paths]
    frame = pd.DataFrame(rows)
    element_columns = sorted(c for c in frame.columns if c not in INDEX_COLUMNS)
    frame[element_columns] = frame[element_columns].fillna(0).astype(int)
    return frame[INDEX_COLUMNS + element_columns]
