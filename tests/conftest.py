"""Shared fixtures: the curated bulk references and paths of the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from nanophase.bulk import read_bulk

REPO = Path(__file__).resolve().parents[1]
BULK_DIR = REPO / "structures" / "bulk"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def bulk():
    """Conventional cells of every curated bulk reference, by name (read once per session)."""
    return {path.stem: read_bulk(path) for path in sorted(BULK_DIR.glob("*.cif"))}
