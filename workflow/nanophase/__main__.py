"""Command line: `python -m nanophase ...` (also under `gpaw python -m nanophase ...` for MPI)."""

from nanophase.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
