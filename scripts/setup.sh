#!/usr/bin/env bash
# One-shot set-up on a fresh Debian/Ubuntu machine: system libraries for GPAW (when root and missing),
# a .venv with the project, GPAW, snakemake and the SLURM executor plugin. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
APT_PACKAGES=(libxc-dev libopenblas-dev openmpi-bin libopenmpi-dev libfftw3-dev libscalapack-openmpi-dev)

missing_apt_packages() {
    local pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
    done
}

if command -v dpkg-query >/dev/null; then
    missing=$(missing_apt_packages)
    if [ -n "$missing" ]; then
        if [ "$(id -u)" -eq 0 ]; then
            echo "setup: installing system libraries for GPAW: $missing"
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
        else
            echo "setup: missing system packages (run as root or install them): $missing" >&2
            exit 1
        fi
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip

# GPAW is compiled against the system MPI/BLAS/libxc; skip the build when it already imports with MPI.
if ! "$VENV/bin/python" -c "import gpaw, _gpaw; assert _gpaw.have_mpi" 2>/dev/null; then
    echo "setup: building GPAW from source (a few minutes)"
    "$VENV/bin/python" -m pip install -q --no-cache-dir gpaw
fi
"$VENV/bin/python" -m pip install -q -e ".[dev]"
echo "setup: done ($("$VENV/bin/python" -c 'import gpaw; print("gpaw", gpaw.__version__)'))"
