#!/usr/bin/env bash
# One-shot set-up on a fresh Debian/Ubuntu machine: the system libraries GPAW is compiled against
# (apt, when root and missing), then .venv with GPAW (MPI build), the nanophase library, Snakemake and
# its SLURM executor plugin. Safe to re-run: steps already done are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
APT_PACKAGES=(libxc-dev libopenblas-dev openmpi-bin libopenmpi-dev libfftw3-dev libscalapack-openmpi-dev)

missing=()
if command -v dpkg-query >/dev/null; then
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
fi
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: missing system packages, install them (as root) and rerun: ${missing[*]}" >&2
        exit 1
    fi
    echo "setup: installing system libraries for GPAW: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip

# GPAW compiles against the MPI/BLAS/libxc/ScaLAPACK above (scripts/gpaw-siteconfig.py).
# --no-cache-dir: a cached wheel may be a serial or ScaLAPACK-less build.
GPAW_READY="import _gpaw; assert hasattr(_gpaw, 'Communicator') and hasattr(_gpaw, 'new_blacs_context')"
if ! "$VENV/bin/python" -c "$GPAW_READY" 2>/dev/null; then
    echo "setup: building GPAW from source with MPI and ScaLAPACK (a few minutes)"
    GPAW_CONFIG="$PWD/scripts/gpaw-siteconfig.py" \
        "$VENV/bin/python" -m pip install -q --no-cache-dir --force-reinstall --no-deps gpaw
    "$VENV/bin/python" -m pip install -q gpaw
fi
# the CPU build of torch first: resolved as a dependency of the mlip extra, pip would take the CUDA one
"$VENV/bin/python" -m pip install -q torch==2.13.0
"$VENV/bin/python" -m pip install -q -e ".[gpaw,dev,mlip]"
echo "setup: ready ($("$VENV/bin/python" -c 'import gpaw, snakemake; import torch, chgnet, sevenn; print("gpaw", gpaw.__version__, "| snakemake", snakemake.__version__, "| torch", torch.__version__, "| chgnet", chgnet.__version__)'))"
