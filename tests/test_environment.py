"""The installed DFT code: GPAW with MPI and the PAW setups and basis sets of every element, offline."""

from __future__ import annotations

import pytest

gpaw = pytest.importorskip("gpaw", reason="GPAW is installed by scripts/setup.sh")


def test_gpaw_is_built_with_mpi_and_scalapack():
    import _gpaw

    assert hasattr(_gpaw, "Communicator"), "serial GPAW build: rerun scripts/setup.sh (pip --no-cache-dir)"
    # plane-wave runs on several ranks distribute matrices with BLACS/ScaLAPACK
    assert hasattr(_gpaw, "new_blacs_context"), "GPAW without ScaLAPACK: rerun scripts/setup.sh"


@pytest.mark.parametrize("element", ["Cd", "Se", "Pb", "S"])
def test_pbe_setup_and_dzp_basis_are_found_without_download(element):
    found = {path.name for folder in gpaw.setup_paths for path in folder.glob(f"{element}.*")}
    assert f"{element}.PBE.gz" in found
    assert f"{element}.dzp.basis.gz" in found


def test_torch_for_the_potentials_is_the_cpu_build():
    """The mlip extra must not drag in the CUDA build (several GB) on a laptop or CI machine."""
    torch = pytest.importorskip("torch", reason="the optional mlip extra is not installed")
    assert torch.__version__.startswith("2.13.0"), torch.__version__
    assert torch.version.cuda is None
